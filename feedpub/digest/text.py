"""Plain text for the digest's text part, built from a post's HTML structure.

Not "HTML with the tags stripped": paragraphs are wrapped, headings keep a ``##``
marker, list items get ``-`` or ``1.``, quotes ``>``, code blocks stay verbatim and
indented, and every link is written out as a full URL after its text.
"""
from __future__ import annotations

import re
import textwrap
from html.parser import HTMLParser
from urllib.parse import urljoin

WIDTH = 72
_BR = "\x00"
_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "blockquote",
    "table", "tr", "hr", "figure", "figcaption", "dl", "dt", "dd", "details", "summary",
}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}


def wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    """Wrap prose (blank-line separated paragraphs) without breaking URLs or words."""
    paragraphs = [_SPACE.sub(" ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(
        textwrap.fill(p, width=width, initial_indent=indent, subsequent_indent=indent,
                      break_long_words=False, break_on_hyphens=False)
        for p in paragraphs if p
    )


def html_to_text(html: str, *, base_url: str = "", width: int = WIDTH) -> str:
    """Readable plain text of an HTML fragment; relative links resolve against ``base_url``."""
    parser = _Converter(base_url, width)
    parser.feed(html)
    parser.close()
    return parser.result()


class _Converter(HTMLParser):
    def __init__(self, base_url: str, width: int) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.width = width
        self.blocks: list[tuple[str, bool]] = []   # (text, tight: no blank line before)
        self.buf: list[str] = []
        self.links: list[tuple[str, int]] = []     # (href, buffer position at <a>)
        self.lists: list[list] = []                # [kind, counter]
        self.quote = 0
        self.pre: list[str] | None = None
        self.skip = 0
        self.heading = 0
        self.item_marker: str | None = None
        self.cells = 0
        self.prev_kind = ""

    # ---- parsing ------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if self.pre is not None:
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in ("ul", "ol"):
            self.lists.append([tag, 0])
        elif tag == "li":
            if self.lists:
                self.lists[-1][1] += 1
                kind, n = self.lists[-1]
                self.item_marker = f"{n}. " if kind == "ol" else "- "
            else:
                self.item_marker = "- "
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre = []
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = int(tag[1])
        elif tag == "br":
            self.buf.append(_BR)
        elif tag == "hr":
            self.blocks.append(("-" * 8, False))
            self.prev_kind = "hr"
        elif tag == "a":
            self.links.append((a.get("href", ""), len(self.buf)))
        elif tag == "img":
            alt = _SPACE.sub(" ", a.get("alt", "")).strip()
            self.buf.append(f"[image: {alt}]" if alt else "[image]")
        elif tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.buf.append(" | ")
            self.cells += 1
        elif tag == "iframe" and a.get("src"):
            self.buf.append(f"[video] {urljoin(self.base_url, a['src'])}")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "pre" and self.pre is not None:
            code = "".join(self.pre).strip("\n")
            self.pre = None
            prefix = self._prefix()[1] + "    "
            self.blocks.append(("\n".join((prefix + line).rstrip() for line in code.split("\n")), False))
            self.prev_kind = "pre"
            return
        if self.pre is not None:
            return
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = _SPACE.sub(" ", "".join(self.buf[start:])).strip()
            url = urljoin(self.base_url, href) if href and not href.startswith("#") else ""
            if url and url != label and not url.startswith("mailto:" + label):
                self.buf.append(f" <{url}>")
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            if not self.lists:
                self.prev_kind = "list"  # the next list is a new block
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = 0

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre is not None:
            self.pre.append(data)
        else:
            self.buf.append(data)

    # ---- output -------------------------------------------------------------------
    def _prefix(self) -> tuple[str, str]:
        quote = "> " * self.quote
        depth = max(0, len(self.lists) - 1)
        indent = "   " * depth
        if self.item_marker is not None:
            return quote + indent + self.item_marker, quote + indent + " " * len(self.item_marker)
        if self.lists:
            return quote + indent + "   ", quote + indent + "   "
        return quote, quote

    def _flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        self.links = [(href, 0) for href, _ in self.links]
        lines = [_SPACE.sub(" ", part).strip() for part in text.split(_BR)]
        if not any(lines):
            return
        if self.heading:
            lines[0] = "#" * max(2, self.heading) + " " + lines[0]
        first, rest = self._prefix()
        kind = "item" if self.item_marker is not None else "row" if self.cells else "para"
        tight = kind != "para" and kind == self.prev_kind
        self.prev_kind = kind
        self.cells = 0
        out = []
        for i, line in enumerate(lines):
            out.append(textwrap.fill(
                line or " ", width=self.width,
                initial_indent=first if i == 0 else rest, subsequent_indent=rest,
                break_long_words=False, break_on_hyphens=False,
            ).rstrip())
        self.item_marker = None
        self.blocks.append(("\n".join(out), tight))

    def result(self) -> str:
        self._flush()
        parts: list[str] = []
        for text, tight in self.blocks:
            if parts:
                parts.append("\n" if tight else "\n\n")
            parts.append(text)
        return "".join(parts).strip("\n")
