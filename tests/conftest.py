"""Shared fixtures: small sites in tmp_path, a fixed clock, paths to ../shared."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXED_NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the test when the checkout has no shared/ beside it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not beside this checkout")
    return path


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW


SAMPLE_TOML = """\
[site]
title = "Test Blog"
url = "https://example.com"
author = "Ann Author"
timezone = "UTC"
"""


@pytest.fixture
def make_site(tmp_path: Path):
    """make_site({"posts/2024-01-01-a.md": "---\\ntitle: A\\n---\\nBody"}, toml=...) -> root."""

    def _make(files: dict[str, str | bytes], toml: str = SAMPLE_TOML) -> Path:
        root = tmp_path / "site"
        root.mkdir(exist_ok=True)
        (root / "feedpub.toml").write_text(toml, "utf-8")
        (root / "posts").mkdir(exist_ok=True)
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, "utf-8")
        return root

    return _make


@pytest.fixture
def sample_site(tmp_path: Path) -> Path:
    """A copy of this repository's sample blog (feedpub.toml + posts/)."""
    root = tmp_path / "sample"
    root.mkdir()
    shutil.copy(REPO / "feedpub.toml", root / "feedpub.toml")
    shutil.copytree(REPO / "posts", root / "posts")
    return root
