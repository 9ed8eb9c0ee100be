"""Python-Markdown, set up once for feeds and email.

Everything Python-Markdown-specific lives here: the extension list, Pygments code
highlighting with *inline* styles (feed readers and email clients drop ``<style>``
blocks and class-based CSS, so colours must travel in ``style=""``), the HTML stash
the Liquid stage uses to hand over finished HTML (``{% highlight %}``), and the guard
against the inputs that make Python-Markdown's inline parser quadratic.

One ``MarkdownAdapter`` builds its ``markdown.Markdown`` instance once and ``reset()``s
it for every document; it is not thread-safe (use one per thread).
"""
from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence

import markdown
from markdown.preprocessors import Preprocessor
from pygments import highlight as _pygmentize
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

#: Wrap long lines in readers that honour it and scroll in those that do not.
PRE_STYLE = "white-space: pre-wrap; word-wrap: break-word; overflow-x: auto"
BLOCK_STYLE = "padding: 0.5em 0.75em; border-radius: 4px"
PYGMENTS_STYLE = "default"

EXTENSIONS = [
    "fenced_code",
    "tables",
    "footnotes",
    "attr_list",
    "def_list",
    "sane_lists",
    "codehilite",
]
EXTENSION_CONFIGS = {
    "codehilite": {
        "noclasses": True,
        "guess_lang": False,
        "pygments_style": PYGMENTS_STYLE,
        "prestyles": PRE_STYLE,
        "cssstyles": BLOCK_STYLE,
        "pygments_formatter": lambda **options: _codehilite_formatter(**options),
    },
    "footnotes": {"UNIQUE_IDS": False},
}

#: Liquid hands finished HTML to Markdown as ``STASH_TOKEN % i``. U+FDD3 is a Unicode
#: noncharacter: the renderer strips U+FDD0..U+FDEF from bodies, so a post cannot forge it.
STASH_TOKEN = "\ufdd3fphtml:%d\ufdd3"
_STASH_RE = re.compile("\ufdd3fphtml:(\\d+)\ufdd3")

# ---- pathological input -----------------------------------------------------------
# Python-Markdown's inline parser scans forward from every "[" (links, images,
# footnote refs), every "](" (a link's destination) and every "<" (raw HTML,
# autolinks) to find where the construct ends, so thousands of them without a partner
# cost O(n^2): "[" * 8000 takes ~10 s, "[x](" * 8000 ~17 s. Real posts have a few
# hundred at most, so above a threshold the ones that cannot be part of a construct
# (no partner in their paragraph, or nested absurdly deep) are swapped for Unicode
# noncharacters that Markdown sees as plain text, and swapped back after rendering:
# the output shows the same characters, also inside code blocks (a backslash escape
# would show up there, and is itself quadratic in one long paragraph). The render
# timeout (feedpub.render) remains the backstop for anything this does not foresee.
NEUTRALIZE_THRESHOLD = 500
MAX_BRACKET_DEPTH = 16
_SENT_BRACKET, _SENT_PAREN, _SENT_ANGLE = "\ufdd0", "\ufdd1", "\ufdd2"
_SENTINELS = re.compile("[\ufdd0-\ufdd2]")
_RESTORE = ((_SENT_BRACKET, "["), (_SENT_PAREN, "("), (_SENT_ANGLE, "&lt;"))
_BRACKET_EVENTS = re.compile(r"\\\[|\[|\]|\n[ \t\r]*\n")


def _replace_at(text: str, positions: list[int], replacement: str) -> str:
    positions.sort()
    parts: list[str] = []
    last = 0
    for i in positions:
        parts.append(text[last:i])
        parts.append(replacement)
        last = i + 1
    parts.append(text[last:])
    return "".join(parts)


def _unmatched_brackets(text: str) -> list[int]:
    """Positions of ``[`` without a ``]`` in the same paragraph, or nested too deep."""
    stack: list[int] = []
    unmatched: list[int] = []
    for m in _BRACKET_EVENTS.finditer(text):
        token = m.group()
        if token == "[":
            (unmatched if len(stack) >= MAX_BRACKET_DEPTH else stack).append(m.start())
        elif token == "]":
            if stack:
                stack.pop()
        elif token[0] == "\n":  # a blank line ends the paragraph: open brackets stay open
            unmatched.extend(stack)
            stack.clear()
    unmatched.extend(stack)
    return unmatched


def _unmatched_after(text: str, opener: str, closer: str) -> list[int]:
    """Positions of the last char of each ``opener`` with no ``closer`` before the next one."""
    positions: list[int] = []
    start = text.find(opener)
    while start != -1:
        nxt = text.find(opener, start + len(opener))
        end = nxt if nxt != -1 else len(text)
        if text.find(closer, start + len(opener), end) == -1:
            positions.append(start + len(opener) - 1)
        start = nxt
    return positions


# Code blocks never reach the inline parser, so nothing in them needs defusing, and a
# sentinel there would reach Pygments (which frames unknown characters in red).
_FENCED_BLOCK = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.M | re.S)
_INDENTED_BLOCK = re.compile(r"(?:\A|\n[ \t]*\n)((?:(?: {4}|\t)[^\n]*(?:\n|\Z)|[ \t]*\n)+)")


def _code_regions(text: str) -> list[tuple[int, int]]:
    regions = [m.span() for m in _FENCED_BLOCK.finditer(text)]
    regions += [m.span(1) for m in _INDENTED_BLOCK.finditer(text)]
    return sorted(regions)


def _outside(positions: list[int], regions: list[tuple[int, int]]) -> list[int]:
    if not regions or not positions:
        return positions
    starts = [r[0] for r in regions]
    kept = []
    for pos in positions:
        i = bisect.bisect_right(starts, pos) - 1
        if i < 0 or pos >= regions[i][1]:
            kept.append(pos)
    return kept


def neutralize(text: str) -> tuple[str, list[str]]:
    """Defuse the constructs known to make Python-Markdown quadratic.

    Returns the text (unchanged for ordinary posts) and notes describing what was
    defused, for a warning. The linear scans only run when a post holds an unusual
    number of ``[`` or ``<``; ``restore()`` undoes the substitution in the HTML.
    """
    notes: list[str] = []
    if text.count("[") <= NEUTRALIZE_THRESHOLD and text.count("<") <= NEUTRALIZE_THRESHOLD:
        return text, notes
    text = _SENTINELS.sub("", text)  # a post cannot forge them
    regions = _code_regions(text)
    if text.count("[") > NEUTRALIZE_THRESHOLD:
        found = _outside(_unmatched_brackets(text), regions)
        if found:
            text = _replace_at(text, found, _SENT_BRACKET)
            notes.append(f"{len(found)} unmatched or deeply nested '[' treated as text")
        found = _outside(_unmatched_after(text, "](", ")"), regions)
        if found:
            text = _replace_at(text, found, _SENT_PAREN)
            notes.append(f"{len(found)} unclosed '](' treated as text")
    if text.count("<") > NEUTRALIZE_THRESHOLD:
        found = _outside(_unmatched_after(text, "<", ">"), regions)
        if found:
            text = _replace_at(text, found, _SENT_ANGLE)
            notes.append(f"{len(found)} unclosed '<' treated as text")
    return text, notes


def restore(html_text: str) -> str:
    """Undo ``neutralize`` in rendered HTML."""
    for sentinel, original in _RESTORE:
        if sentinel in html_text:
            html_text = html_text.replace(sentinel, original)
    return html_text


# ---- code highlighting ------------------------------------------------------------
_FORMATTERS: dict[bool, HtmlFormatter] = {}


def _formatter(linenos: bool) -> HtmlFormatter:
    fmt = _FORMATTERS.get(linenos)
    if fmt is None:
        fmt = _FORMATTERS[linenos] = HtmlFormatter(
            noclasses=True,
            style=PYGMENTS_STYLE,
            prestyles=PRE_STYLE,
            cssstyles=BLOCK_STYLE,
            cssclass="highlight",
            linenos="inline" if linenos else False,
            wrapcode=True,
        )
    return fmt


_CODEHILITE_FORMATTERS: dict[tuple[tuple[str, object], ...], HtmlFormatter] = {}


def _codehilite_formatter(lang_str: str = "", **options: object) -> HtmlFormatter:
    """CodeHilite builds a new HtmlFormatter per code block, and with ``noclasses`` every
    one recomputes the style's inline CSS (~3 ms); its options never change, so reuse it."""
    key = tuple(sorted(options.items()))
    fmt = _CODEHILITE_FORMATTERS.get(key)
    if fmt is None:
        fmt = _CODEHILITE_FORMATTERS[key] = HtmlFormatter(**options)
    return fmt


def highlight(code: str, lang: str = "", *, linenos: bool = False) -> str:
    """HTML for a code block with inline Pygments styles (``{% highlight %}``).

    An unknown language is shown as plain text, never an error.
    """
    try:
        lexer = get_lexer_by_name(lang.strip() or "text", stripnl=False, ensurenl=True)
    except ClassNotFound:
        lexer = get_lexer_by_name("text", stripnl=False, ensurenl=True)
    code = code.strip("\n") + "\n"
    return _pygmentize(code, lexer, _formatter(linenos)).strip()


# ---- the adapter ------------------------------------------------------------------
class _StashPreprocessor(Preprocessor):
    """Swap ``STASH_TOKEN``s for Markdown's own raw-HTML placeholders.

    Runs after ``normalize_whitespace`` (which deletes STX/ETX, the delimiters of
    Markdown's placeholders) and before ``html_block``, like Markdown's own extensions.
    """

    fragments: Sequence[str] = ()

    def run(self, lines: list[str]) -> list[str]:
        if not self.fragments:
            return lines
        placeholders = [self.md.htmlStash.store(fragment) for fragment in self.fragments]

        def sub(m: re.Match[str]) -> str:
            i = int(m.group(1))
            return placeholders[i] if i < len(placeholders) else ""

        return _STASH_RE.sub(sub, "\n".join(lines)).split("\n")


class MarkdownAdapter:
    """One reusable Markdown instance: ``convert(text, stash)`` -> HTML fragment."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(
            extensions=EXTENSIONS,
            extension_configs=EXTENSION_CONFIGS,
            output_format="html",
        )
        self._stash = _StashPreprocessor(self._md)
        self._md.preprocessors.register(self._stash, "feedpub_stash", 25)

    def convert(self, text: str, stash: Sequence[str] = ()) -> tuple[str, list[str]]:
        """Render Markdown -> (html, notes about pathological input that was defused).

        ``STASH_TOKEN % i`` in ``text`` becomes ``stash[i]`` verbatim.
        """
        text, notes = neutralize(text)
        md = self._md
        md.reset()
        self._stash.fragments = stash
        try:
            out = md.convert(text)
            return (restore(out) if notes else out), notes
        finally:
            self._stash.fragments = ()
            md.reset()


def plain_code(code: str) -> str:
    """Escaped code block without highlighting (fallback when Pygments fails)."""
    return f'<pre style="{PRE_STYLE}"><code>{html.escape(code)}</code></pre>'
