"""Independent checkers on feeds feedpub writes: jing (RFC 4287 RELAX NG), the W3C feed
validator (offline), newsboat (a real reader) and the JSON Feed rules.

The scripts live in ../shared/checkers; each test skips with a reason when the script,
the tool it drives, or (for the W3C validator) FEEDVALIDATOR_HOME is not available.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedpub.feeds import write_feeds
from feedpub.model import Author, Enclosure, Image

from conftest import shared_path
from test_feeds_support import MDT, Render, config, post, site

pytestmark = pytest.mark.checkers


def _tricky_site(tmp: Path):
    cfg = config(tmp, feeds={"categories": True, "tags": True, "limit": 2, "archive": True,
                             "hub": "https://hub.example.com/"},
                 site={"title": "Notes & <Numbers>", "description": "Ünïcode ✓ and \x01 controls",
                       "icon": "/icon.png", "logo": "/logo.png"})
    posts = [
        post(1, title="Fish & Chips <b>not bold</b>", categories=("sales engineering", "Ünï Ωmega"),
             tags=("C++",), author=Author("Zoë “Quotes”", "zoe@example.com")),
        post(2, title="Line\nbreaks\tand\x0bcontrols", categories=("日本語",),
             updated=datetime(2024, 9, 1, 23, 59, 59, tzinfo=timezone.utc)),
        post(3, title="Late evening post", day=datetime(2024, 7, 31, 21, 45, 10, tzinfo=MDT),
             id="https://blog.example.com/2024/07/31/post-3.html", slug="post-3",
             image=Image("https://blog.example.com/img/a.png", "An image"),
             enclosure=Enclosure("https://blog.example.com/a.mp3", "audio/mpeg", 1234)),
    ]
    bodies = {posts[0].id: "Ampersand & <script>alert(1)</script> ]]> done"}
    return site(cfg, posts), Render(bodies=bodies)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("checkers")
    s, render = _tricky_site(tmp)
    out = tmp / "public"
    write_feeds(s, render, out)
    return out


def _run(cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def _feeds(out: Path, suffix: str) -> list[Path]:
    return sorted(p for p in out.rglob(f"*{suffix}") if p.is_file())


def test_jing_accepts_every_atom_feed(built: Path) -> None:
    script = shared_path("checkers", "atom_rng.sh")
    if not shutil.which("jing"):
        pytest.skip("jing is not installed (Debian package jing)")
    feeds = [p for p in built.rglob("*.xml") if not p.name.startswith("rss")]
    assert len(feeds) >= 6
    for feed in feeds:
        result = _run([str(script), str(feed)])
        assert result.returncode == 0, f"{feed}:\n{result.stdout}{result.stderr}"


def test_w3c_validator_reports_no_errors(built: Path) -> None:
    script = shared_path("checkers", "w3c_validate.sh")
    home = os.environ.get("FEEDVALIDATOR_HOME")
    if not home or not Path(home, "src", "feedvalidator").is_dir():
        pytest.skip("set FEEDVALIDATOR_HOME (and FEEDVALIDATOR_PYTHON) to a w3c/feedvalidator checkout")
    feeds = _feeds(built, ".xml")
    assert len(feeds) >= 10
    for feed in feeds:
        result = _run([str(script), str(feed)])
        assert result.returncode == 0, f"{feed}:\n{result.stdout}{result.stderr}"
        assert "0 error(s)" in result.stdout


def test_json_feed_rules(built: Path) -> None:
    script = shared_path("checkers", "jsonfeed_check.py")
    for feed in _feeds(built, ".json"):
        result = _run([sys.executable, str(script), str(feed)])
        assert result.returncode == 0, f"{feed}:\n{result.stdout}"


@pytest.mark.parametrize("name", ["feed.xml", "rss.xml"])
def test_newsboat_shows_titles_dates_and_links(built: Path, name: str) -> None:
    script = shared_path("checkers", "newsboat_check.sh")
    for tool in ("newsboat", "sqlite3"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (Debian package {tool})")
    result = _run([str(script), str(built / name), "2"])
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(r"title='(.*?)' \| url=(\S+) \| guid=(\S+) \| pubDate=\d+ \((.*?)Z\)", result.stdout)
    assert rows == [
        ("Late evening post", "https://blog.example.com/2024/07/31/post-3.html",
         "https://blog.example.com/2024/07/31/post-3.html", "2024-08-01 03:45:10"),
        ("Line breaks andcontrols", "https://blog.example.com/2024/07/03/post-2.html",
         "https://blog.example.com/2024/07/03/post-2", "2024-07-03 14:20:00"),
    ]
    archive = _run([str(script), str(built / name.replace(".xml", "-archive-1.xml")), "1"])
    assert archive.returncode == 0, archive.stdout
    assert "title='Fish & Chips <b>not bold</b>'" in archive.stdout
