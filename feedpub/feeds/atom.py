"""Atom 1.0 (RFC 4287): ``feed.xml``, the path jekyll-feed uses, so subscribers stay.

On top of feedgen's skeleton (``_feedgen.atom_tree``): WebSub ``rel="hub"``, RFC 5005
archive links and ``fh:archive``, Media RSS thumbnails, enclosure links, and the
``xml-stylesheet`` processing instruction.
"""
from __future__ import annotations

from lxml import etree

from ._feedgen import ATOM_NS, MEDIA_NS, atom_entry, atom_tree, insert_feed_links, serialize
from .document import EntryDoc, FeedDoc

A = f"{{{ATOM_NS}}}"


def atom_bytes(doc: FeedDoc, cache: dict | None = None) -> bytes:
    """The Atom document for ``doc``; its id and self link are ``doc.urls["atom"]``.

    ``cache`` (one dict per build) keeps each post's finished ``<entry>`` so a post in
    the main, a category and a tag feed is built once.
    """
    cache = {} if cache is None else cache
    entries = []
    for entry in doc.entries:
        key = ("atom", entry.id)
        if key not in cache:
            cache[key] = _entry_element(entry, cache)
        entries.append(cache[key])
    tree = atom_tree(doc, doc.urls["atom"], entries)
    root = tree.getroot()
    anchor = root.findall(f"{A}link")[-1]
    used = insert_feed_links(anchor, doc, "atom", "application/atom+xml")
    etree.cleanup_namespaces(tree, top_nsmap=used or None)
    return serialize(tree, stylesheet=doc.stylesheets.get("atom", ""))


def _entry_element(entry: EntryDoc, cache: dict) -> etree._Element:
    element = atom_entry(entry, cache)
    link = element.find(f"{A}link")
    if entry.enclosure:
        enc = etree.Element(f"{A}link", href=entry.enclosure.url, rel="enclosure", type=entry.enclosure.type)
        if entry.enclosure.length:
            enc.set("length", str(entry.enclosure.length))
        link.addnext(enc)
    if entry.image:
        element.append(etree.Element(f"{{{MEDIA_NS}}}thumbnail", url=entry.image.url))
        content = etree.SubElement(element, f"{{{MEDIA_NS}}}content", url=entry.image.url, medium="image")
        if entry.image.alt:
            etree.SubElement(content, f"{{{MEDIA_NS}}}description").text = entry.image.alt
    return element
