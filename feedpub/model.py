"""The plain, immutable objects handed from one pipeline stage to the next.

    posts.scan(config, now)        -> Site          (metadata of every post, newest first)
    render.Renderer(config).render -> RenderedPost  (HTML of one post, on demand, cached)
    feeds.write_feeds(site, ...)   -> list[Output]
    digest.select / digest.render  -> Digest / Email
    send.deliver(email, ...)       -> SendReport

No stage keeps a post's body: ``Post`` holds metadata only, and the renderer reads the
body from ``Post.source`` when (and only when) an output needs it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .config import Config
from .errors import Problem


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str = ""
    uri: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    url: str  # absolute
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str  # absolute
    type: str
    length: int = 0


@dataclass(frozen=True, slots=True)
class Post:
    """A post's metadata, as read from its front matter and file name."""

    source: Path                 # absolute path of the file
    relpath: str                 # the path shown in messages, e.g. posts/2024-07-18-x.md
    slug: str
    title: str
    date: datetime               # timezone-aware
    url: str                     # absolute URL the site serves the post at
    id: str                      # stable id, the same in every build
    updated: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: Author | None = None
    summary: str | None = None   # explicit excerpt/description/summary (Markdown allowed)
    draft: bool = False
    image: Image | None = None
    enclosure: Enclosure | None = None
    in_feeds: bool = True        # front matter `feed: false` leaves the post out of feeds
    excerpt_only: bool = False   # front matter `feed: {excerpt_only: true}`
    body_line: int = 1           # 1-based line of the file where the body starts
    content_hash: str = ""       # sha256 hex of the file's bytes
    front_matter: Mapping[str, Any] = field(default_factory=dict)  # for Liquid's page.*

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """Newest first sorts on this descending; the path breaks ties deterministically."""
        return (self.date, self.relpath)


@dataclass(frozen=True, slots=True)
class Site:
    """Every publishable post (newest first) plus what scanning found wrong."""

    config: Config
    posts: tuple[Post, ...]
    problems: tuple[Problem, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()   # (relpath, reason): drafts, future, not posts

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def newest(self) -> datetime | None:
        return self.posts[0].date if self.posts else None


@dataclass(frozen=True, slots=True)
class RenderedPost:
    """A post's HTML: sanitized, every URL absolute. ``summary_html`` is the excerpt."""

    post: Post
    html: str
    summary_html: str
    summary_text: str            # plain-text excerpt (JSON Feed summary, previews)
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Output:
    """One file a stage wrote (or left unchanged because its bytes were the same)."""

    path: Path
    kind: str                    # "atom", "rss", "json", "xsl", "digest-html", ...
    entries: int = 0
    changed: bool = True
    label: str = ""              # e.g. the category name for a category feed


@dataclass(frozen=True, slots=True)
class Email:
    """A rendered digest, ready to be addressed to each recipient by the sender.

    ``digest_id`` comes from the ids of the posts it contains (never from the time it
    was rendered), so re-rendering the same posts tomorrow gives the same digest.
    """

    digest_id: str
    subject: str
    html: str
    text: str
    from_addr: str
    date: datetime               # the digest's date (the `now` it was rendered for)
    post_ids: tuple[str, ...]
    newest: datetime             # date of its newest post: "since the last digest" starts here
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # extra headers for every copy
