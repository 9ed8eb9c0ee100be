"""A feed as plain data, the same for every format, plus text cleaning for XML.

``feeds.__init__`` turns the selected posts and their rendered HTML into one
``FeedDoc``; ``atom``, ``rss`` and ``jsonfeed`` each turn a ``FeedDoc`` into bytes. No
writer sees a ``Post`` or a ``Config``, so each one is a pure function that tests can
call with hand-made documents.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..model import Author, Enclosure, Image

#: Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates,
#: U+FFFE/U+FFFF). lxml refuses them ("All strings must be XML compatible") and readers
#: reject a feed holding them as character references, so they are removed. So are DEL
#: and the C1 controls (U+007F-U+009F), which XML 1.0 discourages and readers turn into
#: other characters (feedparser reads U+0080 as a euro sign): they are mojibake, not text.
_NOT_XML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

#: A fixed date for the ``updated`` of a feed with no entries: never the build time,
#: so an empty feed is byte-identical across builds too.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def xml_clean(text: str) -> tuple[str, int]:
    """``text`` without the characters XML 1.0 forbids, and how many were removed."""
    cleaned, count = _NOT_XML.subn("", text)
    return cleaned, count


def one_line(text: str) -> str:
    """Titles and names: whitespace runs (newlines included) become one space."""
    return " ".join(text.split())


def seconds(value: datetime) -> datetime:
    """A timezone-aware datetime to the second (naive values are taken as UTC)."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class EntryDoc:
    """One post as every feed format shows it; all text XML-safe, all URLs absolute."""

    id: str
    title: str
    url: str
    published: datetime
    updated: datetime
    summary_html: str
    summary_text: str
    content_html: str | None = None       # None: excerpt only (summary, no content)
    authors: tuple[Author, ...] = ()
    categories: tuple[str, ...] = ()
    image: Image | None = None
    enclosure: Enclosure | None = None


@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """RFC 5005 links of one page: the current feed, the older and the newer archive page."""

    current: str = ""
    prev: str = ""
    next: str = ""
    is_archive: bool = False


@dataclass(frozen=True, slots=True)
class FeedDoc:
    """One feed (main, category or tag) before it is written in any format."""

    title: str
    subtitle: str
    home_url: str                          # the site's front page (alternate link)
    lang: str
    updated: datetime                      # the newest entry's date, never the build time
    entries: tuple[EntryDoc, ...]
    authors: tuple[Author, ...] = ()
    urls: dict[str, str] = field(default_factory=dict)   # format -> absolute URL of that file
    icon: str = ""                         # absolute URL of the square site icon
    logo: str = ""                         # absolute URL of the wide site logo
    hub: str = ""                          # WebSub hub URL
    stylesheets: dict[str, str] = field(default_factory=dict)   # format -> XSL href (relative)
    archive: dict[str, ArchiveLinks] = field(default_factory=dict)  # format -> RFC 5005 links

    def links(self, fmt: str) -> ArchiveLinks:
        return self.archive.get(fmt) or ArchiveLinks()
