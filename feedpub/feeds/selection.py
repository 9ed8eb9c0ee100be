"""Which posts go in which feed, and where each feed file goes.

The main feed holds the newest ``[feeds] limit`` posts that are in feeds; with
``[feeds] categories`` / ``tags`` (``true`` for every name, or a list of names) each
category and tag gets the same in its own folder. Names may be anything (Unicode,
spaces, punctuation): ``feedpub.slugs.unique_slugs`` gives each one a URL-safe slug that
no other name shares, so no name is silently dropped or merged.
"""
from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath

from ..config import Config
from ..errors import ConfigError, Problem
from ..model import Post, Site
from ..slugs import unique_slugs
from .document import one_line, xml_clean

FORMATS = ("atom", "rss", "json")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
MAX_SLUG_BYTES = 120


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed to write: its posts (newest first) and its file in each format."""

    kind: str                       # "main", "category" or "tag"
    name: str                       # the category or tag name ("" for the main feed)
    slug: str
    posts: tuple[Post, ...]
    paths: dict[str, str]           # format -> path relative to the output folder (posix)
    page: int = 0                   # RFC 5005: 0 the main feed, 1.. its archive pages (1 = oldest)
    pages: int = 0                  # how many archive pages the main feed has
    main_paths: dict[str, str] | None = None   # archive pages: the main feed's files

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}" if self.kind != "main" else ""

    def page_paths(self, page: int) -> dict[str, str]:
        """The files of archive page ``page`` (0: the main feed) of this feed."""
        main = self.main_paths or self.paths
        return {f: archive_path(p, page) for f, p in main.items()} if page else dict(main)


def archive_path(main_path: str, page: int) -> str:
    """``feed.xml`` -> ``feed-archive-3.xml`` (same folder)."""
    folder, _, name = main_path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    base = f"{stem}-archive-{page}{dot}{ext}" if dot else f"{name}-archive-{page}"
    return f"{folder}/{base}" if folder else base


def feed_posts(site: Site, exclude: frozenset[str] = frozenset()) -> list[Post]:
    """Posts that may appear in feeds, newest first (stable: scan's order breaks ties)."""
    posts = [p for p in site.posts if p.in_feeds and p.id not in exclude]
    try:   # UTC microseconds: the same order as the aware datetimes, much cheaper to compare
        posts.sort(key=lambda p: (p.date - _EPOCH) // _MICROSECOND, reverse=True)
    except TypeError:   # a naive date (hand-made Posts): compare them as they are
        posts.sort(key=lambda p: p.date, reverse=True)
    return posts


def select_feeds(
    site: Site, *, exclude: frozenset[str] = frozenset(), problems: list[Problem] | None = None
) -> list[FeedSpec]:
    """Every feed the configuration asks for. ``exclude`` holds ids of posts that failed."""
    config = site.config
    limit = config.feeds.limit
    posts = feed_posts(site, exclude)
    formats = [f for f in FORMATS if f in config.feeds.formats]
    main_paths = {f: _checked(config, getattr(config.feeds, f), f"feeds.{f}") for f in formats}
    specs = [FeedSpec("main", "", "", tuple(posts[:limit]), main_paths)]
    if config.feeds.archive:
        specs = _archives(specs[0], posts[limit:], limit)
    for kind, key, setting, template in (
        ("category", "categories", config.feeds.categories, config.feeds.category_path),
        ("tag", "tags", config.feeds.tags, config.feeds.tag_path),
    ):
        if setting is False:
            continue
        groups = _group(posts, kind, limit)
        if setting is True:
            names = sorted(groups)
        else:
            names = list(dict.fromkeys(str(n) for n in setting))
            missing = [n for n in names if n not in groups]
            if missing and problems is not None:
                for name in missing:
                    problems.append(Problem(
                        config.source, None,
                        f"no post has the {kind} {name!r} listed in [feeds] {key}; its feed is empty",
                        severity="warning", key=f"feeds.{key}",
                    ))
        slugs = unique_slugs(names)
        for name in names:
            slug = _short(slugs[name], name)
            paths = {
                f: _checked(config, _fill(template, slug, main_paths[f]), f"feeds.{kind}_path")
                for f in formats
            }
            specs.append(FeedSpec(kind, name, slug, tuple(groups.get(name, ())), paths))
    _check_unique(specs, config)
    return specs


def _archives(main: FeedSpec, older: list[Post], limit: int) -> list[FeedSpec]:
    """RFC 5005 archive pages of the posts older than the main feed's.

    Oldest first, ``limit`` posts a page: page 1 holds the oldest posts, so a page never
    changes once it is full (only the newest page grows until it is), and caches forever.
    """
    oldest_first = older[::-1]
    chunks = [oldest_first[i:i + limit] for i in range(0, len(oldest_first), limit)]
    pages = len(chunks)
    specs = [FeedSpec(main.kind, main.name, main.slug, main.posts, main.paths, 0, pages)]
    for number, chunk in enumerate(chunks, start=1):
        specs.append(FeedSpec("archive", str(number), "", tuple(chunk[::-1]),
                              main.page_paths(number), number, pages, main.paths))
    return specs


def _group(posts: list[Post], kind: str, limit: int) -> dict[str, list[Post]]:
    """name -> its newest ``limit`` posts, in one pass over the (sorted) posts."""
    groups: dict[str, list[Post]] = {}
    visible: dict[str, bool] = {}   # a blog has few names and many posts: check each name once
    for post in posts:
        for name in dict.fromkeys(post.categories if kind == "category" else post.tags):
            shown = visible.get(name)
            if shown is None:
                shown = visible[name] = _visible(name)
            if not shown:
                continue   # nothing a reader could see: no feed for it
            bucket = groups.setdefault(name, [])
            if len(bucket) < limit:
                bucket.append(post)
    return groups


def _short(slug: str, name: str) -> str:
    """Slugs fit in a file name (255 bytes on most file systems): long ones are cut and
    get a hash of the whole name, so they stay unique."""
    if len(slug.encode("utf-8")) <= MAX_SLUG_BYTES:
        return slug
    cut = slug.encode("utf-8")[: MAX_SLUG_BYTES - 9].decode("utf-8", "ignore").rstrip("-")
    return f"{cut}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _visible(name: str) -> bool:
    return bool(one_line(xml_clean(str(name))[0]))


def _fill(template: str, slug: str, main_path: str) -> str:
    return template.replace("{slug}", slug).replace("{file}", PurePosixPath(main_path).name)


def _checked(config: Config, path: str, key: str) -> str:
    """A relative path that stays inside the output folder, else a ConfigError naming the key."""
    norm = posixpath.normpath(path.replace("\\", "/").lstrip("/"))
    if not path or norm in (".", "") or norm == ".." or norm.startswith("../") or path.endswith("/"):
        raise ConfigError([Problem(
            config.source, None,
            f"'{key}': expected a file path inside the output folder, got {path!r}", key=key,
        )])
    return norm


def _check_unique(specs: list[FeedSpec], config: Config) -> None:
    seen: dict[str, str] = {}
    for spec in specs:
        for path in spec.paths.values():
            owner = spec.label or "the main feed"
            if path in seen and seen[path] != owner:
                raise ConfigError([Problem(
                    config.source, None,
                    f"{owner} and {seen[path]} would both be written to {path}; "
                    "give the formats different file names and keep {slug} in category_path/tag_path",
                    key="feeds",
                )])
            seen[path] = owner
