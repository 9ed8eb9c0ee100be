"""Atom 1.0 (RFC 4287): ``feed.xml``, the path jekyll-feed uses, so subscribers stay."""
from __future__ import annotations

from ._feedgen import atom_tree, serialize
from .document import FeedDoc


def atom_bytes(doc: FeedDoc) -> bytes:
    """The Atom document for ``doc``; its id and self link are ``doc.urls["atom"]``."""
    tree = atom_tree(doc, doc.urls["atom"])
    return serialize(tree, stylesheet=doc.stylesheet)
