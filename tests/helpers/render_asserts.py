"""One-line rendering asserts, in the style of Python-Markdown's ``test_tools``.

    assert_renders("*hi*", "<p><em>hi</em></p>")

builds a one-post Site in memory (no files, no posts.py), renders ``source`` as that
post's body through the real Renderer (Liquid, Markdown, sanitizing, absolute URLs)
and compares the HTML, whitespace-normalized between tags, showing a diff on mismatch.
"""
from __future__ import annotations

import difflib
import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from feedpub.config import build_config
from feedpub.model import Post, RenderedPost, Site
from feedpub.render import Renderer

POST_URL = "https://example.com/2024/07/18/post.html"
SITE = {"title": "Test Blog", "url": "https://example.com"}


def make_post(
    body: str = "",
    *,
    root: Path = Path("/nonexistent-site"),
    relpath: str = "posts/2024-07-18-post.md",
    url: str = POST_URL,
    title: str = "A Post",
    summary: str | None = None,
    body_line: int = 4,
    front_matter: dict[str, Any] | None = None,
    date: datetime | None = None,
) -> Post:
    slug = Path(relpath).stem
    return Post(
        source=root / relpath,
        relpath=relpath,
        slug=slug,
        title=title,
        date=date or datetime(2024, 7, 18, 14, 20, tzinfo=timezone.utc),
        url=url,
        id=url,
        summary=summary,
        body_line=body_line,
        content_hash=hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest(),
        front_matter=front_matter or {"title": title},
    )


def make_site(posts: list[Post], *, root: Path = Path("/nonexistent-site"), **sections: dict[str, Any]) -> Site:
    data: dict[str, Any] = {"site": {**SITE, **sections.pop("site", {})}, **sections}
    config = build_config(data, root=root)
    return Site(config=config, posts=tuple(sorted(posts, key=lambda p: p.sort_key, reverse=True)))


def render(source: str, *, site: dict[str, Any] | None = None, cache_dir: Path | None = None, **post_kw: Any) -> RenderedPost:
    """Render ``source`` as the body of a one-post site; keyword arguments go to make_post."""
    post = make_post(source, **post_kw)
    sections = {"site": site} if site else {}
    s = make_site([post], **sections)
    bodies = {post.relpath: source}
    return Renderer(s, cache_dir=cache_dir, read_body=lambda p: bodies[p.relpath]).render(post)


_BETWEEN_TAGS = re.compile(r">\s+<")


def normalize(html: str) -> str:
    return _BETWEEN_TAGS.sub("><", html.strip())


def assert_renders(source: str, expected: str, **kw: Any) -> RenderedPost:
    """Assert that ``source`` renders to ``expected`` (whitespace between tags ignored)."""
    rendered = render(source, **kw)
    got, want = normalize(rendered.html), normalize(expected)
    if got != want:
        diff = "\n".join(difflib.unified_diff(want.split("><"), got.split("><"), "expected", "rendered", lineterm=""))
        raise AssertionError(f"rendering of {source!r} differs:\n{diff}\n\nfull output:\n{rendered.html}")
    return rendered


def read_post_file(path: Path, root: Path) -> tuple[Post, str]:
    """A Post + body from a real file (front matter split naively): for corpus tests."""
    from feedpub.source import decode, split_front_matter

    relpath = path.relative_to(root).as_posix()
    data = path.read_bytes()
    parts = split_front_matter(decode(data, relpath), relpath)
    try:
        front = yaml.safe_load(parts.front or "") or {}
    except yaml.YAMLError:
        front = {}
    if not isinstance(front, dict):
        front = {}
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})-(.*)", path.stem)
    y, mo, d, slug = (int(m[1]), int(m[2]), int(m[3]), m[4]) if m else (2020, 1, 1, path.stem)
    url = f"https://example.com/{y:04d}/{mo:02d}/{d:02d}/{slug}.html"
    post = Post(
        source=path, relpath=relpath, slug=slug, title=str(front.get("title") or slug),
        date=datetime(y, mo, d, tzinfo=timezone.utc), url=url, id=url,
        body_line=parts.body_line, content_hash=hashlib.sha256(data).hexdigest(),
        front_matter={str(k): v for k, v in front.items()},
    )
    return post, parts.body
