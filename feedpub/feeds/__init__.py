"""Feeds: choose the posts of every feed, render only those, write Atom/RSS/JSON Feed.

    plan_feeds(site, render)  -> FeedPlan   (every file's bytes in memory; nothing written)
    write_plan(plan, out_dir) -> [Output]   (all files replaced together, unchanged ones kept)
    write_feeds(site, render, out_dir)      (both; a post that fails to render fails it)

Rendering happens once per post, and only for posts some feed contains. A post whose
rendering fails is left out and the next older post takes its place, so with
``--keep-going`` every feed still holds its ``limit`` newest good posts.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from importlib import resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..atomicio import write_many
from ..config import Config
from ..errors import BuildError, ConfigError, PostError, Problem
from ..model import Author, Output, Post, RenderedPost, Site

if TYPE_CHECKING:
    from ..feed_memo import FeedMemo
from .document import EPOCH, ArchiveLinks, EntryDoc, FeedDoc, one_line, seconds, xml_clean
from .selection import FeedSpec, select_feeds

__all__ = ["FeedFile", "FeedPlan", "plan_feeds", "url", "write_feeds", "write_plan"]

Render = Callable[[Post], RenderedPost]


def _atom(doc: FeedDoc, cache: dict) -> bytes:
    from .atom import atom_bytes   # feedgen + lxml: imported only when a file is generated

    return atom_bytes(doc, cache)


def _rss(doc: FeedDoc, cache: dict) -> bytes:
    from .rss import rss_bytes

    return rss_bytes(doc, cache)


def _json(doc: FeedDoc, cache: dict) -> bytes:
    from .jsonfeed import jsonfeed_bytes

    return jsonfeed_bytes(doc, cache)


WRITERS: dict[str, Callable[[FeedDoc, dict], bytes]] = {"atom": _atom, "rss": _rss, "json": _json}


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One file of the plan: where it goes and its bytes."""

    path: str                    # relative to the output folder, posix
    kind: str                    # "atom", "rss", "json"
    entries: int
    data: bytes
    label: str = ""


@dataclass(slots=True)
class FeedPlan:
    files: list[FeedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rendered: int = 0            # posts rendered (each once)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def plan_feeds(
    site: Site,
    render: Render,
    memo: "FeedMemo | None" = None,
    prepare: "Callable[[list[Post]], object] | None" = None,
) -> FeedPlan:
    """Every feed file's bytes. Render errors become error Problems; those posts are left out.

    ``memo`` (``feedpub.feed_memo``): files whose document is unchanged since the last
    build are read back instead of generated (same bytes). ``prepare`` is called once
    with every post the feeds contain before any is rendered (the build uses it to
    render cache misses on every core: ``feedpub.parallel.prerender``).
    """
    plan = FeedPlan()
    rendered: dict[str, RenderedPost] = {}
    failed: set[str] = set()
    while True:
        selection_problems: list[Problem] = []
        specs = select_feeds(site, exclude=frozenset(failed), problems=selection_problems)
        if prepare is not None:
            prepare(list({post.id: post for spec in specs for post in spec.posts}.values()))
            prepare = None
        new_failure = False
        for spec in specs:
            for post in spec.posts:
                if post.id in rendered or post.id in failed:
                    continue
                try:
                    result = render(post)
                except PostError as exc:
                    failed.add(post.id)
                    new_failure = True
                    plan.problems.append(Problem(exc.path or post.relpath, exc.line, exc.message))
                    continue
                rendered[post.id] = result
                plan.problems.extend(result.warnings)
        if not new_failure:
            break
    plan.problems.extend(selection_problems)
    plan.rendered = len(rendered)
    entries: dict[str, EntryDoc] = {}
    cache: dict = {}         # each post's finished entry per format, shared by all feeds
    for spec in specs:
        docs = []
        for post in spec.posts:
            if post.id not in entries:
                entries[post.id] = entry_doc(post, rendered[post.id], site.config, plan.problems)
            docs.append(entries[post.id])
        doc = feed_doc(spec, tuple(docs), site.config)
        for fmt, path in spec.paths.items():
            data = memo.get(fmt, path, doc) if memo is not None else None
            if data is None:
                data = WRITERS[fmt](doc, cache)
            plan.files.append(FeedFile(path, fmt, len(docs), data, spec.label))
    xsl = stylesheet_path(site.config)
    if xsl and any(f.kind in ("atom", "rss") for f in plan.files):
        plan.files.append(FeedFile(xsl, "xsl", 0, stylesheet_bytes(site.config)))
    return plan


def write_plan(plan: FeedPlan, out_dir: Path) -> list[Output]:
    """Write every file of the plan at once (see ``atomicio.write_many``)."""
    targets = {out_dir / f.path: f for f in plan.files}
    changed = write_many({path: f.data for path, f in targets.items()})
    return [Output(path, f.kind, f.entries, changed[path], f.label) for path, f in targets.items()]


def write_feeds(site: Site, render: Render, out_dir: Path) -> list[Output]:
    """Plan and write every feed; a post that cannot be rendered fails it (nothing written)."""
    plan = plan_feeds(site, render)
    if plan.errors:
        raise BuildError(plan.problems)
    return write_plan(plan, out_dir)


# ---- from posts to documents ----------------------------------------------------------

def _clean(text: str, post: Post, what: str, problems: list[Problem]) -> str:
    cleaned, removed = xml_clean(text or "")
    if removed:
        problems.append(Problem(
            post.relpath, None,
            f"removed {removed} character(s) that XML cannot carry from the {what}",
            severity="warning",
        ))
    return cleaned


def site_author(config: Config) -> Author | None:
    if not config.site.author:
        return None
    return Author(config.site.author, config.site.author_email, config.site.author_uri)


def entry_doc(post: Post, rendered: RenderedPost, config: Config, problems: list[Problem]) -> EntryDoc:
    """One post as every format shows it: XML-safe text, dates to the second."""
    title = one_line(_clean(post.title, post, "title", problems)) or post.slug or post.url
    content = _clean(rendered.html, post, "content", problems)
    summary_html = _clean(rendered.summary_html, post, "summary", problems) or content
    summary_text = _clean(rendered.summary_text, post, "summary", problems)
    author = post.author or site_author(config)
    authors = ()
    if author is not None and author.name:
        name = one_line(_clean(author.name, post, "author", problems))
        authors = (Author(name, author.email, author.uri),) if name else ()
    categories = []
    for name in (*post.categories, *post.tags):
        name = one_line(_clean(str(name), post, "categories", problems))
        if name and name not in categories:
            categories.append(name)
    published = seconds(post.date)
    updated = seconds(post.updated) if post.updated else published
    excerpt_only = post.excerpt_only or config.feeds.excerpt_only
    if not (summary_html or content):
        summary_html = f"<p>{_escape(title)}</p>"
    return EntryDoc(
        id=post.id,
        title=title,
        url=post.url,
        published=published,
        updated=max(updated, published),
        summary_html=summary_html,
        summary_text=summary_text,
        content_html=None if excerpt_only else content,
        authors=authors,
        categories=tuple(categories),
        image=post.image,
        enclosure=post.enclosure,
    )


def feed_doc(spec: FeedSpec, entries: tuple[EntryDoc, ...], config: Config) -> FeedDoc:
    site = config.site
    base = config.site_url
    title = one_line(xml_clean(site.title)[0])
    subtitle = one_line(xml_clean(site.description)[0])
    if spec.kind in ("category", "tag"):
        name = one_line(xml_clean(spec.name)[0])
        title = f"{title} | {name}"
        subtitle = f"Posts {'in category' if spec.kind == 'category' else 'tagged'} {name}" + (
            f" — {subtitle}" if subtitle else ""
        )
    # Atom needs an author on every entry or on the feed: the site's, else its title.
    author = site_author(config)
    authors = (author,) if author else (Author(title),)
    updated = max((e.updated for e in entries), default=EPOCH)
    xsl = stylesheet_path(config)
    return FeedDoc(
        title=title,
        subtitle=subtitle,
        home_url=base + "/",
        lang=site.lang,
        updated=updated,
        entries=entries,
        authors=authors,
        urls={fmt: url(config, path) for fmt, path in spec.paths.items()},
        icon=absolute(config, site.icon),
        logo=absolute(config, site.logo),
        hub=config.feeds.hub if spec.kind != "archive" else "",   # archive pages never change
        stylesheets={
            fmt: posixpath.relpath(xsl, posixpath.dirname(path) or ".")
            for fmt, path in spec.paths.items() if xsl and fmt in ("atom", "rss")
        },
        archive=_archive_links(spec, config),
    )


def _archive_links(spec: FeedSpec, config: Config) -> dict[str, ArchiveLinks]:
    if not spec.pages or spec.kind not in ("main", "archive"):
        return {}
    out = {}
    for fmt in spec.paths:
        def page_url(n: int) -> str:
            return url(config, spec.page_paths(n)[fmt])

        if spec.page == 0:
            out[fmt] = ArchiveLinks(prev=page_url(spec.pages))
        else:
            out[fmt] = ArchiveLinks(
                current=page_url(0),
                prev=page_url(spec.page - 1) if spec.page > 1 else "",
                next=page_url(spec.page + 1) if spec.page < spec.pages else "",
                is_archive=True,
            )
    return out


def url(config: Config, path: str) -> str:
    """The absolute URL of a file in the output folder."""
    return f"{config.site_url}/{quote(path)}"


def absolute(config: Config, value: str) -> str:
    """A site path (``/img/logo.png``) or URL as an absolute URL ("" stays "")."""
    if not value or value.startswith(("http://", "https://")):
        return value
    return f"{config.site_url}/{quote(value.lstrip('/'))}"


STYLESHEET = "feed.xsl"


def stylesheet_path(config: Config) -> str:
    """Where the XSL stylesheet goes in the output folder ("" when turned off)."""
    return STYLESHEET if config.feeds.stylesheet is not False else ""


def stylesheet_bytes(config: Config) -> bytes:
    """``[feeds] stylesheet = "file.xsl"``, else ``templates/feed.xsl``, else feedpub's own."""
    setting = config.feeds.stylesheet
    if isinstance(setting, str) and setting:
        own = config.path(setting)
        if not own.is_file():
            raise ConfigError([Problem(config.source, None,
                                       f"'feeds.stylesheet': no such file {setting!r}", key="feeds.stylesheet")])
        return own.read_bytes()
    override = config.path(config.paths.templates) / STYLESHEET
    if override.is_file():
        return override.read_bytes()
    return (resources.files("feedpub") / "templates" / STYLESHEET).read_bytes()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
