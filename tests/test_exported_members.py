"""The public API is explicit: every name in feedpub.__all__ resolves, and nothing else is promised."""
from __future__ import annotations

import subprocess
import sys

import pytest

import feedpub


def test_all_names_resolve() -> None:
    for name in feedpub.__all__:
        assert getattr(feedpub, name) is not None, name


def test_public_api_is_exactly_this() -> None:
    assert set(feedpub.__all__) == {
        "__version__", "BuildReport", "Config", "ConfigError", "Email", "FeedpubError",
        "Output", "Post", "PostError", "Problem", "RenderedPost", "Renderer", "Site", "build",
        "build_config", "compose", "deliver", "load_config", "make_sender", "read_body",
        "render_digest", "scan", "select", "to_mime", "write_feeds",
    }


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        feedpub.not_a_thing  # noqa: B018


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = "import sys, feedpub; print(sorted(m for m in ('markdown','feedgen','lxml','httpx','jinja2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
