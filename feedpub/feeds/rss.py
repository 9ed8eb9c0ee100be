"""RSS 2.0 with ``content:encoded`` (full HTML) and ``dc:creator`` (authors).

On top of feedgen's skeleton (``_feedgen.rss_tree``): ``dc:creator``, the guid's
``isPermaLink``, WebSub and RFC 5005 links as ``atom:link``, ``fh:archive``, Media RSS
thumbnails, and the ``xml-stylesheet`` processing instruction.
"""
from __future__ import annotations

import re

from lxml import etree

from ._feedgen import ATOM_NS, MEDIA_NS, insert_feed_links, rss_item, rss_tree, serialize
from .document import EntryDoc, FeedDoc

DC_NS = "http://purl.org/dc/elements/1.1/"


def rss_bytes(doc: FeedDoc, cache: dict | None = None) -> bytes:
    """The RSS document for ``doc``; its atom:link self is ``doc.urls["rss"]``.

    ``cache`` (one dict per build) keeps each post's finished ``<item>``.
    """
    cache = {} if cache is None else cache
    items = []
    for entry in doc.entries:
        key = ("rss", entry.id)
        if key not in cache:
            cache[key] = _item_element(entry, cache)
        items.append(cache[key])
    tree = rss_tree(doc, doc.urls["rss"], items)
    channel = tree.getroot().find("channel")
    anchor = channel.find(f"{{{ATOM_NS}}}link")
    anchor.set("type", "application/rss+xml")
    used = insert_feed_links(anchor, doc, "rss", "application/rss+xml")
    if any(e.authors for e in doc.entries):
        used["dc"] = DC_NS
    etree.cleanup_namespaces(tree, top_nsmap=used or None)
    return _hex_refs_in_titles(serialize(tree, stylesheet=doc.stylesheets.get("rss", "")))


def _item_element(entry: EntryDoc, cache: dict) -> etree._Element:
    item = rss_item(entry, cache)
    guid = item.find("guid")
    if guid is not None:
        # A guid is a permalink only when it is the post's URL (RSS profile).
        guid.set("isPermaLink", "true" if entry.id == entry.url else "false")
    at = item.find("link")
    for author in entry.authors:
        if author.name:
            creator = etree.Element(f"{{{DC_NS}}}creator")
            creator.text = author.name
            at.addnext(creator)
            at = creator
    if entry.image:
        etree.SubElement(item, f"{{{MEDIA_NS}}}thumbnail", url=entry.image.url)
        content = etree.SubElement(item, f"{{{MEDIA_NS}}}content", url=entry.image.url, medium="image")
        if entry.image.alt:
            etree.SubElement(content, f"{{{MEDIA_NS}}}description").text = entry.image.alt
    return item


_TITLE = re.compile(rb"(<title>)([^<]*)(</title>)")


def _hex_refs_in_titles(data: bytes) -> bytes:
    """RSS titles are ambiguous (text or HTML?): the RSS Best Practices Profile asks for
    ``&`` and ``<`` as hexadecimal references there, which every reader decodes as text."""
    def fix(m: re.Match[bytes]) -> bytes:
        return m.group(1) + m.group(2).replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;") + m.group(3)

    return _TITLE.sub(fix, data)
