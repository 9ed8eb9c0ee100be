"""Issue 3's post-input rows, one fixture file each (tests/fixtures/posts/)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedpub.config import build_config
from feedpub.posts import scan

FIXTURES = Path(__file__).parent / "fixtures" / "posts"

# file -> (severity, line, message fragment); None: published without any problem.
EXPECTED: dict[str, tuple[str, int | None, str] | None] = {
    "2024-01-01-invalid-utf8.md": ("error", 6, "invalid UTF-8 byte 0xE9"),
    "2024-01-02-bom-crlf.md": None,
    "2024-01-03-cr-only.md": None,
    "2024-01-04-never-closed.md": ("error", 1, "front matter opened here is never closed"),
    "2024-01-05-list-front-matter.md": ("error", 2, "front matter must be a mapping, got list"),
    "2024-01-06-scalar-front-matter.md": ("error", 2, "front matter must be a mapping, got text"),
    "2024-01-07-empty-front-matter.md": None,
    "2024-01-08-yaml-syntax-error.md": ("error", 4, "YAML syntax error"),
    "2024-01-09-billion-laughs.md": ("error", 3, "YAML alias '*a' is not allowed"),
    "2024-01-10-deep-nesting.md": ("error", 1, "nested more than"),
    "2024-01-11-python-tag.md": ("error", 2, "YAML tag !!python/object/apply:os.system is not allowed"),
    "2024-01-12-duplicate-keys.md": ("warning", 4, "duplicate key 'title' on lines 2 and 4"),
    "2024-01-13-coercions.md": None,
    "2024-01-14-bad-boolean.md": ("error", 3, "'draft' must be true or false, got text 'maybe'"),
    "2024-01-15-impossible-date.md": ("error", 3, "invalid date '2024-02-30' in 'date': day is out of range for month"),
    "2024-01-16-unparseable-date.md": ("error", 3, "invalid date 'next tuesday' in 'date'"),
    "2024-01-17-date-disagrees.md": ("notice", 3, "differs from the file name's (2024-01-17); the front matter wins"),
    "2024-01-18-control-chars.md": ("warning", 3, "removed characters XML 1.0 cannot carry"),
    "2024-01-19-title-number.md": None,
    "2024-01-21-brackets.md": None,
    "2024-01-22-traversal.md": ("error", 2, "climbs out of the site"),
    "2024-01-23-alias-bomb-nested.md": ("error", 3, "YAML alias '*x' is not allowed"),
    "2024-01-24-tab-indent-error.md": ("error", 3, "YAML syntax error"),
    "2024-01-25-yes-draft.md": None,
    "2024-01-26-sample-like.md": None,
}


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixtures")
    shutil.copytree(FIXTURES, root / "posts")
    config = build_config({"site": {"title": "T", "url": "https://example.com"}}, root=root)
    return scan(config, NOW)


def test_every_fixture_has_an_expectation():
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(site, name):
    relpath = f"posts/{name}"
    problems = [p for p in site.problems if p.path == relpath]
    published = {p.relpath for p in site.posts}
    skipped = dict(site.skipped)
    expected = EXPECTED[name]
    if expected is None:
        assert [p for p in problems if p.severity != "notice"] == []
        assert relpath in published or relpath in skipped
        return
    severity, line, fragment = expected
    matching = [p for p in problems if fragment in p.message]
    assert matching, f"no problem containing {fragment!r}; got {[str(p) for p in problems]}"
    assert matching[0].severity == severity
    assert matching[0].line == line
    assert str(matching[0]).startswith(f"{relpath}:{line}: ")
    if severity == "error":
        assert relpath not in published
    else:
        assert relpath in published


def test_invalid_utf8_message_format(site):
    (p,) = [p for p in site.problems if p.path == "posts/2024-01-01-invalid-utf8.md"]
    assert str(p) == "posts/2024-01-01-invalid-utf8.md:6: invalid UTF-8 byte 0xE9"


def test_bom_crlf_and_cr_read_like_plain_lf(site):
    by = {p.relpath: p for p in site.posts}
    crlf = by["posts/2024-01-02-bom-crlf.md"]
    assert crlf.title == "BOM and CRLF"
    assert crlf.categories == ("a", "b")
    assert crlf.body_line == 5
    cr = by["posts/2024-01-03-cr-only.md"]
    assert cr.title == "Old Mac" and cr.tags == ("x", "y")
    assert cr.body_line == 5


def test_yaml_11_coercions_stay_text(site):
    by = {p.relpath: p for p in site.posts}
    assert by["posts/2024-01-13-coercions.md"].title == "no"
    assert by["posts/2024-01-13-coercions.md"].draft is False
    assert by["posts/2024-01-13-coercions.md"].categories == ("2024",)
    assert by["posts/2024-01-19-title-number.md"].title == "2024"
    assert ("posts/2024-01-25-yes-draft.md", "draft: true (publish drafts with --drafts)") in site.skipped


def test_duplicate_key_last_wins(site):
    by = {p.relpath: p for p in site.posts}
    assert by["posts/2024-01-12-duplicate-keys.md"].title == "Second"


def test_control_characters_removed_from_each_field(site):
    by = {p.relpath: p for p in site.posts}
    post = by["posts/2024-01-18-control-chars.md"]
    assert post.title == "Bell rings"
    assert post.summary == "tab\tand  raw"
    fields = {p.key for p in site.problems if p.path == post.relpath and p.severity == "warning"}
    assert fields == {"title", "description"}


def test_empty_front_matter_titles_from_slug(site):
    by = {p.relpath: p for p in site.posts}
    assert by["posts/2024-01-07-empty-front-matter.md"].title == "Empty Front Matter"


def test_python_tag_runs_nothing(site):
    assert not Path("/tmp/feedpub-pwned").exists()


def test_deep_nesting_never_reaches_libyaml_in_a_subprocess():
    """The whole scan of the 50,000-bracket fixture in a fresh process: no segfault, no hang."""
    code = (
        "import sys, yaml; from feedpub import yamlsafe; from feedpub.errors import PostError\n"
        "text = open(sys.argv[1], encoding='utf-8').read().split('---\\n')[1]\n"
        "try:\n    yamlsafe.load(text, 'x.md', 2)\nexcept PostError as e:\n    print('rejected', e.line)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(FIXTURES / "2024-01-10-deep-nesting.md")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rejected")
