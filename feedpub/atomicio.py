"""Atomic file output: write a temp file beside the target, fsync, then rename.

A crash, a kill or a full disk leaves either the old file or the new one, never half
a file, and never a stray temp file after an error we can see.
"""
from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from .errors import OutputError

STALE_TEMP_SECONDS = 600
_INTACT = "; the previous file(s) are intact"


def write_bytes(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data``. Returns False when it already held them.

    Unchanged files are not rewritten, so their mtime (and HTTP caches) stay put.
    """
    path = Path(path)
    return write_many({path: data}, clean_stale=False)[path]


def write_text(path: Path, text: str) -> bool:
    return write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def open_atomic(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file that replaces ``path`` when the block ends without error."""
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _error(path, exc, "free some disk space or fix the folder's permissions") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_many(files: Mapping[Path, bytes], *, clean_stale: bool = True) -> dict[Path, bool]:
    """Replace several files together: all new bytes reach the disk before any is renamed.

    Every changed file is first written to a temp file beside it and fsync'd; only when
    all of them are on disk are they renamed into place. A full disk or an unwritable
    folder therefore leaves *every* previous file as it was (not half a set of feeds),
    and no temp file behind. With ``clean_stale``, temp files a killed run left (older
    than ten minutes) are removed: that lists each folder, so single-file writes into
    big folders (the outbox) skip it. Returns {path: changed}; unchanged files are not
    rewritten.
    """
    changed: dict[Path, bool] = {}
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            try:
                if path.read_bytes() == data:
                    changed[path] = False
                    continue
            except OSError:
                pass
            fd, tmp = _temp_beside(path, clean_stale=clean_stale)
            staged.append((tmp, path))
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o644)
            except OSError as exc:
                raise _error(path, exc, "free some disk space or fix the folder's permissions") from exc
            changed[path] = True
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise _error(path, exc, "fix the folder's permissions", verb="cannot replace") from exc
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for folder in {p.parent for _, p in staged}:
        fsync_dir(folder)
    return changed


def _temp_beside(path: Path, *, clean_stale: bool = False) -> tuple[int, str]:
    """A new temp file in ``path``'s folder (created if needed), as (fd, name)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(path, exc, "check that the output folder is a folder and writable",
                     verb=f"cannot write: cannot create its folder {path.parent}") from exc
    try:
        if clean_stale:
            for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
                # Older than any live build's staging: left by a killed one. (A fresh
                # temp may belong to a build running right now; it is left alone.)
                with contextlib.suppress(OSError):
                    if time.time() - stale.stat().st_mtime > STALE_TEMP_SECONDS:
                        stale.unlink()
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _error(path, exc, "check that the output folder is writable") from exc


def _error(path: Path, exc: OSError, remedy: str, *, verb: str = "cannot write") -> OutputError:
    return OutputError(f"{verb}: {exc.strerror or exc}", path=str(path), hint=remedy + _INTACT)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (best effort: not every OS allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
