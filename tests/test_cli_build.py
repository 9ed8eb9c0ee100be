"""feedpub build as a real process: output, --json, exit codes, errors on stderr."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")
pytest.importorskip("feedpub.render", reason="feedpub/render.py (Renderer) has not landed yet")

BAD = "---\ntitle: Bad\ndate: 2024-02-30\n---\nBody\n"


def feedpub(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDPUB_NOW": "2026-11-23T12:00:00+00:00", "NO_COLOR": "1"}
    env.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "feedpub", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_build_prints_what_it_wrote(sample_site: Path) -> None:
    result = feedpub(sample_site, "build")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "read 2 post(s)"
    assert "wrote public/feed.xml (atom, 2 entries)" in lines
    assert "wrote public/rss.xml (rss, 2 entries)" in lines
    assert "wrote public/feed.json (json, 2 entries)" in lines
    assert "wrote public/categories/career/feed.xml (atom, 1 entry, category career)" in lines
    assert "wrote public/feed.xsl (xsl)" in lines
    assert lines[-1] == "13 file(s) written, 0 unchanged"
    again = feedpub(sample_site, "build")
    assert again.stdout.splitlines()[-1] == "0 file(s) written, 13 unchanged"


def test_build_json(sample_site: Path, tmp_path: Path) -> None:
    result = feedpub(sample_site, "build", "--json", "--out", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["posts"] == 2 and report["problems"] == []
    main = {o["kind"]: o for o in report["outputs"] if not o["label"]}
    assert main["atom"]["entries"] == 2 and main["atom"]["changed"] is True
    assert main["atom"]["path"] == str(tmp_path / "site" / "feed.xml")
    assert not (sample_site / "public").exists()


def test_bad_post_exit_1_names_file_and_line_writes_nothing(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-15-bad.md").write_text(BAD)
    result = feedpub(sample_site, "build")
    assert result.returncode == 1
    assert result.stderr.startswith("posts/2024-02-15-bad.md:3: invalid date '2024-02-30'")
    assert "nothing was written" in result.stderr and "--keep-going" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (sample_site / "public").exists()


def test_keep_going_publishes_good_posts_and_exits_1(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-15-bad.md").write_text(BAD)
    result = feedpub(sample_site, "build", "--keep-going")
    assert result.returncode == 1
    assert "posts/2024-02-15-bad.md:3: invalid date" in result.stderr
    assert "1 post(s) have errors and were left out" in result.stderr
    assert "wrote public/feed.xml (atom, 2 entries)" in result.stdout
    items = json.loads((sample_site / "public/feed.json").read_text())["items"]
    assert len(items) == 2


def test_keep_going_json(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-15-bad.md").write_text(BAD)
    result = feedpub(sample_site, "build", "--keep-going", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(p["path"], p["line"], p["severity"]) for p in report["problems"]] == [
        ("posts/2024-02-15-bad.md", 3, "error")]


def test_failed_build_json(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-15-bad.md").write_text(BAD)
    result = feedpub(sample_site, "build", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["outputs"] == []
    assert report["problems"][0]["path"] == "posts/2024-02-15-bad.md"


def test_config_errors_exit_2_listing_every_key(sample_site: Path) -> None:
    (sample_site / "feedpub.toml").write_text('[site]\ntitle = 3\nurl = "example.com"\n[feeds]\nlimit = 0\n')
    result = feedpub(sample_site, "build")
    assert result.returncode == 2
    for key in ("site.title", "site.url", "feeds.limit"):
        assert f"'{key}'" in result.stderr


def test_future_and_drafts_flags(sample_site: Path) -> None:
    (sample_site / "posts/2030-01-01-later.md").write_text("---\ntitle: Later\n---\nSoon.\n")
    assert feedpub(sample_site, "build").returncode == 0
    assert "Later" not in (sample_site / "public/feed.json").read_text()
    assert feedpub(sample_site, "build", "--future").returncode == 0
    assert "Later" in (sample_site / "public/feed.json").read_text()


def test_unwritable_output_is_a_clear_error(sample_site: Path) -> None:
    (sample_site / "public").write_text("a file, not a folder")
    result = feedpub(sample_site, "build")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "public/feed.xml: cannot write: cannot create its folder" in result.stderr
    assert "Not a directory" in result.stderr or "File exists" in result.stderr
    assert "Traceback" not in result.stderr
