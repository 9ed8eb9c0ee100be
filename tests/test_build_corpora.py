"""Build real Jekyll corpora (../shared/corpora) end to end: every feed parses, has no raw
Liquid, and the main feeds pass jing and the W3C validator when those are available."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import pytest

pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")

from feedpub.build import build  # noqa: E402
from feedpub.config import build_config  # noqa: E402

from conftest import shared_path  # noqa: E402

CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S)
NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("name", ["jekyll-docs", "jekyll-test", "jekyll-feed-fixtures"])
def test_corpus_builds_valid_feeds(name: str, tmp_path: Path) -> None:
    source = shared_path("corpora", name)
    root = tmp_path / "site"
    shutil.copytree(source, root / "_posts")
    config = build_config({
        "site": {"title": f"{name} & co", "url": "https://corpus.example.com", "baseurl": "/blog",
                 "author": "Jekyll", "timezone": "America/Denver"},
        "feeds": {"categories": True, "tags": True, "archive": True, "limit": 10},
    }, root=root)
    report = build(config, NOW, keep_going=True)
    # Every bad post is named (file and reason); the rest are published.
    assert all(p.path and p.message for p in report.errors)
    feeds = [o for o in report.outputs if o.kind in ("atom", "rss", "json")]
    assert feeds and report.posts > 0
    published = set()
    for o in feeds:
        data = o.path.read_bytes()
        if o.kind == "json":
            items = json.loads(data)["items"]
            assert len(items) == o.entries
            for item in items:
                # Liquid shown as code ({% raw %}, highlighted templates) is content; any
                # other {% or {{ would be a tag the renderer failed to handle.
                prose = CODE.sub("", item["content_html"]) + item["title"]
                assert "{%" not in prose and "{{" not in prose, f"raw Liquid in {item['id']}"
            published.update(i["id"] for i in items)
            continue
        d = feedparser.parse(data)
        assert not d.bozo, f"{o.path}: {d.get('bozo_exception')}"
        assert len(d.entries) == o.entries
        for e in d.entries:
            assert e.title and e.link.startswith("https://corpus.example.com/blog/") and e.id
            assert (e.get("published_parsed") or e.get("updated_parsed"))
    # Main feed plus archive pages hold every post exactly once.
    archive_ids = []
    for o in feeds:
        if o.kind == "json" and (o.label == "" or o.label.startswith("archive")):
            archive_ids += [i["id"] for i in json.loads(o.path.read_bytes())["items"]]
    assert len(archive_ids) == len(set(archive_ids)) == report.posts   # no corpus post uses feed: false

    out = config.out_dir
    jing = shutil.which("jing")
    if jing:
        script = shared_path("checkers", "atom_rng.sh")
        for feed in (out / "feed.xml", out / "feed-archive-1.xml"):
            if feed.exists():
                result = subprocess.run([str(script), str(feed)], capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, result.stdout + result.stderr
    home = os.environ.get("FEEDVALIDATOR_HOME")
    if home and Path(home, "src", "feedvalidator").is_dir():
        script = shared_path("checkers", "w3c_validate.sh")
        for feed in (out / "feed.xml", out / "rss.xml"):
            result = subprocess.run([str(script), str(feed)], capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stdout
