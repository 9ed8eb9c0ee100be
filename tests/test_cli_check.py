"""feedpub check: every problem, in text, GitHub workflow-command and JSON formats."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedpub.cli.check import github_command
from feedpub.errors import Problem

BAD = "---\ntitle: Bad\ndate: 2024-02-30\n---\nBody\n"
CTRL = '---\ntitle: "a\\x01b"\n---\nBody\n'


def feedpub(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDPUB_NOW": "2026-11-23T12:00:00+00:00", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "feedpub", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_github_workflow_command_escaping() -> None:
    p = Problem("posts/a,b:c.md", 3, "100% bad\r\nsecond line: here, too")
    assert github_command(p) == "::error file=posts/a%2Cb%3Ac.md,line=3::100%25 bad%0D%0Asecond line: here, too"
    assert github_command(Problem("feedpub.toml", None, "x", severity="warning")) == "::warning file=feedpub.toml::x"
    assert github_command(Problem(None, None, "no path", severity="notice")) == "::notice::no path"


needs_posts = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("feedpub.posts") is None
    or __import__("importlib.util").util.find_spec("feedpub.render") is None,
    reason="feedpub/posts.py and feedpub/render.py have not landed yet",
)


@needs_posts
def test_clean_site_exit_0_writes_nothing(sample_site: Path) -> None:
    result = feedpub(sample_site, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "no problems found" in result.stderr
    assert sorted(p.name for p in sample_site.iterdir()) == ["feedpub.toml", "posts"]


@needs_posts
def test_text_format_lists_every_problem(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-15-bad.md").write_text(BAD)
    (sample_site / "posts/2024-02-16-ctrl.md").write_text(CTRL)
    result = feedpub(sample_site, "check")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("posts/2024-02-15-bad.md:3: invalid date '2024-02-30'") for line in lines)
    assert any(line.startswith("posts/2024-02-16-ctrl.md:2: warning: ") for line in lines)
    assert "1 error(s)" in result.stderr
    assert not (sample_site / "public").exists() and not (sample_site / ".feedpub").exists()


@needs_posts
def test_warnings_alone_exit_0(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-16-ctrl.md").write_text(CTRL)
    result = feedpub(sample_site, "check")
    assert result.returncode == 0
    assert "posts/2024-02-16-ctrl.md:2: warning:" in result.stdout


@needs_posts
def test_github_format(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-15-bad.md").write_text(BAD)
    (sample_site / "posts/2024-02-16-ctrl.md").write_text(CTRL)
    result = feedpub(sample_site, "check", "--format", "github")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("::error file=posts/2024-02-15-bad.md,line=3::invalid date") for line in lines)
    assert any(line.startswith("::warning file=posts/2024-02-16-ctrl.md,line=2::") for line in lines)


@needs_posts
def test_json_format(sample_site: Path) -> None:
    (sample_site / "posts/2024-02-15-bad.md").write_text(BAD)
    result = feedpub(sample_site, "check", "--format", "json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    assert {"path": "posts/2024-02-15-bad.md", "line": 3, "severity": "error"}.items() <= problems[0].items()


def test_config_problems_in_the_chosen_format(tmp_path: Path) -> None:
    (tmp_path / "feedpub.toml").write_text('[site]\ntitle = "T"\nurl = "example.com"\nbogus = 1\n')
    result = feedpub(tmp_path, "check", "--format", "github")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert any(line.startswith("::error file=feedpub.toml::'site.url'") for line in lines)
    assert any(line.startswith("::warning file=feedpub.toml::unknown key 'site.bogus'") for line in lines)
    text = feedpub(tmp_path, "check")
    assert text.returncode == 2 and "feedpub.toml: 'site.url'" in text.stdout


@needs_posts
def test_feed_path_problems_are_reported_in_the_chosen_format(sample_site: Path) -> None:
    toml = sample_site / "feedpub.toml"
    toml.write_text(toml.read_text().replace("categories = true", 'categories = true\ncategory_path = "c/{file}"'))
    result = feedpub(sample_site, "check", "--format", "json")
    assert result.returncode == 2
    [problem] = json.loads(result.stdout)
    assert problem["key"] == "feeds" and "would both be written to c/feed.xml" in problem["message"]
