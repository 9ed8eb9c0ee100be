"""Post URLs and ids computed exactly as Jekyll (4.x) and jekyll-feed compute them.

A Jekyll blog that moves its feed to feedpub must keep every entry's link and id, or
subscribers see each post twice. The rules below follow Jekyll's source:

* ``Configuration::STYLE_TO_PERMALINK`` for the styles ``date`` (default), ``pretty``,
  ``ordinal``, ``weekdate`` and ``none``; any other ``permalink`` is a pattern.
* ``Drops::UrlDrop`` for the placeholders (``:title`` is the slug slugified in "pretty"
  mode keeping case, ``:slug`` in "default" mode, ``:categories`` lower-cased and joined
  with ``/``, dates in the site's time zone ...), ``URL.escape_path`` for escaping each
  replacement, ``URL#sanitize_url`` for the final clean-up (``..`` -> ``/``, no ``./``,
  no ``//``).
* ``Document#id`` (``File.join(File.dirname(url), slug)``) for the id; jekyll-feed writes
  ``post.id | absolute_url`` as the Atom id, and ``absolute_url`` normalizes the URL the
  way Addressable does (percent-encoding, NFC).

One deliberate difference: a permalink that still climbs out of the site once its
percent-escapes are decoded (``/%2e%2e/%2e%2e/baddie.html``, Jekyll's own test fixture)
is an error instead of a URL.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote, unquote

STYLES = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}
OUTPUT_EXT = ".html"

_PLACEHOLDER = re.compile(r":([a-z_]+)")
_PLAIN = re.compile(r"[a-zA-Z0-9./-]+\Z")
_PATH_SAFE = "!$&'()*+,;=:@/-._~"
# Already normalized: path characters, and escapes of ASCII bytes Addressable keeps escaped.
_KEEP_ESCAPED = "|".join(
    f"{b:02X}" for b in range(128) if chr(b) == "/" or not (chr(b).isalnum() or chr(b) in "-._~!$&'()*+,;=:@")
)
_NORMAL = re.compile(rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%(?:{_KEEP_ESCAPED}))*\Z")
_SLUG_DEFAULT_ASCII = re.compile(r"[^A-Za-z0-9]+")
_SLUG_PRETTY_ASCII = re.compile(r"[^A-Za-z0-9._~!$&'()+,;=@]+")
_PRETTY_EXTRA = frozenset("._~!$&'()+,;=@")
_SLASHES = re.compile("/{2,}")
_RISKY_ESCAPE = re.compile(r"%(?:2[eEfF]|5[cC]|00)")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|\Z)")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class PermalinkError(ValueError):
    """A permalink pattern names an unknown placeholder or escapes the site."""


def template_for(style: str) -> str:
    """The URL pattern of a permalink style, or the pattern itself."""
    return STYLES.get(style, style)


def slugify(text: str, mode: str = "default", *, cased: bool = False) -> str:
    """Jekyll's ``Utils.slugify`` for the "default" and "pretty" modes."""
    if text.isascii():
        pattern = _SLUG_PRETTY_ASCII if mode == "pretty" else _SLUG_DEFAULT_ASCII
        slug = pattern.sub("-", text)
    else:
        keep = _PRETTY_EXTRA if mode == "pretty" else frozenset()
        out: list[str] = []
        for ch in text:
            cat = unicodedata.category(ch)
            if cat[0] in "LM" or cat == "Nd" or ch in keep:
                out.append(ch)
            elif not out or out[-1] != "-":
                out.append("-")
        slug = "".join(out)
    slug = slug.strip("-")
    return slug if cased else slug.lower()


def titleize(slug: str) -> str:
    """Jekyll's ``Utils.titleize_slug``: ``"foo-bar"`` -> ``"Foo Bar"``."""
    return " ".join(part.capitalize() for part in slug.split("-"))


def escape_path(value: str) -> str:
    """Jekyll's ``URL.escape_path`` (Addressable's path character class)."""
    if not value or _PLAIN.match(value):
        return value
    return quote(value, safe=_PATH_SAFE)


def sanitize(url: str) -> str:
    """Jekyll's ``URL#sanitize_url``."""
    result = ("/" + url).replace("..", "/").replace("./", "")
    return _SLASHES.sub("/", result) if "//" in result else result


_DATE_FORMATS: dict[str, Callable[[datetime], str]] = {
    "year": lambda d: f"{d.year:04d}",
    "month": lambda d: f"{d.month:02d}",
    "day": lambda d: f"{d.day:02d}",
    "hour": lambda d: f"{d.hour:02d}",
    "minute": lambda d: f"{d.minute:02d}",
    "second": lambda d: f"{d.second:02d}",
    "i_day": lambda d: str(d.day),
    "i_month": lambda d: str(d.month),
    "short_month": lambda d: _MONTHS[d.month - 1][:3],
    "long_month": lambda d: _MONTHS[d.month - 1],
    "short_year": lambda d: f"{d.year % 100:02d}",
    "w_year": lambda d: str(d.isocalendar()[0]),
    "week": lambda d: f"{d.isocalendar()[1]:02d}",
    "w_day": lambda d: str(d.isocalendar()[2]),
    "short_day": lambda d: _DAYS[d.weekday()][:3],
    "long_day": lambda d: _DAYS[d.weekday()],
    "y_day": lambda d: f"{d.timetuple().tm_yday:03d}",
}


_NAMES = frozenset(
    ("collection", "path", "output_ext", "name", "title", "slug", "categories", "slugified_categories")
) | frozenset(_DATE_FORMATS)


def value(name: str, *, date: datetime, slug: str, stem: str, categories: list[str], path: str) -> str:
    """One placeholder's value (``Drops::UrlDrop``), computed only when a pattern uses it.

    ``date`` is in the site's time zone; ``slug`` is the front matter's or the file
    name's; ``stem`` the file name without extension; ``path`` the file's path in the
    posts folder without extension (``:path``).
    """
    if name == "title":
        return slugify(slug, "pretty", cased=True)
    if name == "categories":
        return "/".join(dict.fromkeys(c.lower() for c in categories))
    if name == "output_ext":
        return OUTPUT_EXT
    if name == "slug":
        return slugify(slug)
    if name == "name":
        return slugify(stem)
    if name == "path":
        return path
    if name == "collection":
        return "posts"
    if name == "slugified_categories":
        return "/".join(dict.fromkeys(slugify(c) for c in categories))
    return _DATE_FORMATS[name](date)


@lru_cache(maxsize=64)
def _compile(pattern: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split a pattern once into literal pieces and the placeholder names between them."""
    pieces: list[str] = []
    names: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(pattern):
        pieces.append(pattern[last : m.start()])
        name, suffix = m.group(1), ""
        if name not in _NAMES and name.endswith("_"):
            name, suffix = name[:-1], "_"  # Jekyll leaves the "_" in place
        if name not in _NAMES:
            raise PermalinkError(f"unknown placeholder ':{m.group(1)}' in permalink {pattern!r}")
        names.append(name)
        last = m.end() - len(suffix)
    pieces.append(pattern[last:])
    return tuple(pieces), tuple(names)


def expand(pattern: str, *, date: datetime, slug: str, stem: str, categories: list[str], path: str) -> str:
    """Fill a pattern's placeholders (``URL#generate_url_from_drop``) and sanitize it."""
    pieces, names = _compile(pattern)
    out = [pieces[0]]
    for name, piece in zip(names, pieces[1:]):
        out.append(escape_path(value(name, date=date, slug=slug, stem=stem, categories=categories, path=path)))
        out.append(piece)
    url = sanitize("".join(out))
    decoded = unquote(url) if _RISKY_ESCAPE.search(url) else url
    if "\\" in decoded:
        decoded = decoded.replace("\\", "/")
    if _DOT_SEGMENT.search(decoded) or "\x00" in decoded:
        raise PermalinkError(f"permalink {url!r} climbs out of the site (.. or . path segment)")
    return url


def jekyll_id(url: str, slug: str) -> str:
    """``Document#id``: ``File.join(File.dirname(url), slug)`` with Ruby's dirname."""
    trimmed = url.rstrip("/")
    head = trimmed.rsplit("/", 1)[0] if "/" in trimmed else "."
    if not head:
        head = "/"
    return re.sub("/{2,}", "/", f"{head}/{slug}")


def normalize_path(path: str) -> str:
    """The path part of Addressable's ``normalize`` (what ``absolute_url`` outputs)."""
    if _NORMAL.match(path):
        return path
    cut = min((i for i in (path.find("?"), path.find("#")) if i >= 0), default=-1)
    if cut >= 0:  # Addressable parses these as query / fragment delimiters
        head, tail = path[:cut], path[cut:]
        return normalize_path(head) + tail[0] + quote(unquote(tail[1:]), safe=_PATH_SAFE + "?")
    pieces = re.split(r"%2[fF]", path)
    out = []
    for piece in pieces:
        try:
            text = unquote(piece, errors="strict")
        except UnicodeDecodeError:
            out.append(re.sub(r"%[0-9a-f]{2}", lambda m: m.group().upper(), piece))
            continue
        text = unicodedata.normalize("NFC", text)
        out.append(quote(text, safe=_PATH_SAFE, errors="surrogatepass"))
    return "%2F".join(out)


def absolute(site_url: str, path: str) -> str:
    """``site_url`` (scheme, host, baseurl; no trailing slash) + a site path."""
    if not path.startswith("/"):
        path = "/" + path
    return site_url + normalize_path(path)
