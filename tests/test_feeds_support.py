"""Helpers for the feed tests: Site/Post objects built by hand, a tiny real renderer,
and parsing every written feed with feedparser / json (imported by test_feeds*.py)."""
from __future__ import annotations

import html
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser

from feedpub.config import build_config
from feedpub.errors import RenderError
from feedpub.model import Author, Output, Post, RenderedPost, Site

MDT = timezone(timedelta(hours=-6))


def config(tmp: Path, **sections: dict[str, Any]):
    data: dict[str, Any] = {
        "site": {"title": "Test Blog", "url": "https://blog.example.com", "author": "Ann Author",
                 "description": "A blog for tests", "timezone": "America/Denver"},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return build_config(data, root=tmp)


def post(n: int, *, day: datetime | None = None, title: str | None = None, **fields: Any) -> Post:
    date = day or datetime(2024, 7, 1, 8, 20, tzinfo=MDT) + timedelta(days=n)
    slug = fields.pop("slug", f"post-{n}")
    url = fields.pop("url", f"https://blog.example.com/{date:%Y/%m/%d}/{slug}.html")
    return Post(
        source=Path(f"/site/posts/{date:%Y-%m-%d}-{slug}.md"),
        relpath=fields.pop("relpath", f"posts/{date:%Y-%m-%d}-{slug}.md"),
        slug=slug,
        title=title if title is not None else f"Post number {n}",
        date=date,
        url=url,
        id=fields.pop("id", url.removesuffix(".html")),
        **fields,
    )


def site(cfg, posts: list[Post]) -> Site:
    return Site(cfg, tuple(sorted(posts, key=lambda p: p.sort_key, reverse=True)))


class Render:
    """A small real renderer: escaped title and body as HTML; counts its calls."""

    def __init__(self, bodies: dict[str, str] | None = None, fail: set[str] | None = None) -> None:
        self.bodies = bodies or {}
        self.fail = fail or set()
        self.calls: list[str] = []

    def __call__(self, p: Post) -> RenderedPost:
        self.calls.append(p.id)
        if p.id in self.fail:
            raise RenderError("Liquid syntax error: unexpected '%}'", path=p.relpath, line=7)
        body = self.bodies.get(p.id, f"Body of {p.title}.")
        summary = f"Summary of {p.title}."
        return RenderedPost(
            post=p,
            html=f"<p>{html.escape(body, quote=False)}</p>\n<p>Second paragraph.</p>",
            summary_html=f"<p>{html.escape(summary, quote=False)}</p>",
            summary_text=summary,
        )


def parse_all(outputs: list[Output]) -> dict[Path, Any]:
    """Parse every written feed; XML ones must not be bozo, JSON ones must load."""
    parsed = {}
    for o in outputs:
        if o.kind not in ("atom", "rss", "json"):
            continue
        data = o.path.read_bytes()
        if o.kind == "json":
            parsed[o.path] = json.loads(data)
        else:
            d = feedparser.parse(data)
            assert not d.bozo, f"{o.path}: {d.get('bozo_exception')}"
            parsed[o.path] = d
    return parsed


def by_name(outputs: list[Output], out: Path) -> dict[str, Output]:
    return {o.path.relative_to(out).as_posix(): o for o in outputs}


ANN = Author("Ann Author")
