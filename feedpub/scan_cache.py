"""The scan cache: an unchanged post is not read again, let alone parsed.

    parse_all(files, context, cache_dir=..., jobs=...) -> (results, notices)

``<cache_dir>/scan.bin`` (plus a small ``scan-delta.bin`` of recent changes, see
``ScanCache``), each loaded with one read, holds for every post file its
relpath -> (size, mtime_ns, sha256, the parse result as plain tuples). A build then

* only ``stat``\\ s a file whose size and mtime match the entry (the no-change rebuild);
* reads and hashes a file whose stat changed but whose bytes did not (a fresh ``git
  clone`` in CI gives every file a new mtime) and reuses the parsed result;
* parses (in a process pool above ``feedpub.parallel.THRESHOLD`` files) only files that
  are new or whose bytes changed.

An entry is only valid for the settings it was parsed with: the file's header holds
a key over feedpub's version and code, Python's and PyYAML's versions, and the whole
``ParseContext`` (site URL and baseurl, permalink pattern, time zone, default author,
size cap, posts folder), so changing any of them re-parses everything. A file modified
within ``RACY_NS`` of the moment the cache was written may have changed again within
the same mtime tick, so it is checked by its hash next time, as git does for its index.

Safety: the file is ``MAGIC + blake2b(payload) + payload`` and is written to a temp file
and renamed into place. A file with another magic, a bad checksum or content that does
not unpickle into the expected shape is ignored with one notice and rebuilt. The pickle
is read by an unpickler that refuses every global except the few value types a post is
made of (datetime types, ``ZoneInfo`` by its key, feedpub's own value dataclasses), so a
cache planted by someone else cannot run code. Results with an error are never cached:
a post that failed is parsed again next time.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import gc
import hashlib
import io
import os
import pickle
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import Problem
from .model import Author, Enclosure, Image, Post
from .posts import ParseContext, ParseResult, parse_bytes
from .source import read_bytes

MAGIC = b"feedpub-scan-cache/1\n"
FILENAME = "scan.bin"
DELTA_FILENAME = "scan-delta.bin"
DELTA_MAX = 64            # entries; or 5% of the posts, whichever is more
RACY_NS = 2_000_000_000   # mtime this close to the cache's write time: check by hash
_DIGEST = 32

# size, mtime_ns (-1: check by hash), sha256, the Post's fields after ``source`` (None: no
# post), problems, skipped. Plain tuples: ``Post(path, *fields)`` is the cheapest way back
# (``source`` is the Path ``discover`` already made; a pickled Path costs 10 us to rebuild).
Entry = tuple[int, int, str, "tuple[Any, ...] | None", "tuple[Problem, ...]", "str | None"]
_NAMES = tuple(f.name for f in dataclasses.fields(Post))
assert _NAMES[0] == "source"
_NAMES = _NAMES[1:]
_POST_FIELDS = len(_NAMES)


# ---- the key: everything a parse result depends on besides the file's bytes ----------

_code_key: str | None = None


#: The modules whose code decides a ParseResult. Their size and mtime are in the key, so
#: an edited (editable or patched) install never reuses results of the old code.
PARSING_MODULES = ("posts", "yamlsafe", "source", "dates", "permalinks", "slugs", "model", "errors", "config", "scan_cache")


def code_key() -> str:
    """feedpub's version, Python's and PyYAML's, and the size/mtime of the parsing modules."""
    global _code_key
    if _code_key is None:
        import yaml

        h = hashlib.sha256(f"{__version__}|{sys.version}|{yaml.__version__}".encode())
        top = os.path.dirname(os.path.abspath(__file__))
        for name in PARSING_MODULES:
            try:
                st = os.stat(os.path.join(top, name + ".py"))
            except OSError:
                continue
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
        _code_key = h.hexdigest()
    return _code_key


def settings_key(context: ParseContext) -> str:
    return hashlib.sha256(f"{code_key()}|{context.key()}".encode()).hexdigest()


# ---- a pickle that cannot run code ----------------------------------------------------

_ALLOWED = {
    (cls.__module__, cls.__qualname__): cls
    for cls in (
        _dt.datetime, _dt.date, _dt.time, _dt.timedelta, _dt.timezone,
        Author, Image, Enclosure, Problem, zoneinfo.ZoneInfo,
    )
}


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # Called only for objects that are not plain str/int/list/dict/tuple..., so it
        # costs nothing per string (a persistent_id hook is called for every object:
        # 0.4 s of a 10,000-post save). ZoneInfo's own pickle calls getattr(), which the
        # unpickler refuses; this makes it ZoneInfo(key) (the key is validated there).
        if type(obj) is zoneinfo.ZoneInfo:
            return (zoneinfo.ZoneInfo, (obj.key,))
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refused global {module}.{name}") from None


def dumps(value: Any) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=5).dump(value)
    payload = buf.getvalue()
    return MAGIC + hashlib.blake2b(payload, digest_size=_DIGEST).digest() + payload


def loads(data: bytes) -> Any:
    """Raises ValueError for anything that is not an intact cache file of this format."""
    if not data.startswith(MAGIC):
        raise ValueError("not a feedpub scan cache of this format")
    digest = data[len(MAGIC):len(MAGIC) + _DIGEST]
    payload = memoryview(data)[len(MAGIC) + _DIGEST:]
    if hashlib.blake2b(payload, digest_size=_DIGEST).digest() != digest:
        raise ValueError("checksum mismatch (a torn or altered file)")
    try:
        return _Unpickler(io.BytesIO(payload)).load()
    except Exception as exc:  # noqa: BLE001 - any failure means: do not trust it
        raise ValueError(f"unreadable ({type(exc).__name__}: {exc})") from None


# ---- the cache --------------------------------------------------------------------------


class ScanCache:
    """Load once, look up per file, save once if anything changed.

    Two files: ``scan.bin``, every entry, and ``scan-delta.bin``, the entries that
    differ from it (and the relpaths gone), written instead of the whole cache while they
    are few. Re-pickling 10,000 entries to record one edited post would cost more than
    the rest of that rebuild; the delta is a few hundred bytes. The delta names the base
    it applies to (a random id in the base), so a delta beside another base is ignored.
    Either file failing its checks only costs speed: every entry is still checked
    against its file's stat or hash before it is used.
    """

    def __init__(self, cache_dir: Path, context: ParseContext) -> None:
        self.path = Path(cache_dir) / FILENAME
        self.delta_path = Path(cache_dir) / DELTA_FILENAME
        self.key = settings_key(context)
        self.entries: dict[str, Entry] = {}       # base + delta: what lookups see
        self.base: dict[str, Entry] = {}
        self.base_id = ""
        self.notices: list[Problem] = []
        self.dirty = False

    def _read(self, path: Path, what: str) -> Any:
        """The unpickled (key, ...) tuple, or None (missing, other settings, or corrupt: notice)."""
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._notice(f"cannot read the {what} ({exc.strerror or exc}); scanning without it")
            return None
        try:
            value = loads(data)
            if not (isinstance(value, tuple) and len(value) == 4 and isinstance(value[2], dict)
                    and isinstance(value[1], str) and isinstance(value[3], list)):
                raise ValueError("unexpected content")
            if value[0] != self.key:
                self.dirty = True   # other settings or another feedpub: silently re-parse
                return None
            _check(value[2])
            if not all(type(r) is str for r in value[3]):
                raise ValueError("unexpected content")
        except ValueError as exc:
            self._notice(f"ignoring the {what} {path} ({exc}); its posts are scanned again and it is rewritten")
            self.dirty = True
            return None
        return value

    def load(self) -> None:
        base = self._read(self.path, "scan cache")
        if base is None:
            return
        self.base_id, self.base = base[1], base[2]
        self.entries = self.base
        delta = self._read(self.delta_path, "scan cache delta")
        if delta is not None and delta[1] == self.base_id:
            merged = dict(self.base)
            merged.update(delta[2])
            for relpath in delta[3]:
                merged.pop(relpath, None)
            self.entries = merged

    def save(self, entries: dict[str, Entry]) -> None:
        base = self.base
        changed = {k: v for k, v in entries.items() if base.get(k) is not v}
        gone = [k for k in base if k not in entries]
        if self.base_id and len(changed) + len(gone) <= max(DELTA_MAX, len(entries) // 20):
            self._write(self.delta_path, (self.key, self.base_id, changed, gone))
            return
        self._write(self.path, (self.key, os.urandom(8).hex(), entries, []))
        with contextlib.suppress(OSError):
            os.unlink(self.delta_path)

    def _write(self, path: Path, value: tuple[Any, ...]) -> None:
        try:
            data = dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
            self._notice(f"cannot store the scan cache ({exc}); the next build scans these posts again")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-scan-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            # A cache that cannot be written costs speed, never the build.
            self._notice(f"cannot write the scan cache {path} ({exc.strerror or exc}); the next build scans every post again")

    def _notice(self, message: str) -> None:
        self.notices.append(Problem(str(self.path), None, message, severity="notice"))


def _check(entries: dict[Any, Any]) -> None:
    for relpath, entry in entries.items():
        if not (type(relpath) is str and type(entry) is tuple and len(entry) == 6
                and type(entry[0]) is int and type(entry[1]) is int and type(entry[2]) is str
                and (entry[3] is None or (type(entry[3]) is tuple and len(entry[3]) == _POST_FIELDS))
                and type(entry[4]) is tuple and all(type(p) is Problem for p in entry[4])
                and (entry[5] is None or type(entry[5]) is str)):
            raise ValueError(f"malformed entry for {relpath!r}")


def _result(path: Path, relpath: str, entry: Entry) -> ParseResult:
    fields = entry[3]
    return ParseResult(relpath, None if fields is None else Post(path, *fields), entry[4], entry[5])


def _entry(size: int, mtime: int, digest: str, result: ParseResult) -> Entry:
    post = result.post
    fields = None if post is None else tuple(getattr(post, name) for name in _NAMES)
    return (size, mtime, digest, fields, result.problems, result.skipped)


def parse_all(
    files: Sequence[tuple[Path, str]],
    context: ParseContext,
    *,
    cache_dir: Path | None = None,
    jobs: int = 0,
    stats: dict[str, tuple[int, int]] | None = None,
) -> tuple[list[ParseResult], list[Problem]]:
    """``parse_file`` for every (path, relpath), reusing cached results (same order).

    Without ``cache_dir`` this is ``feedpub.parallel.parse_many``: nothing read or written.
    ``stats``: relpath -> (size, mtime_ns) already known (``discover`` gives them from
    its directory entries); other files are stat'ed here.
    """
    from .parallel import parse_many

    if cache_dir is None:
        return parse_many(files, context, jobs), []
    # Tens of thousands of small tuples, dicts and Posts are created below and none of them
    # is garbage: the cyclic GC would walk them over and over (40% of a cached scan).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_all(files, context, cache_dir, jobs, stats)
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse_all(
    files: Sequence[tuple[Path, str]],
    context: ParseContext,
    cache_dir: Path,
    jobs: int,
    stats: dict[str, tuple[int, int]] | None,
) -> tuple[list[ParseResult], list[Problem]]:
    from .parallel import parse_many

    cache = ScanCache(cache_dir, context)
    cache.load()
    old = cache.entries
    racy_before = time.time_ns() - RACY_NS
    results: list[ParseResult | None] = [None] * len(files)
    stat_of: list[tuple[int, int] | None] = [None] * len(files)
    hashes: list[str | None] = [None] * len(files)
    new: dict[str, Entry] = {}
    misses: list[int] = []
    changed = cache.dirty or len(old) != len(files)
    known = stats or {}
    for i, (path, relpath) in enumerate(files):
        size_mtime = known.get(relpath)
        if size_mtime is None:
            try:
                st = os.stat(path)
            except OSError:
                misses.append(i)    # parse_file reports why it cannot be read
                continue
            size_mtime = (st.st_size, st.st_mtime_ns)
        size, mtime = stat_of[i] = size_mtime
        entry = old.get(relpath)
        if entry is not None and entry[1] == mtime and entry[0] == size:
            results[i] = _result(path, relpath, entry)
            new[relpath] = entry
            continue
        was_changed, changed = changed, True
        if entry is not None and entry[0] == size and size <= context.max_bytes:
            # same size, another mtime (or a racy one): the bytes decide
            try:
                data = read_bytes(path, relpath, max_bytes=context.max_bytes)
            except Exception:  # noqa: BLE001 - parse_file reports it
                misses.append(i)
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest == entry[2]:
                results[i] = _result(path, relpath, entry)
                new[relpath] = (size, mtime if mtime < racy_before else -1, *entry[2:])  # type: ignore[assignment]
                if entry[1] == -1:
                    changed = was_changed  # a racy entry confirmed: not worth rewriting the whole cache
                continue
            results[i] = parse_bytes(data, path, relpath, context)
            hashes[i] = digest
            continue
        misses.append(i)
    if misses:
        parsed = parse_many([files[i] for i in misses], context, jobs)
        for i, result in zip(misses, parsed):
            results[i] = result
    for i, result in enumerate(results):
        relpath = files[i][1]
        if relpath in new or stat_of[i] is None or result is None:
            continue
        if any(p.severity == "error" for p in result.problems):
            continue    # parsed again next time: the reason may be outside the bytes
        digest = hashes[i] or (result.post.content_hash if result.post is not None else "")
        if not digest:
            continue    # files skipped without a post carry no hash: cheap to parse again
        size, mtime = stat_of[i]  # type: ignore[misc]
        new[relpath] = _entry(size, mtime if mtime < racy_before else -1, digest, result)
    if changed or new.keys() != old.keys():
        cache.save(new)
    return results, cache.notices  # type: ignore[return-value]
