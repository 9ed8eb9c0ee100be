"""The one module that imports feedgen, and the fixes for its traps.

feedgen 1.0.0 builds the Atom and RSS skeletons well, but:

* ``add_entry()`` *prepends* by default: entries are built on their own (one
  ``FeedEntry`` per post, reused by every feed holding it) and appended in order;
* naive datetimes raise: every date goes through ``document.seconds``;
* the feed's ``updated``/``lastBuildDate`` and every entry's ``updated`` default to
  ``now()``: all are set explicitly (the newest entry's date), so builds are
  byte-identical;
* the generator tag carries feedgen's version: it is set to ``feedpub`` without one;
* Atom entry links lose their ``rel``/``type`` attributes (upstream issue #135): entry
  links are added here with lxml instead;
* ``content(type="CDATA")`` writes an invalid Atom ``type``: content is passed as
  escaped HTML (``type="html"``);
* RSS ``<author>`` needs an email and mixes it with the name: authors go to
  ``dc:creator`` instead (in ``rss.py``);
* no ``xml:base``, stylesheet processing instruction or hub link: ``atom.py`` and
  ``rss.py`` add what they need to the tree returned here.

``atom_entry``/``rss_item`` build one post's element (once per build); ``atom_tree``/
``rss_tree`` build a feed around copies of them; ``serialize`` writes the bytes.
"""
from __future__ import annotations

import copy
import re

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from .document import EntryDoc, FeedDoc, seconds

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"     # RFC 5005
MEDIA_NS = "http://search.yahoo.com/mrss/"            # Media RSS (images)
GENERATOR = "feedpub"

# A deliberately simple addr-spec check: Atom's <email> and the W3C validator reject
# anything that is not one, and a wrong author email is worse than none.
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")


def _author_dicts(doc_authors) -> list[dict[str, str]]:  # noqa: ANN001 - tuple[Author, ...]
    out = []
    for a in doc_authors:
        if not a.name:
            continue
        item = {"name": a.name}
        if a.email and _EMAIL.match(a.email):
            item["email"] = a.email
        if a.uri and a.uri.startswith(("http://", "https://")):
            item["uri"] = a.uri
        out.append(item)
    return out


def _generator(doc: FeedDoc, self_url: str) -> FeedGenerator:
    """The feed-level skeleton (no entries: those are built once each, see below)."""
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(doc.title)
    fg.updated(seconds(doc.updated))
    fg.lastBuildDate(seconds(doc.updated))
    fg.generator(GENERATOR)           # no version attribute, no feedgen URI
    fg.language(doc.lang)
    fg.description(doc.subtitle or doc.title)  # RSS requires one; also sets Atom's subtitle
    fg.link(href=self_url, rel="self")
    fg.link(href=doc.home_url, rel="alternate")
    authors = _author_dicts(doc.authors)
    if authors:
        fg.author(authors)
    if doc.icon:
        fg.icon(doc.icon)
    if doc.logo:
        fg.logo(doc.logo)
    if doc.logo or doc.icon:
        fg.image(url=doc.logo or doc.icon, title=doc.title, link=doc.home_url)   # RSS <image>
    return fg


def _entry(entry: EntryDoc) -> FeedEntry:
    fe = FeedEntry()
    fe.id(entry.id)
    fe.title(entry.title)
    fe.updated(seconds(entry.updated))
    fe.published(seconds(entry.published))
    fe.link(href=entry.url, rel="alternate")   # RSS <link>; Atom's is redone (#135)
    entry_authors = _author_dicts(entry.authors)
    if entry_authors:
        fe.author(entry_authors)
    if entry.content_html is not None:
        fe.content(entry.content_html, type="html")
    fe.summary(entry.summary_html, type="html")
    if entry.categories:
        fe.category([{"term": c} for c in entry.categories])
    if entry.enclosure:   # RSS <enclosure> (one per item); Atom's link is added in atom.py
        fe.enclosure(entry.enclosure.url, str(entry.enclosure.length), entry.enclosure.type)
    return fe


def _cached_entry(entry: EntryDoc, cache: dict | None) -> FeedEntry:
    if cache is None:
        return _entry(entry)
    key = ("feedgen", entry.id)
    if key not in cache:
        cache[key] = _entry(entry)
    return cache[key]


def atom_entry(entry: EntryDoc, cache: dict | None = None) -> etree._Element:
    """One Atom ``<entry>`` (namespaced, links fixed). A post in several feeds (main,
    categories, tags) is built once and copied into each of them."""
    raw = etree.tostring(_cached_entry(entry, cache).atom_entry())
    # feedgen builds entries without a namespace (its feed root carries a literal xmlns
    # attribute); parsing inside an Atom wrapper gives real Atom elements.
    element = etree.fromstring(b'<feed xmlns="http://www.w3.org/2005/Atom">' + raw + b"</feed>")[0]
    # feedgen #135: entry links come out as bare <link href=...>; rebuild them.
    for link in element.findall(f"{{{ATOM_NS}}}link"):
        element.remove(link)
    link = etree.Element(f"{{{ATOM_NS}}}link", href=entry.url, rel="alternate", type="text/html")
    _insert_after(element, f"{{{ATOM_NS}}}title", link)
    return element


def rss_item(entry: EntryDoc, cache: dict | None = None) -> etree._Element:
    """One RSS ``<item>``; feedgen's ``<author>`` (email + name) is dropped for dc:creator."""
    element = _cached_entry(entry, cache).rss_entry()
    for author in element.findall("author"):
        element.remove(author)
    return element


def atom_tree(doc: FeedDoc, self_url: str, entries: list[etree._Element]) -> etree._ElementTree:
    """The Atom feed with copies of ``entries`` (from ``atom_entry``), feedgen's traps fixed."""
    root = etree.fromstring(_generator(doc, self_url).atom_str(pretty=False))
    if doc.lang:
        root.set("{http://www.w3.org/XML/1998/namespace}lang", doc.lang)
    if not doc.subtitle:
        for element in root.findall(f"{{{ATOM_NS}}}subtitle"):
            root.remove(element)
    for link in root.findall(f"{{{ATOM_NS}}}link"):
        link.set("type", "application/atom+xml" if link.get("rel") == "self" else "text/html")
    for element in entries:                      # newest first, appended in order
        root.append(copy.deepcopy(element))
    return etree.ElementTree(root)


def rss_tree(doc: FeedDoc, self_url: str, items: list[etree._Element]) -> etree._ElementTree:
    """The RSS 2.0 feed with copies of ``items`` (from ``rss_item``)."""
    root = etree.fromstring(_generator(doc, self_url).rss_str(pretty=False))
    channel = root.find("channel")
    if not doc.entries:
        # No entry, no date to give: leave lastBuildDate out rather than invent one.
        for element in channel.findall("lastBuildDate"):
            channel.remove(element)
    for element in items:
        channel.append(copy.deepcopy(element))
    return etree.ElementTree(root)


def _insert_after(parent: etree._Element, tag: str, new: etree._Element) -> None:
    anchor = parent.find(tag)
    if anchor is None:
        parent.append(new)
    else:
        anchor.addnext(new)


def serialize(tree: etree._ElementTree, *, stylesheet: str = "") -> bytes:
    """Pretty-printed UTF-8 with an XML declaration (and the stylesheet PI when given)."""
    root = tree.getroot()
    if stylesheet:
        pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{_attr(stylesheet)}"')
        root.addprevious(pi)
    etree.indent(tree, space="  ")
    return etree.tostring(tree, pretty_print=True, encoding="UTF-8", xml_declaration=True)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def insert_feed_links(anchor: etree._Element, doc: FeedDoc, fmt: str, media_type: str) -> dict[str, str]:
    """Add the WebSub hub and RFC 5005 archive links after ``anchor`` (an atom:link).

    Both Atom and RSS carry them as atom:link elements; an archive page also gets
    ``<fh:archive/>``. Returns the extra namespaces used, for ``cleanup_namespaces``.
    """
    links = doc.links(fmt)
    for rel, href in (("hub", doc.hub), ("current", links.current), ("prev-archive", links.prev),
                      ("next-archive", links.next)):
        if href:
            link = etree.Element(f"{{{ATOM_NS}}}link", href=href, rel=rel)
            if rel != "hub":
                link.set("type", media_type)
            anchor.addnext(link)
            anchor = link
    used: dict[str, str] = {}
    if links.is_archive:
        anchor.addnext(etree.Element(f"{{{FH_NS}}}archive"))
        used["fh"] = FH_NS
    if any(e.image for e in doc.entries):
        used["media"] = MEDIA_NS
    return used
