"""Real clients on a served site: newsboat subscribes to the main, a category and an
archive feed; headless Chromium opens a feed and shows the stylesheet's page."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")

from feedpub.build import build  # noqa: E402
from feedpub.config import load_config  # noqa: E402

TOML = """\
[site]
title = "Reader Test"
url = "https://readers.example.com"
author = "Ann Author"
timezone = "Europe/Berlin"

[feeds]
limit = 2
archive = true
categories = true
"""

POST = "---\ntitle: \"{title}\"\ndate: 2024-0{m}-1{d} 0{h}:{mi}:00\ncategories: [{cat}]\n---\nBody of {title}.\n"
POSTS = [
    ("Oldest & first", 1, 1, 7, 15, "Ünï Ωmega"),
    ("Second <one>", 2, 2, 8, 30, "news"),
    ("Third", 3, 3, 9, 45, "news"),
    ("Fourth", 4, 4, 6, 5, "Ünï Ωmega"),
    ("Newest", 5, 5, 5, 55, "news"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("readers")
    (root / "feedpub.toml").write_text(TOML)
    (root / "posts").mkdir()
    for title, m, d, h, mi, cat in POSTS:
        slug = title.split()[0].lower()
        (root / f"posts/2024-0{m}-1{d}-{slug}.md").write_text(
            POST.format(title=title, m=m, d=d, h=h, mi=f"{mi:02d}", cat=cat))
    config = load_config(root=root)
    report = build(config, datetime(2026, 11, 23, tzinfo=timezone.utc))
    assert report.ok, report.problems
    handler = functools.partial(_QuietHandler, directory=str(config.out_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", config.out_dir
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".xml": "application/xml", ".xsl": "application/xslt+xml", ".json": "application/feed+json"}

    def log_message(self, *args: object) -> None:
        pass


def test_newsboat_reads_main_category_and_archive_feeds(served: tuple[str, Path], tmp_path: Path) -> None:
    if not shutil.which("newsboat"):
        pytest.skip("newsboat is not installed (Debian package newsboat)")
    base, out = served
    urls = {
        "main": f"{base}/feed.xml",
        "category": f"{base}/categories/%C3%BCn%C3%AF-%CF%89mega/rss.xml",
        "archive": f"{base}/feed-archive-1.xml",
    }
    assert (out / "categories/ünï-ωmega/rss.xml").is_file()
    got = {kind: _newsboat(url, tmp_path / kind) for kind, url in urls.items()}
    assert {kind: title for kind, (title, _) in got.items()} == {
        "main": "Reader Test", "category": "Reader Test | Ünï Ωmega", "archive": "Reader Test"}
    # Berlin time: CET (+01:00) in winter, CEST (+02:00) from late March; stored as UTC.
    assert got["main"][1] == [
        ("Newest", "https://readers.example.com/news/2024/05/15/newest.html", "2024-05-15 03:55:00"),
        ("Fourth", "https://readers.example.com/%C3%BCn%C3%AF%20%CF%89mega/2024/04/14/fourth.html",
         "2024-04-14 04:05:00"),
    ]
    assert [(t, d) for t, _, d in got["category"][1]] == [
        ("Fourth", "2024-04-14 04:05:00"), ("Oldest & first", "2024-01-11 06:15:00")]
    # Archive page 1 holds the oldest posts (page 2, "Third", is still filling up).
    assert [(t, d) for t, _, d in got["archive"][1]] == [
        ("Second <one>", "2024-02-12 07:30:00"), ("Oldest & first", "2024-01-11 06:15:00")]


def _newsboat(url: str, work: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """Subscribe newsboat to one feed; (feed title, [(title, link, UTC date)] newest first)."""
    (work / "home").mkdir(parents=True)
    (work / "urls").write_text(url + "\n")
    (work / "config").write_text("download-retries 1\ndownload-timeout 10\nreload-threads 1\n")
    result = subprocess.run(
        ["newsboat", "-q", "-u", str(work / "urls"), "-c", str(work / "cache.db"),
         "-C", str(work / "config"), "-x", "reload"],
        env={**os.environ, "HOME": str(work / "home")}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    db = sqlite3.connect(work / "cache.db")
    try:
        [(title,)] = db.execute("SELECT title FROM rss_feed").fetchall()
        rows = db.execute("SELECT title, url, datetime(pubDate, 'unixepoch') FROM rss_item "
                          "ORDER BY pubDate DESC").fetchall()
    finally:
        db.close()
    return title, rows


@pytest.mark.browser
def test_chromium_shows_the_stylesheet_page(served: tuple[str, Path], tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (Debian package chromium)")
    base, _ = served
    for path in ("feed.xml", "rss.xml", "categories/news/feed.xml"):
        result = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", f"{base}/{path}"],
            capture_output=True, text=True, timeout=90)
        dom = result.stdout
        assert "This is a web feed" in dom, f"{path}: {dom[:500]} {result.stderr[-500:]}"
        assert f"{base.replace('http://127.0.0.1', 'https://readers.example.com')}" not in dom
        assert "https://readers.example.com/" + path in dom       # the address to subscribe to
        assert ">Newest</a>" in dom
