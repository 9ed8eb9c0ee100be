"""Feed files whose document did not change are not generated again.

The writers (``feeds.atom`` / ``rss`` / ``jsonfeed``) are pure functions of a
``FeedDoc`` (see ``feeds.document``), and generating 50 feed files through feedgen and
lxml is most of a rebuild where nothing changed (about 0.3 s for the benchmark's
17 feeds x 3 formats, plus 0.1 s to import feedgen and lxml). So a build records, in
``<cache_dir>/feeds.json``, for each file it wrote: a key over the file's format, path
and document (every entry's fingerprint), and the size and mtime of the file as
written. Next time a file whose key is the same and whose output file still has that
size and mtime is read back instead of generated; anything else (another document,
the file edited, removed or replaced, another feedpub or feedgen/lxml, an edited
writer module) generates it as before. The bytes are the same either way, which the
tests check against a build without the memo.

The memo is only a shortcut: a missing, unreadable or foreign ``feeds.json`` is ignored
(a corrupt one with a notice) and rewritten.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .errors import Problem

FORMAT = "feedpub-feed-memo/1"
FILENAME = "feeds.json"
#: The modules whose code decides a feed file's bytes from its FeedDoc.
WRITER_MODULES = ("__init__.py", "atom.py", "rss.py", "jsonfeed.py", "_feedgen.py", "document.py")

_code_key: str | None = None


def code_key() -> str:
    global _code_key
    if _code_key is None:
        parts = [FORMAT, __version__]
        for dist in ("feedgen", "lxml"):
            try:
                parts.append(f"{dist}={metadata.version(dist)}")
            except metadata.PackageNotFoundError:
                parts.append(f"{dist}=?")
        feeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "feeds")
        for name in (*WRITER_MODULES, "../feed_memo.py"):
            try:
                st = os.stat(os.path.join(feeds, name))
            except OSError:
                continue
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        _code_key = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return _code_key


class FeedMemo:
    """``get`` before generating a file, ``put`` after; ``save`` once the files are written."""

    def __init__(self, cache_dir: Path, out_dir: Path) -> None:
        self.path = Path(cache_dir) / FILENAME
        self.out_dir = Path(out_dir)
        self.notices: list[Problem] = []
        self.hits = 0
        self._old: dict[str, list[Any]] = {}
        self._keys: dict[str, str] = {}          # path -> key of the document planned this build
        self._entries: dict[int, tuple[object, str]] = {}   # id(EntryDoc) -> (it, fingerprint)
        self._header = {"format": FORMAT, "code": code_key(), "out": str(self.out_dir.absolute())}
        self._load()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except OSError:
            return
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a feed memo of this format")
            if any(data.get(k) != v for k, v in self._header.items()):
                return      # another feedpub, writer code or output folder: start afresh
            files = data.get("files")
            if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and len(v) == 3 and isinstance(v[0], str)
                and type(v[1]) is int and type(v[2]) is int for k, v in files.items()
            ):
                raise ValueError("malformed entries")
        except ValueError as exc:
            self.notices.append(Problem(str(self.path), None, f"ignoring the feed memo ({exc}); every feed file is generated and the memo rewritten", severity="notice"))
            return
        self._old = files

    # ---- keys -------------------------------------------------------------------------
    def _entry_fp(self, entry: object) -> str:
        known = self._entries.get(id(entry))
        if known is not None and known[0] is entry:
            return known[1]
        fp = hashlib.sha256(repr(entry).encode("utf-8", "surrogatepass")).hexdigest()
        self._entries[id(entry)] = (entry, fp)
        return fp

    def key(self, fmt: str, path: str, doc: Any) -> str | None:
        """The file's key; None when the document has a value without a stable repr."""
        head = repr(dataclasses.replace(doc, entries=()))
        if " object at 0x" in head:
            return None
        h = hashlib.sha256(f"{fmt}\0{path}\0".encode())
        h.update(head.encode("utf-8", "surrogatepass"))
        for entry in doc.entries:
            h.update(self._entry_fp(entry).encode())
        return h.hexdigest()

    # ---- use --------------------------------------------------------------------------
    def get(self, fmt: str, path: str, doc: Any) -> bytes | None:
        """The file's bytes as last written, if its document is the same and the file untouched."""
        key = self.key(fmt, path, doc)
        if key is None:
            return None
        self._keys[path] = key
        old = self._old.get(path)
        if old is None or old[0] != key:
            return None
        target = self.out_dir / path
        try:
            st = os.stat(target)
            if st.st_size != old[1] or st.st_mtime_ns != old[2]:
                return None
            with open(target, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        if len(data) != old[1]:
            return None
        self.hits += 1
        return data

    def save(self) -> None:
        """Record the files of this build as they are now on disk (call after writing)."""
        files: dict[str, list[Any]] = {}
        for path, key in self._keys.items():
            try:
                st = os.stat(self.out_dir / path)
            except OSError:
                continue
            files[path] = [key, st.st_size, st.st_mtime_ns]
        if files == self._old:
            return
        data = json.dumps({**self._header, "files": files}, sort_keys=True).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-feeds-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            self.notices.append(Problem(str(self.path), None, f"cannot write the feed memo ({exc.strerror or exc}); the next build generates every feed file", severity="notice"))
