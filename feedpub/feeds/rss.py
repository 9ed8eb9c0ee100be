"""RSS 2.0 with ``content:encoded`` (full HTML) and ``dc:creator`` (authors)."""
from __future__ import annotations

import re

from lxml import etree

from ._feedgen import ATOM_NS, rss_tree, serialize
from .document import FeedDoc

DC_NS = "http://purl.org/dc/elements/1.1/"


def rss_bytes(doc: FeedDoc) -> bytes:
    """The RSS document for ``doc``; its atom:link self is ``doc.urls["rss"]``."""
    tree = rss_tree(doc, doc.urls["rss"])
    channel = tree.getroot().find("channel")
    for link in channel.findall(f"{{{ATOM_NS}}}link"):
        link.set("type", "application/rss+xml")
    for item, entry in zip(channel.findall("item"), doc.entries):
        guid = item.find("guid")
        if guid is not None:
            # A guid is a permalink only when it is the post's URL (RSS profile).
            guid.set("isPermaLink", "true" if entry.id == entry.url else "false")
        anchor = item.find("link")
        for author in entry.authors:
            if author.name:
                creator = etree.Element(f"{{{DC_NS}}}creator")
                creator.text = author.name
                anchor.addnext(creator)
                anchor = creator
    etree.cleanup_namespaces(tree, top_nsmap={"dc": DC_NS} if any(e.authors for e in doc.entries) else None)
    return _hex_refs_in_titles(serialize(tree, stylesheet=doc.stylesheet))


_TITLE = re.compile(rb"(<title>)([^<]*)(</title>)")


def _hex_refs_in_titles(data: bytes) -> bytes:
    """RSS titles are ambiguous (text or HTML?): the RSS Best Practices Profile asks for
    ``&`` and ``<`` as hexadecimal references there, which every reader decodes as text."""
    def fix(m: re.Match[bytes]) -> bytes:
        return m.group(1) + m.group(2).replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;") + m.group(3)

    return _TITLE.sub(fix, data)
