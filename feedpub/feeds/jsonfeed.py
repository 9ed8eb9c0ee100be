"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand with ``json``.

Keys come in a fixed order (``version`` first, as the spec asks), items newest first,
so two builds of the same posts give the same bytes.
"""
from __future__ import annotations

import json
from typing import Any

from ..model import Author
from .document import EntryDoc, FeedDoc, seconds

VERSION = "https://jsonfeed.org/version/1.1"


def _authors(authors: tuple[Author, ...]) -> list[dict[str, str]]:
    out = []
    for a in authors:
        if not a.name:
            continue
        item = {"name": a.name}
        if a.uri.startswith(("http://", "https://")):
            item["url"] = a.uri
        out.append(item)
    return out


def jsonfeed_dict(doc: FeedDoc) -> dict[str, Any]:
    """The whole JSON Feed as a dict (tests and tools; ``jsonfeed_bytes`` writes it)."""
    feed = _feed_fields(doc)
    feed["items"] = [item_dict(e) for e in doc.entries]
    return feed


def _feed_fields(doc: FeedDoc) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": doc.title,
        "home_page_url": doc.home_url,
        "feed_url": doc.urls["json"],
    }
    if doc.subtitle:
        feed["description"] = doc.subtitle
    if doc.icon or doc.logo:
        feed["icon"] = doc.icon or doc.logo
    if doc.icon:
        feed["favicon"] = doc.icon
    if doc.lang:
        feed["language"] = doc.lang
    if doc.hub:
        feed["hubs"] = [{"type": "WebSub", "url": doc.hub}]
    if doc.links("json").prev:
        # JSON Feed pagination: next_url is the next page of *older* items.
        feed["next_url"] = doc.links("json").prev
    authors = _authors(doc.authors)
    if authors:
        feed["authors"] = authors
        feed["author"] = authors[0]     # JSON Feed 1.0 readers; 1.1 allows both
    return feed


def item_dict(e: EntryDoc) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": e.id,
        "url": e.url,
        "title": e.title,
        "content_html": e.content_html if e.content_html is not None else e.summary_html,
    }
    if e.summary_text:
        item["summary"] = e.summary_text
    if e.image:
        item["image"] = e.image.url
        item["banner_image"] = e.image.url
    item["date_published"] = seconds(e.published).isoformat()
    item["date_modified"] = seconds(e.updated).isoformat()
    entry_authors = _authors(e.authors)
    if entry_authors:
        item["authors"] = entry_authors
        item["author"] = entry_authors[0]
    if e.categories:
        item["tags"] = list(e.categories)
    if e.enclosure:
        attachment: dict[str, Any] = {"url": e.enclosure.url, "mime_type": e.enclosure.type}
        if e.enclosure.length:
            attachment["size_in_bytes"] = e.enclosure.length
        item["attachments"] = [attachment]
    return item


def jsonfeed_bytes(doc: FeedDoc, cache: dict | None = None) -> bytes:
    """The JSON Feed: feed keys one per line, each item on one line (json's C encoder is
    only used without ``indent``, and a post in several feeds is encoded once)."""
    cache = {} if cache is None else cache
    head = _feed_fields(doc)
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    items = []
    for e in doc.entries:
        key = ("json", e.id)
        if key not in cache:
            cache[key] = json.dumps(item_dict(e), ensure_ascii=False)
        items.append("    " + cache[key])
    body = ",\n".join(items)
    text = "{\n" + "\n".join(lines) + '\n  "items": [' + (f"\n{body}\n  ]" if items else "]") + "\n}\n"
    return text.encode("utf-8")
