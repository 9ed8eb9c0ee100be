"""feedpub init: what a new user gets in an empty folder, in a Jekyll site, and on re-runs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import frontmatter
import pytest

from feedpub.cli import main
from feedpub.config import load_config
from feedpub.scaffold import CI_RECIPES, SiteAnswers, plan_init, render_config

from conftest import FIXED_NOW, REPO


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def empty(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDPUB_NOW", FIXED_NOW.isoformat())
    return tmp_path


def test_init_with_flags_writes_a_loadable_config_and_an_example_post(empty, capsys):
    code, out, err = run(capsys, "init", "--title", "Ann's \"Notes\" — ü", "--url", "https://ann.example.org/",
                         "--author", "Ann", "--email", "ann@example.org", "--timezone", "Europe/Berlin")
    assert code == 0, err
    config = load_config(empty / "feedpub.toml")
    assert config.site.title == "Ann's \"Notes\" — ü"
    assert config.site.url == "https://ann.example.org/"
    assert config.site.author == "Ann" and config.site.author_email == "ann@example.org"
    assert config.site.timezone == "Europe/Berlin"
    assert config.send.provider == "outbox" and config.send.to == ["ann@example.org"]
    assert "newsletter@ann.example.org" in config.send.from_
    assert config.warnings == ()
    posts = list((empty / "posts").glob("*.md"))
    assert [p.name for p in posts] == ["2026-11-23-welcome-to-your-feeds.md"]
    post = frontmatter.load(posts[0])
    assert post["title"] == "Welcome to your feeds"
    assert post["categories"] == ["notes"]
    assert "created feedpub.toml" in out and "created posts/2026-11-23-welcome-to-your-feeds.md" in out


def test_init_without_a_terminal_uses_defaults_and_says_so(empty, capsys):
    site = empty / "my-new_blog"
    code, out, err = run(capsys, "init", str(site))
    assert code == 0
    config = load_config(site / "feedpub.toml")
    assert config.site.title == "My New Blog"
    assert config.site.url == "https://example.com"
    assert "defaults were used" in err and "title = 'My New Blog'" in err


def test_init_rejects_a_bad_url_before_writing_anything(empty, capsys):
    code, out, err = run(capsys, "init", "new-site", "--title", "T", "--url", "blog.example.com", "--timezone", "Mars/Base")
    assert code == 2
    assert "site.url" in err and "absolute http(s) URL" in err
    assert "site.timezone" in err                     # every bad value, not the first
    assert not (empty / "new-site").exists()


def test_init_never_overwrites_without_force(empty, capsys):
    (empty / "feedpub.toml").write_text("# mine\n[site]\ntitle='Mine'\nurl='https://mine.example'\n", "utf-8")
    code, out, err = run(capsys, "init", "--title", "Other", "--url", "https://other.example")
    assert code == 0
    assert (empty / "feedpub.toml").read_text("utf-8").startswith("# mine")
    assert "kept feedpub.toml" in err and "--force" in err
    # a second run adds nothing: posts/ already has a post
    before = sorted(p.name for p in (empty / "posts").iterdir())
    code, out, err = run(capsys, "init", "--title", "Other", "--url", "https://other.example")
    assert sorted(p.name for p in (empty / "posts").iterdir()) == before
    assert "nothing to do" in out

    code, out, err = run(capsys, "init", "--title", "Other", "--url", "https://other.example", "--force")
    assert code == 0 and "replaced feedpub.toml" in out
    assert load_config(empty / "feedpub.toml").site.title == "Other"


def test_init_in_a_jekyll_site_writes_only_what_is_missing(empty, capsys):
    (empty / "_config.yml").write_text(
        "title: Jekyll Blog\nauthor:\n  name: Jay\n  email: jay@example.com\ndescription: Words\n", "utf-8")
    (empty / "_posts").mkdir()
    (empty / "_posts" / "2020-01-01-old.md").write_text("---\ntitle: Old\n---\nHi\n", "utf-8")
    code, out, err = run(capsys, "init", "--url", "https://jay.example.com")
    assert code == 0, err
    text = (empty / "feedpub.toml").read_text("utf-8")
    site = tomllib.loads(text)["site"]
    assert site == {"url": "https://jay.example.com", "timezone": "UTC"}   # title/author come from _config.yml
    assert not (empty / "posts").exists(), "a posts/ folder would hide Jekyll's _posts/"
    assert [p.name for p in (empty / "_posts").iterdir()] == ["2020-01-01-old.md"]
    config = load_config(empty / "feedpub.toml")
    assert (config.site.title, config.site.author, config.site.url) == ("Jekyll Blog", "Jay", "https://jay.example.com")
    assert config.posts_dir == empty / "_posts"


def test_init_in_a_jekyll_site_with_everything_asks_nothing(empty, capsys):
    (empty / "_config.yml").write_text("title: J\nurl: https://j.example\nauthor: Jo\n", "utf-8")
    code, out, err = run(capsys, "init")
    assert code == 0
    assert "defaults were used" not in err
    assert "title" not in tomllib.loads((empty / "feedpub.toml").read_text("utf-8"))["site"]
    assert len(list((empty / "_posts").glob("*.md"))) == 1


def test_init_reports_a_broken_jekyll_config_with_its_line(empty, capsys):
    (empty / "_config.yml").write_text("title: ok\nurl: [unclosed\n", "utf-8")
    code, out, err = run(capsys, "init")
    assert code == 1
    assert "_config.yml:" in err and "Traceback" not in err


@pytest.mark.parametrize("ci", sorted(CI_RECIPES))
def test_init_ci_writes_the_documented_recipes(empty, capsys, ci):
    code, out, err = run(capsys, "init", "--title", "T", "--url", "https://t.example", "--ci", ci)
    assert code == 0
    for recipe, target in CI_RECIPES[ci].items():
        written = (empty / target).read_text("utf-8")
        assert written == (REPO / "docs" / "ci" / recipe).read_text("utf-8")
        assert f"created {target}" in out


def test_unknown_ci_is_a_usage_error(empty, capsys):
    code, out, err = run(capsys, "init", "--ci", "jenkins")
    assert code == 2 and "jenkins" in err


def test_plan_keeps_existing_files_and_force_replaces_them(tmp_path):
    answers = SiteAnswers(title="T", url="https://t.example")
    (tmp_path / "feedpub.toml").write_text("x", "utf-8")
    plan = {p.path.name: p.action for p in plan_init(tmp_path, answers, FIXED_NOW)}
    assert plan["feedpub.toml"] == "keep"
    plan = {p.path.name: p.action for p in plan_init(tmp_path, answers, FIXED_NOW, force=True)}
    assert plan["feedpub.toml"] == "overwrite"


@pytest.mark.parametrize("title", ["Plain", 'Quote " and \\ backslash', "Tab\tand ünïcode ✓", "[not a table]"])
def test_rendered_config_is_valid_toml_for_any_title(tmp_path, title):
    text = render_config(SiteAnswers(title=title, url="https://x.example", author=title))
    data = tomllib.loads(text)
    assert data["site"]["title"] == title and data["site"]["author"] == title


def test_init_prompts_on_a_terminal(tmp_path):
    """A real pseudo-terminal: the three questions are asked and the answers written."""
    pty = pytest.importorskip("pty")
    env = {**os.environ, "FEEDPUB_NOW": FIXED_NOW.isoformat(), "NO_COLOR": "1"}
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "feedpub", "init"], env)
    answers = iter([b"Pty Blog\n", b"pty.example\n", b"https://pty.example\n", b"Pat\n"])   # a bad URL is asked again
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if seen.rstrip().endswith(b":") or seen.rstrip().endswith(b"]:"):
                try:
                    os.write(fd, next(answers))
                except StopIteration:
                    pass
                seen += b"\n"
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    config = load_config(tmp_path / "feedpub.toml")
    assert (config.site.title, config.site.url, config.site.author) == ("Pty Blog", "https://pty.example", "Pat")
    assert b"expected an absolute URL" in seen


def test_init_runs_as_a_console_script(tmp_path):
    exe = Path(sys.executable).with_name("feedpub")
    if not exe.exists():
        pytest.skip("the feedpub console script is not installed in this environment")
    proc = subprocess.run([str(exe), "init", "--title", "S", "--url", "https://s.example"],
                          cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "feedpub.toml").is_file()


def test_init_rejects_a_bad_email(empty, capsys):
    code, out, err = run(capsys, "init", "--title", "T", "--url", "https://t.example", "--email", "not-an-address")
    assert code == 2 and "--email" in err
    assert not (empty / "feedpub.toml").exists()


def test_sender_name_with_punctuation_is_quoted(empty, capsys):
    code, _, err = run(capsys, "init", "--title", "Notes, Thoughts <and> More", "--url", "https://n.example")
    assert code == 0, err
    config = load_config(empty / "feedpub.toml")
    from email.utils import parseaddr

    assert parseaddr(config.send.from_) == ("Notes, Thoughts <and> More", "newsletter@n.example")


def test_init_writes_a_gitignore_for_outputs_caches_and_test_sends(empty, capsys):
    code, out, _ = run(capsys, "init", "--title", "T", "--url", "https://t.example")
    assert code == 0 and "created .gitignore" in out
    lines = (empty / ".gitignore").read_text("utf-8").splitlines()
    assert {"public/", "outbox/", ".feedpub/"} <= set(lines)
    assert all(line.startswith("#") or " " not in line for line in lines)   # no end-of-line comments
    git = shutil.which("git")
    if git:
        subprocess.run([git, "init", "-q", str(empty)], check=True)
        for rel in ("public/feed.xml", "outbox/x.eml", ".feedpub/journal.jsonl", ".feedpub/cache/a"):
            result = subprocess.run([git, "-C", str(empty), "check-ignore", "-q", rel])
            assert result.returncode == 0, f"{rel} is not ignored"
        assert subprocess.run([git, "-C", str(empty), "check-ignore", "-q", "posts/a.md"]).returncode == 1


def test_init_adds_only_missing_gitignore_entries(empty, capsys):
    (empty / ".gitignore").write_text("node_modules\n/public", "utf-8")     # no final newline
    code, out, _ = run(capsys, "init", "--title", "T", "--url", "https://t.example")
    assert "updated .gitignore (added outbox/, .feedpub/)" in out
    text = (empty / ".gitignore").read_text("utf-8")
    assert text.startswith("node_modules\n/public\n")
    assert text.count("public") == 1
    again = (empty / ".gitignore").read_text("utf-8")
    run(capsys, "init", "--title", "T", "--url", "https://t.example")
    assert (empty / ".gitignore").read_text("utf-8") == again
