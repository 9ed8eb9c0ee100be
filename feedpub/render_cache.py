"""The render cache: a post's HTML keyed by everything that decides it.

Layout: ``<cache_dir>/render/<k[:2]>/<k>.json``, one small JSON file per rendered post,
``k`` = sha256 of (cache format, feedpub + Markdown/Pygments/nh3/python-liquid
versions, the file's content hash, its path, its URL, the site URL, the excerpt
separator, the iframe allowlist). A lookup is one ``open()`` + ``json.loads`` of a few
KB (tens of microseconds): no index to load, so cost does not grow with the blog, and
a cold build that renders only 20 posts reads only 20 files.

Liquid posts depend on more than their file: the entry records the fingerprint of the
site data their Liquid could see (``LiquidEngine.fingerprint``) and the sha256 of every
include file read; a lookup re-checks both, so editing ``_includes/note.html`` or
adding a post a ``{% post_url %}`` points at re-renders exactly those posts.

Safe to delete at any time. An entry that does not parse, has another format or key,
or holds wrong types is ignored (one notice per cache, never trusted) and replaced.
Entries are written to a temp file and renamed into place (atomic, never half an
entry); there is no fsync: after a power cut a torn entry simply fails validation.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .errors import Problem

FORMAT = "feedpub-render/1"


def _versions() -> str:
    parts = [f"feedpub={__version__}"]
    for dist in ("markdown", "pygments", "nh3", "python-liquid"):
        try:
            parts.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist}=?")
    return ";".join(parts)


VERSIONS = _versions()


@dataclass(frozen=True)
class Entry:
    html: str
    summary_html: str
    summary_text: str
    warnings: tuple[Problem, ...]
    liquid: str | None            # the Liquid fingerprint it was rendered with (None: no Liquid)
    liquid_posts: bool            # whether that fingerprint covers the site's posts
    deps: dict[str, str]          # site-relative path -> sha256, for includes


def make_key(parts: dict[str, Any]) -> str:
    blob = json.dumps({"format": FORMAT, "versions": VERSIONS, **parts}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RenderCache:
    """Get and put rendered posts under ``cache_dir``; problems become ``notices``."""

    def __init__(self, cache_dir: Path) -> None:
        self.dir = Path(cache_dir) / "render"
        self._dir_str = str(self.dir)
        self.notices: list[Problem] = []
        self._write_failed = False

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> Entry | None:
        # os.path + open() rather than pathlib: this is the whole cost of a cache hit.
        path = os.path.join(self._dir_str, key[:2], key + ".json")
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError:
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
                raise ValueError("written by another version or for another post")
            entry = Entry(
                html=_str(data["html"]),
                summary_html=_str(data["summary_html"]),
                summary_text=_str(data["summary_text"]),
                warnings=tuple(_problem(w) for w in _list(data["warnings"])),
                liquid=_opt_str(data["liquid"]),
                liquid_posts=bool(data["liquid_posts"]),
                deps={_str(k): _str(v) for k, v in _dict(data["deps"]).items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            self._notice(f"ignoring a corrupt or foreign render-cache entry {os.path.basename(path)} ({exc}); it will be rebuilt")
            return None
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if self._write_failed:
            return
        data = {
            "format": FORMAT,
            "key": key,
            "html": entry.html,
            "summary_html": entry.summary_html,
            "summary_text": entry.summary_text,
            "warnings": [[p.path, p.line, p.message, p.severity] for p in entry.warnings],
            "liquid": entry.liquid,
            "liquid_posts": entry.liquid_posts,
            "deps": entry.deps,
        }
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            # A cache that cannot be written costs speed, never the build.
            self._write_failed = True
            self._notice(f"cannot write the render cache in {self.dir} ({exc.strerror or exc}); rendering without it")

    def _notice(self, message: str) -> None:
        if len(self.notices) < 20:
            self.notices.append(Problem(str(self.dir), None, message, severity="notice"))


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected text, got {type(v).__name__}")
    return v


def _opt_str(v: Any) -> str | None:
    return None if v is None else _str(v)


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise TypeError(f"expected a list, got {type(v).__name__}")
    return v


def _dict(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise TypeError(f"expected an object, got {type(v).__name__}")
    return v


def _problem(v: Any) -> Problem:
    path, line, message, severity = _list(v)
    if severity not in ("error", "warning", "notice") or not (line is None or isinstance(line, int)):
        raise ValueError("bad warning")
    return Problem(_opt_str(path), line, _str(message), severity=severity)


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
