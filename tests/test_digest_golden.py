"""Golden files: the sample blog's digest (HTML and text) for a fixed date.

A mismatch prints a unified diff. Regenerate on purpose only, after reading the diff:
``FEEDPUB_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_digest_golden.py``.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from feedpub.config import load_config
from feedpub.digest.compose import compose

GOLDEN = Path(__file__).resolve().parent / "golden" / "digest"
REGEN = os.environ.get("FEEDPUB_REGEN_GOLDEN") == "1"


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, "utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing; create it with FEEDPUB_REGEN_GOLDEN=1")
    expected = path.read_text("utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=f"golden/digest/{name}", tofile="rendered now", n=2,
        ))
        pytest.fail(f"{name} differs from the golden file (FEEDPUB_REGEN_GOLDEN=1 rewrites it):\n{diff}", pytrace=False)


@pytest.mark.parametrize("content", ["excerpt", "full"])
def test_sample_blog_digest(sample_site, now, content):
    config = load_config(sample_site / "feedpub.toml", root=sample_site)
    config = config.replace(digest={"content": content})
    result = compose(config, now, last=2)   # what `make demo` renders
    assert result.email is not None
    suffix = "" if content == "excerpt" else "-full"
    check(f"sample{suffix}.html", _lines(result.email.html))
    check(f"sample{suffix}.txt", result.email.text)


def _lines(html: str) -> str:
    """One tag per line where the HTML has none, so diffs point at the change."""
    return html.replace("><", ">\n<")


def test_the_golden_check_reports_a_diff(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.GOLDEN", tmp_path)
    monkeypatch.setattr(f"{__name__}.REGEN", False)
    (tmp_path / "x.txt").write_text("one\ntwo\n")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)-two.*\+three"):
        check("x.txt", "one\nthree\n")
