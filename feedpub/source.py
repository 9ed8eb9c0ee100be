"""Reading one post file safely: bytes -> text -> (front matter, body).

Everything here is about the *file*, not its meaning: the size cap, symlinks that escape
the posts folder, invalid UTF-8 (reported as ``posts/x.md:LINE: invalid UTF-8 byte 0xE9``),
the byte order mark, CRLF/CR line endings, editor and hidden files, and where the front
matter starts and ends.

The front matter is split like Jekyll's ``Document::YAML_FRONT_MATTER_REGEXP``: the first
line is ``---`` (trailing blanks allowed), the block ends at the next line that is ``---``
or ``...``. python-frontmatter's ``YAMLHandler`` splits on ``---`` only and, when the
closing line is missing, silently publishes the YAML as the body; here a block that is
opened but never closed is an error naming the line where it opened.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import PostError

#: Jekyll's ``markdown_ext`` default (markdown,mkdown,mkdn,mkd,md), with the dot.
POST_EXTENSIONS = frozenset({".markdown", ".mkdown", ".mkdn", ".mkd", ".md"})

_BOM = b"\xef\xbb\xbf"
_OPEN = re.compile(r"---[^\S\n]*(?:\n|\Z)")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[^\S\n]*$", re.M)

#: Names editors, OSes and version control leave beside files.
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "4913"})
_JUNK_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".bak", ".orig", ".rej", ".part")


def is_ignored(name: str) -> bool:
    """Hidden and editor files (``.#a.md``, ``a.md~``, ``#a.md#``, ``.DS_Store``, swap files).

    Jekyll ignores names starting with ``.``, ``_``, ``#`` or ending with ``~``; a name
    starting with ``_`` is not ignored here because the posts folder may be ``_posts``
    itself and its files never start with ``_`` in practice.
    """
    return (
        name.startswith((".", "#"))
        or name in _JUNK_NAMES
        or name.endswith(_JUNK_SUFFIXES)
    )


def is_within(path: Path, root: Path) -> bool:
    """True when the fully resolved ``path`` is ``root`` (already resolved) or below it."""
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def read_bytes(path: Path, relpath: str, *, max_bytes: int, root: Path | None = None) -> bytes:
    """The file's bytes, refusing files over the cap (and, given ``root``, symlinks out of it).

    ``root`` is the resolved posts folder; ``posts.discover`` already checked every
    symlink it lists, so the scan passes none. One ``open`` and one ``read`` of at most
    ``max_bytes + 1`` bytes: a huge or endless file is never read whole.
    """
    if root is not None and path.is_symlink() and not is_within(path, root):
        raise PostError(
            f"symlink points outside the posts folder ({os.readlink(path)}); not read",
            path=relpath,
            hint="copy the file into the posts folder instead of linking to it",
        )
    try:
        with open(path, "rb") as fh:
            # read(n) allocates n bytes up front: ask for the file's size, not the cap
            # (a 1 MiB buffer per post costs more than parsing it)
            want = min(os.fstat(fh.fileno()).st_size, max_bytes) + 1
            data = fh.read(want)
            while len(data) == want and want <= max_bytes:  # the file grew meanwhile
                want = min(want * 2, max_bytes + 1)
                more = fh.read(want - len(data))
                if not more:
                    break
                data += more
    except FileNotFoundError:
        raise PostError("file vanished while it was being read", path=relpath) from None
    except IsADirectoryError:
        raise PostError("is a folder, not a file", path=relpath) from None
    except OSError as exc:
        raise PostError(f"cannot read file: {exc.strerror or exc}", path=relpath) from None
    if len(data) > max_bytes:
        raise PostError(
            f"file is larger than {max_bytes} bytes; not read",
            path=relpath,
            hint="raise [build] max_post_bytes if this post really is that large",
        )
    return data


def decode(data: bytes, relpath: str) -> str:
    """UTF-8 text with the BOM stripped and every CRLF/CR turned into LF."""
    if data.startswith(_BOM):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
        raise PostError(
            f"invalid UTF-8 byte 0x{data[exc.start]:02X}",
            path=relpath,
            line=line,
            hint="save the file as UTF-8 (most editors: 'Save with encoding')",
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


@dataclass(frozen=True, slots=True)
class Parts:
    """A post's text split at its front matter."""

    front: str | None   # the YAML between the markers; None when the file has none
    front_line: int     # file line of the YAML's first line (2 when the file opens with ---)
    body: str
    body_line: int      # file line where the body starts


def split_front_matter(text: str, relpath: str) -> Parts:
    """Split ``text`` (already LF-normalized) into front matter and body, Jekyll's way."""
    opened = _OPEN.match(text)
    if opened is None:
        return Parts(None, 1, text, 1)
    start = opened.end()
    closed = _CLOSE.search(text, start) if text[start - 1 : start] == "\n" else None
    if closed is None:
        raise PostError(
            "front matter opened here is never closed",
            path=relpath,
            line=1,
            hint="add a line with only --- after the front matter",
        )
    front = text[start : closed.start()]
    end = closed.end()
    if end < len(text) and text[end] == "\n":
        end += 1
    body_line = 1 + text.count("\n", 0, end)
    return Parts(front, 2, text[end:], body_line)
