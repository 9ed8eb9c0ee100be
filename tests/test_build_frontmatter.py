"""Per-post feed control and media from real front matter, through scan + render + feeds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")

from feedpub.build import build  # noqa: E402
from feedpub.config import load_config  # noqa: E402

TOML = """\
[site]
title = "FM"
url = "https://fm.example.com"
author = "Ann"
icon = "/icon.png"
"""


def _build(make_site, now, files: dict[str, str], extra: str = "") -> dict:
    root = make_site(files, toml=TOML + extra)
    config = load_config(root=root)
    report = build(config, now)
    assert report.ok, report.problems
    return json.loads((config.out_dir / "feed.json").read_text())


def test_feed_false_and_excerpt_only_from_front_matter(make_site, now) -> None:
    feed = _build(make_site, now, {
        "posts/2024-01-01-hidden.md": "---\ntitle: Hidden\nfeed: false\n---\nSecret.\n",
        "posts/2024-01-02-short.md": "---\ntitle: Short\nfeed:\n  excerpt_only: true\n---\nFirst para.\n\nSecond para.\n",
        "posts/2024-01-03-full.md": "---\ntitle: Full\n---\nFirst para.\n\nSecond para.\n",
    })
    items = {i["title"]: i for i in feed["items"]}
    assert sorted(items) == ["Full", "Short"]
    assert "Second para" not in items["Short"]["content_html"]
    assert "Second para" in items["Full"]["content_html"]


def test_site_wide_excerpt_only(make_site, now) -> None:
    feed = _build(make_site, now, {
        "posts/2024-01-03-full.md": "---\ntitle: Full\n---\nFirst para.\n\nSecond para.\n",
    }, "[feeds]\nexcerpt_only = true\n")
    assert "Second para" not in feed["items"][0]["content_html"]


def test_image_and_enclosure_from_front_matter(make_site, now) -> None:
    feed = _build(make_site, now, {
        "posts/2024-01-03-cast.md": (
            "---\ntitle: Cast\nimage:\n  path: /img/cover.jpg\n  alt: Cover\n"
            "enclosure:\n  url: /media/ep1.mp3\n  type: audio/mpeg\n  length: 1234\n---\nListen.\n"),
        "posts/2024-01-02-pic.md": "---\ntitle: Pic\nimage: https://cdn.example.com/p.png\n---\nLook.\n",
    })
    cast, pic = feed["items"]
    assert cast["image"] == "https://fm.example.com/img/cover.jpg"
    assert cast["attachments"] == [{"url": "https://fm.example.com/media/ep1.mp3", "mime_type": "audio/mpeg",
                                    "size_in_bytes": 1234}]
    assert pic["banner_image"] == "https://cdn.example.com/p.png"
    assert feed["icon"] == "https://fm.example.com/icon.png"
