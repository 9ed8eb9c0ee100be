"""Golden files: the sample blog's three feeds, built with a fixed clock.

A mismatch prints a unified diff. When a change is intended, regenerate with
``FEEDPUB_REGEN_GOLDEN=1 pytest tests/test_feeds_golden.py`` and review the diff in git.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import feedparser
import pytest

pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")
pytest.importorskip("feedpub.render", reason="feedpub/render.py (Renderer) has not landed yet")

from feedpub.build import build  # noqa: E402
from feedpub.config import load_config  # noqa: E402

GOLDEN = Path(__file__).parent / "golden" / "feeds"
FILES = ("feed.xml", "rss.xml", "feed.json")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    import shutil

    from conftest import FIXED_NOW, REPO

    root = tmp_path_factory.mktemp("golden")
    shutil.copy(REPO / "feedpub.toml", root / "feedpub.toml")
    shutil.copytree(REPO / "posts", root / "posts")
    config = load_config(root=root)
    report = build(config, FIXED_NOW)
    assert report.ok, report.problems
    return config.out_dir


@pytest.mark.parametrize("name", FILES)
def test_sample_blog_feed_matches_golden_file(built: Path, name: str) -> None:
    actual = (built / name).read_text("utf-8")
    golden = GOLDEN / name
    if os.environ.get("FEEDPUB_REGEN_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, "utf-8")
        pytest.skip(f"regenerated {golden}")
    assert golden.exists(), f"{golden} is missing; run with FEEDPUB_REGEN_GOLDEN=1 to create it"
    expected = golden.read_text("utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=f"golden/feeds/{name}", tofile=f"built/{name}", n=2))
        pytest.fail(f"{name} differs from its golden file:\n{diff[:20000]}", pytrace=False)


def test_golden_feeds_parse_without_bozo() -> None:
    for name in ("feed.xml", "rss.xml"):
        path = GOLDEN / name
        if not path.exists():
            pytest.skip("golden files not generated yet")
        d = feedparser.parse(path.read_bytes())
        assert not d.bozo and len(d.entries) == 2
        assert d.entries[0].title == "Sustaining a career as a sales engineer for dev tools"
