"""feedpub: publish a blog's Markdown posts as Atom, RSS and JSON feeds and a newsletter.

The library is the pipeline the CLI runs, one plain object handed to the next::

    config = feedpub.load_config(Path("feedpub.toml"))
    report = feedpub.build(config, now)                  # scan -> render -> feeds
    site = feedpub.scan(config, now)                     # every post's metadata, newest first
    html = feedpub.Renderer(site).render(site.posts[0])  # one post, on demand, cached
    composed = feedpub.compose(config, now, last=3)      # the digest email of the newest posts

``now`` is always passed in: no stage reads the clock. Names resolve on first use, so
``import feedpub`` stays cheap (the CLI imports only what a command needs).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Config": "feedpub.config",
    "load_config": "feedpub.config",
    "build_config": "feedpub.config",
    "FeedpubError": "feedpub.errors",
    "ConfigError": "feedpub.errors",
    "PostError": "feedpub.errors",
    "Problem": "feedpub.errors",
    "Post": "feedpub.model",
    "Site": "feedpub.model",
    "RenderedPost": "feedpub.model",
    "Email": "feedpub.model",
    "Output": "feedpub.model",
    "scan": "feedpub.posts",
    "read_body": "feedpub.posts",
    "Renderer": "feedpub.render",
    "write_feeds": "feedpub.feeds",
    "build": "feedpub.build",
    "BuildReport": "feedpub.build",
    "compose": "feedpub.digest.compose",
    "select": "feedpub.digest.select",
    "render_digest": "feedpub.digest.render",
    "to_mime": "feedpub.digest.mime",
    "deliver": "feedpub.send",
    "make_sender": "feedpub.send.registry",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'feedpub' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
