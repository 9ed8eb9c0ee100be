"""Absolute URLs for post HTML read outside the site (feed readers, email clients).

A feed entry or an email has no base URL a reader reliably honours (``xml:base`` is
ignored by most), so every relative ``href``/``src``/``srcset``/``poster`` is resolved
against the post's own URL. These functions work on one attribute value at a time;
``feedpub.sanitize`` calls them from the HTML parser's attribute callback, so the HTML
is parsed once for sanitizing and absolutizing together (never regexes over raw HTML).
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

#: Attributes whose value is one URL (srcset is a list, handled separately).
URL_ATTRS = frozenset({"href", "src", "poster", "cite", "longdesc", "action", "formaction", "background"})

LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MEDIA_SCHEMES = frozenset({"http", "https"})
#: Raster images only: an SVG can carry script when opened on its own.
DATA_IMAGE_RE = re.compile(r"data:image/(png|jpeg|jpg|gif|webp|avif)[;,]", re.I)

# Browsers drop ASCII tab/newline anywhere in a URL ("java\tscript:") and trim
# surrounding whitespace/control characters; do the same before looking at the scheme.
_STRIP_INSIDE = re.compile(r"[\t\n\r]")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


def clean_url(value: str) -> str:
    return _STRIP_INSIDE.sub("", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \x7f")


def scheme_of(url: str) -> str | None:
    """The URL's scheme, lower-cased, or None for a relative URL."""
    m = _SCHEME_RE.match(url)
    return m.group(1).lower() if m else None


def absolute(value: str, base: str, *, schemes: frozenset[str] = LINK_SCHEMES) -> str | None:
    """``value`` resolved against ``base``; None when its scheme is not in ``schemes``.

    ``//host/x`` becomes ``https://host/x``; ``#frag`` becomes ``base#frag`` (the post's
    URL, so footnote links work from a feed reader); an unparsable URL is dropped.
    """
    url = clean_url(value)
    if url.startswith("//"):
        url = "https:" + url
    scheme = scheme_of(url)
    if scheme is not None:
        if scheme not in schemes:
            return None
        try:
            urlsplit(url)  # raises ValueError on e.g. an unclosed IPv6 bracket
        except ValueError:
            return None
        return url
    if url.startswith("\\"):  # browsers read "\\host" like "//host"
        return None
    try:
        joined = urljoin(base, url)
        urlsplit(joined)  # raises ValueError on e.g. an unclosed IPv6 bracket
    except ValueError:
        return None
    return joined if scheme_of(joined) in schemes else None


def absolute_srcset(value: str, base: str, *, schemes: frozenset[str] = MEDIA_SCHEMES) -> str | None:
    """Resolve every candidate URL of a ``srcset``; unsafe candidates are dropped."""
    out = []
    for url, descriptor in parse_srcset(value):
        resolved = absolute(url, base, schemes=schemes)
        if resolved is None or "," in resolved and not descriptor:
            continue
        out.append(f"{resolved} {descriptor}" if descriptor else resolved)
    return ", ".join(out) if out else None


def parse_srcset(value: str) -> list[tuple[str, str]]:
    """Split a srcset into (url, descriptor) pairs, following the HTML algorithm's shape.

    A URL runs to the next whitespace (it may contain commas); trailing commas end the
    candidate; otherwise the descriptor runs to the next comma outside parentheses.
    """
    candidates: list[tuple[str, str]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        if i >= n:
            break
        start = i
        while i < n and not value[i].isspace():
            i += 1
        url = value[start:i]
        if url.endswith(","):
            candidates.append((url.rstrip(","), ""))
            continue
        depth = 0
        start = i
        while i < n:
            ch = value[i]
            if ch == "(":
                depth += 1
            elif ch == ")" and depth:
                depth -= 1
            elif ch == "," and not depth:
                break
            i += 1
        candidates.append((url, " ".join(value[start:i].split())))
        i += 1
    return candidates


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
