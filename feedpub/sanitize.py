"""Sanitize post HTML and make its URLs absolute, in one parse (nh3 = Rust ammonia).

What survives: text markup, tables, code blocks with Pygments' inline ``style`` (only
the CSS properties in ``STYLE_PROPERTIES``, never ``url(...)``), images (``src``,
``srcset``, ``alt``, ``width``, ``height``), ``video``/``audio``/``source``/``track``,
``figure``, and ``iframe`` only from ``[feeds] iframe_hosts`` (others become a plain
link to what they embedded). What never survives: ``<script>``/``<style>`` and their
content, ``on*=`` handlers, ``javascript:``/``vbscript:``/``data:`` URLs (one exception:
raster ``data:image/png|jpeg|gif|webp|avif`` in ``<img src>``, which browsers never
execute), forms, ``<object>``/``<embed>``, comments.

nh3 checks URL schemes of ``href``/``src`` itself and then calls our
``attribute_filter`` for every kept attribute: that callback resolves relative URLs
against the post URL (``feedpub.urls``), re-checks schemes on every URL-bearing
attribute (``srcset``, ``poster`` too), and applies the iframe allowlist.
"""
from __future__ import annotations

import html as _html
import re
from collections.abc import Iterable

import nh3

from . import urls

TAGS = (nh3.ALLOWED_TAGS - {"map", "area"}) | {
    "iframe", "video", "audio", "source", "track", "picture", "figure", "figcaption",
    "s", "section", "dl", "dt", "dd",
}
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"id", "class", "title", "lang", "dir", "style"},
    "a": {"href", "hreflang", "name"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height", "loading", "align"},
    "video": {"src", "poster", "controls", "width", "height", "preload", "loop", "muted", "playsinline"},
    "audio": {"src", "controls", "preload", "loop", "muted"},
    "source": {"src", "srcset", "type", "media", "sizes"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "iframe": {"src", "width", "height", "allowfullscreen", "frameborder", "loading"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "align", "headers"},
    "th": {"colspan", "rowspan", "align", "headers", "scope"},
    "col": {"span", "align"},
    "colgroup": {"span", "align"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "data": {"value"},
    "abbr": {"title"},
    "details": {"open"},
}
#: What Pygments' inline styles, Markdown's table alignment and ordinary author HTML use.
STYLE_PROPERTIES = {
    "color", "background", "background-color", "font-weight", "font-style", "font-size",
    "font-family", "text-decoration", "text-align", "vertical-align", "line-height",
    "white-space", "word-wrap", "overflow-wrap", "word-break", "overflow-x", "overflow",
    "padding", "padding-left", "padding-right", "padding-top", "padding-bottom",
    "margin", "margin-left", "margin-right", "margin-top", "margin-bottom",
    "border", "border-radius", "border-left", "border-color", "border-style", "border-width",
    "width", "max-width", "height", "max-height", "display",
}
URL_SCHEMES = {"http", "https", "mailto", "tel", "data"}
_BAD_STYLE = re.compile(r"url\s*\(|expression\s*\(|\\|javascript:|@import|behavior\s*:", re.I)
_MEDIA_TAGS = frozenset({"img", "video", "audio", "source", "track", "iframe", "picture"})

# XML 1.0 cannot carry these (and nh3, in Rust, cannot take lone surrogates).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def strip_xml_illegal(text: str) -> str:
    return XML_ILLEGAL.sub("", text)


# ---- nesting guard ----------------------------------------------------------------------
# html5ever (inside nh3) is quadratic in nesting depth: "<div>" * 20,000 takes 3.5 s and
# "<div>" * 100,000 about 90 s, inside one C call that no timeout can interrupt. Real posts
# nest a few dozen levels, so deeper HTML is refused before it reaches the parser.
MAX_HTML_DEPTH = 1000
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")
#: Elements that never nest (void) or whose end tag is optional (the parser closes them).
_NO_DEPTH = frozenset(
    "area base br col embed hr img input link meta source track wbr "
    "p li dt dd tr td th thead tbody tfoot colgroup caption option optgroup rb rt rp rtc "
    "html head body".split()
)


class TooDeeplyNested(ValueError):
    """The HTML nests more than MAX_HTML_DEPTH elements deep."""

    def __init__(self, depth: int) -> None:
        super().__init__(f"its HTML nests at least {depth:,} elements deep (the limit is {MAX_HTML_DEPTH:,})")
        self.depth = depth


def check_depth(fragment: str, limit: int | None = None) -> None:
    """Raise TooDeeplyNested when ``fragment`` nests deeper than ``limit`` (a linear scan).

    Only a resource guard: it over-counts sloppy HTML a little, never sanitizes anything.
    """
    limit = MAX_HTML_DEPTH if limit is None else limit
    if fragment.count("<") <= limit:
        return
    depth = 0
    for m in _TAG.finditer(fragment):
        name = m.group(2).lower()
        if name in _NO_DEPTH or m.group(3):
            continue
        if m.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > limit:
                raise TooDeeplyNested(depth)


class Sanitizer:
    """``clean(html, base_url)`` -> safe HTML with absolute URLs. Thread-safe."""

    def __init__(self, iframe_hosts: Iterable[str] = ()) -> None:
        self.iframe_hosts = frozenset(h.lower().strip() for h in iframe_hosts if h.strip())

    def clean(self, fragment: str, base_url: str) -> str:
        """Raises TooDeeplyNested for HTML the parser would take minutes over."""
        fragment = strip_xml_illegal(fragment)
        check_depth(fragment)
        rejected_iframes: list[str] = []
        iframe_hosts = self.iframe_hosts

        def attribute_filter(tag: str, attr: str, value: str) -> str | None:
            if attr in urls.URL_ATTRS:
                if tag == "img" and attr == "src" and value.lstrip()[:5].lower() == "data:":
                    return value.strip() if urls.DATA_IMAGE_RE.match(value.strip()) else None
                schemes = urls.MEDIA_SCHEMES if tag in _MEDIA_TAGS else urls.LINK_SCHEMES
                resolved = urls.absolute(value, base_url, schemes=schemes)
                if tag == "iframe" and resolved is not None and urls.host_of(resolved) not in iframe_hosts:
                    rejected_iframes.append(resolved)
                    return None
                return resolved
            if attr == "srcset":
                return urls.absolute_srcset(value, base_url)
            if attr == "style":
                return None if _BAD_STYLE.search(value) else value
            return value

        cleaner = nh3.Cleaner(
            tags=TAGS,
            attributes=ATTRIBUTES,
            attribute_filter=attribute_filter,
            url_schemes=URL_SCHEMES,
            filter_style_properties=STYLE_PROPERTIES,
            link_rel="noopener noreferrer",
            strip_comments=True,
        )
        # "&nbsp;" is the one named entity html5ever writes; XML and XHTML readers only
        # know the numeric form.
        out = cleaner.clean(fragment).replace("&nbsp;", "&#160;")
        if rejected_iframes or "<iframe" in out:
            out = _replace_bad_iframes(out, rejected_iframes)
        return out


def _replace_bad_iframes(fragment: str, rejected: list[str]) -> str:
    """Turn iframes whose ``src`` was refused into a link to what they embedded.

    Runs only when a post has such an iframe, on HTML nh3 has already made safe.
    """
    import lxml.html

    parts = lxml.html.fragments_fromstring(f"<div>{fragment}</div>")
    root = parts[0]
    queue = list(rejected)
    changed = False
    for iframe in list(root.iter("iframe")):
        if iframe.get("src"):
            continue
        changed = True
        url = queue.pop(0) if queue else ""
        parent = iframe.getparent()
        if url:
            link = lxml.html.Element("a", href=url, rel="noopener noreferrer")
            link.text = url
            link.tail = iframe.tail
            parent.replace(iframe, link)
        else:
            iframe.drop_tree()  # keeps the text after it
    if not changed:
        return fragment
    inner = (root.text and _html.escape(root.text, quote=False) or "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )
    return inner


_BLOCK_BOUNDARY = re.compile(r"<(?=(?:br|hr|img|/?(?:p|div|li|dt|dd|td|th|tr|h[1-6]|blockquote|pre|figcaption|table|ul|ol|dl))\b)", re.I)


def to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed (JSON Feed summary, preheaders).

    Block boundaries and line breaks become spaces, so "<td>a</td><td>b</td>" reads "a b".
    """
    fragment = _BLOCK_BOUNDARY.sub(" <", strip_xml_illegal(fragment))
    check_depth(fragment)
    text = nh3.clean(fragment, tags=set(), strip_comments=True)
    return " ".join(_html.unescape(text).split())
