"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand with ``json``.

Keys come in a fixed order (``version`` first, as the spec asks), items newest first,
so two builds of the same posts give the same bytes.
"""
from __future__ import annotations

import json
from typing import Any

from ..model import Author
from .document import FeedDoc, seconds

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
    items = []
    for e in doc.entries:
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
        if e.categories:
            item["tags"] = list(e.categories)
        if e.enclosure:
            attachment: dict[str, Any] = {"url": e.enclosure.url, "mime_type": e.enclosure.type}
            if e.enclosure.length:
                attachment["size_in_bytes"] = e.enclosure.length
            item["attachments"] = [attachment]
        items.append(item)
    feed["items"] = items
    return feed


def jsonfeed_bytes(doc: FeedDoc) -> bytes:
    text = json.dumps(jsonfeed_dict(doc), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")
