"""The README's quick start, run as written: its shell blocks, in an empty folder.

Only what needs the outside world is left out (creating the venv, pip, git push) and
`feedpub serve`, which runs until stopped (tests/test_serve.py covers it). If a step of
the README stops working, this fails with the step.
"""
from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXED_NOW, REPO

SKIP = re.compile(r"^(python3 -m venv|pip install|git (init|add|commit|push|remote|branch)|feedpub serve)")


def quickstart_lines() -> list[str]:
    text = (REPO / "README.md").read_text("utf-8")
    section = text.split("<!-- section: quickstart -->", 1)[1].split("<!-- /section: quickstart -->", 1)[0]
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)        # backslash continuations
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()  # trailing comments
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def test_quickstart_has_the_steps_a_new_user_needs():
    script = "\n".join(quickstart_lines())
    for step in ("feedpub init", "feedpub new", "feedpub build", "feedpub serve", "feedpub digest",
                 "feedpub send", "--ci github", "git push"):
        assert step in script, step


def test_readme_quickstart_runs_from_an_empty_folder(tmp_path):
    bindir = Path(sys.executable).parent
    if not (bindir / "feedpub").exists():
        pytest.skip("the feedpub console script is not installed beside this Python")
    lines = [line for line in quickstart_lines() if not SKIP.match(line)]
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
           "EDITOR": "true", "FEEDPUB_NOW": FIXED_NOW.isoformat(), "NO_COLOR": "1"}
    env.pop("CI", None)
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, f"script:\n{script}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"

    blog = tmp_path / "my-blog"
    assert (blog / ".github" / "workflows" / "feedpub-pages.yml").is_file()
    assert (blog / ".github" / "workflows" / "feedpub-digest.yml").is_file()
    assert "outbox/" in (blog / ".gitignore").read_text("utf-8")
    posts = sorted(p.name for p in (blog / "posts").glob("*.md"))
    assert len(posts) == 3, posts                      # the example, "Hello, feeds", the draft
    feed = (blog / "public" / "feed.xml").read_text("utf-8")
    assert "Hello, feeds" in feed and "Second post" not in feed   # drafts stay out
    assert (blog / "public" / "categories" / "python" / "feed.xml").is_file()
    assert (blog / "public" / "digest" / "digest.html").is_file()
    assert "<link rel=\"alternate\"" in proc.stdout      # feedpub snippet
    sent = list((blog / "outbox").rglob("*.eml"))
    assert sent, "feedpub send --yes wrote nothing into outbox/"
    message = email.message_from_bytes(sent[0].read_bytes())
    assert message["To"].endswith("me@example.com>") or message["To"] == "me@example.com"
    assert message["Subject"].startswith("My Blog:")
