"""Helpers shared by the digest tests: small sites built from Post objects and a real
(if plain) Markdown render function, so the digest is tested without the other stages.

Imported by the other tests as ``test_digest_support`` (pytest puts tests/ on sys.path).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import markdown

from feedpub.config import Config, build_config
from feedpub.model import Author, Post, RenderedPost, Site

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
BASE_TOML = {
    "site": {"title": "Test Blog", "url": "https://example.com", "author": "Ann Author"},
    "send": {"from": "Test Blog <news@example.com>", "unsubscribe_url": "https://example.com/unsub?e={email}&t={token}"},
}


SITE_TOML = """\
[site]
title = "Test Blog"
url = "https://example.com"
author = "Ann Author"

[send]
from = "Test Blog <news@example.com>"
to = ["reader@example.com"]
unsubscribe_url = "https://example.com/unsubscribe?email={email}&token={token}"
"""


def make_config(root: Path, **sections: dict) -> Config:
    data = {name: dict(values) for name, values in BASE_TOML.items()}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return build_config(data, root=root)


def write_post(root: Path, name: str, title: str, body: str, *, date: datetime, categories=(), **extra) -> Post:
    path = root / "posts" / f"{date:%Y-%m-%d}-{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title!r}\n---\n{body}", "utf-8")
    slug = name
    return Post(
        source=path, relpath=f"posts/{path.name}", slug=slug, title=title, date=date,
        url=f"https://example.com/{date:%Y/%m/%d}/{slug}.html", id=f"https://example.com/{date:%Y/%m/%d}/{slug}",
        categories=tuple(categories), **extra,
    )


def make_site(config: Config, posts: list[Post]) -> Site:
    return Site(config=config, posts=tuple(sorted(posts, key=lambda p: p.sort_key, reverse=True)))


def days_ago(n: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=n)


class MarkdownRender:
    """render(post) -> RenderedPost with python-markdown; records which posts it rendered."""

    def __init__(self) -> None:
        self.rendered: list[str] = []

    def __call__(self, post: Post) -> RenderedPost:
        self.rendered.append(post.id)
        body = post.source.read_text("utf-8").split("---\n", 2)[2]
        html = markdown.markdown(body, extensions=["fenced_code", "tables"])
        first = re.search(r"<p>.*?</p>", html, re.S)
        summary_html = first.group(0) if first else ""
        summary_text = re.sub(r"<[^>]+>", "", summary_html)
        return RenderedPost(post=post, html=html, summary_html=summary_html, summary_text=summary_text)


def sample_posts(root: Path) -> list[Post]:
    """Three posts in the last week with links, an image, code and a list."""
    return [
        write_post(root, "third", "Third & <last> post", (
            "The **newest** post, with a [relative link](../about/) and an image.\n\n"
            '<img src="/img/wide.png" width="1200" height="600">\n\n'
            "```\n" + "x = 'a very long line of code that must wrap or scroll instead of widening' * 3\n```\n"
        ), date=days_ago(1), categories=("news", "python"), author=Author("Bo Writer")),
        write_post(root, "second", "Second post", (
            "Second post's excerpt: see https://example.org/x.\n\nMore text.\n\n- one\n- two\n"
        ), date=days_ago(3), categories=("news",)),
        write_post(root, "first", "First post", "The first post of the week.\n", date=days_ago(6)),
    ]


def test_markdown_render_keeps_the_first_paragraph_as_summary(tmp_path):
    post = write_post(tmp_path, "a", "A", "One *two*.\n\nThree.\n", date=NOW)
    rendered = MarkdownRender()(post)
    assert rendered.summary_html == "<p>One <em>two</em>.</p>"
    assert rendered.summary_text == "One two."
