"""The send journal: what was sent to whom, so a killed or failed send resumes exactly.

One JSON object per line, appended and fsync'd *before* each batch goes out and after
each answer, so after a crash every batch is in one of three states::

    {"event": "sending",  "digest": D, "batch": K, "key": IK, "recipients": [h, ...], ...}
    {"event": "sent",     "digest": D, "batch": K, "ids": ["provider id", ...], ...}
    {"event": "failed",   "digest": D, "batch": K, "reason": "...", ...}
    {"event": "rejected", "digest": D, "batch": K, "recipients": [h], "reasons": [...]}  # refused for good
    {"event": "skipped",  "digest": D, "batch": K, "reason": "--skip-unknown"}
    {"event": "complete", "digest": D, "date": ..., "newest": ..., "post_ids": [...], "subject": ...}

``sent``/``failed`` may carry their own ``recipients`` when they cover part of a batch
(an SMTP batch refused half-way). A recipient's state is the last event naming them.
Recipients are recorded as ``h``: the first 16 hex digits of the SHA-256 of the
lower-cased address, never the address itself, because the journal is meant to be
committed (often to a public repository). When every batch of a digest is done, a
``complete`` line is written and the digest's batch lines are dropped (the file is
rewritten atomically), so the journal grows by one line per digest.

A kill can leave half a line at the end; it never held a finished event (the fsync that
would have made it count did not return) and is cut off before the next append.
``fcntl.flock`` on ``<journal>.lock`` keeps two sends from running at once; the kernel
releases it when the process dies, so a crash never leaves a stale lock.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ..atomicio import fsync_dir, open_atomic
from ..errors import JournalError

DONE_STATES = frozenset({"sent", "rejected", "skipped"})
_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+\.[A-Za-z]{2,}")


def scrub(reason: str) -> str:
    """A provider's reason without the addresses it may quote (the journal holds none)."""
    return _ADDRESS.sub("<address>", reason)


@dataclass(frozen=True, slots=True)
class SentDigest:
    """One digest every recipient of which was sent (a ``complete`` line)."""

    digest_id: str
    date: datetime               # the digest's date (the `now` it was rendered for)
    post_ids: tuple[str, ...]
    subject: str


@dataclass
class DigestState:
    """What the journal knows about one digest."""

    digest_id: str
    complete: dict[str, Any] | None = None
    batches: dict[str, tuple[str, ...]] = field(default_factory=dict)      # batch -> recipient hashes
    keys: dict[str, str] = field(default_factory=dict)                     # batch -> idempotency key
    providers: dict[str, str] = field(default_factory=dict)                # batch -> provider it went to
    status: dict[str, tuple[str, str]] = field(default_factory=dict)       # hash -> (state, batch)

    def state_of(self, h: str) -> str | None:
        entry = self.status.get(h)
        return entry[0] if entry else None

    def unknown_batches(self) -> dict[str, tuple[str, ...]]:
        """Batches some recipients of which are still ``sending``: a run died waiting."""
        out: dict[str, list[str]] = {}
        for h, (state, batch) in self.status.items():
            if state == "sending":
                out.setdefault(batch, []).append(h)
        return {b: tuple(hs) for b, hs in out.items()}

    @property
    def done(self) -> int:
        return sum(1 for s, _ in self.status.values() if s in DONE_STATES)


# ---- reading (no lock needed: lines are appended whole and fsync'd) -------------------

def _iter_events(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise JournalError(f"cannot read the send journal: {exc.strerror or exc}", path=str(path)) from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                return  # a torn last line from a killed run: it never counted
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                event = None
            if not isinstance(event, dict) or not isinstance(event.get("event"), str):
                raise JournalError(
                    "the send journal has a line that is not a journal event",
                    path=str(path), line=number,
                    hint="restore the journal from version control or your CI cache; do not delete it, or the next send may mail everyone again",
                )
            yield number, event


def read_state(path: Path, digest_id: str) -> DigestState:
    state = DigestState(digest_id)
    for _, ev in _iter_events(path):
        if ev.get("digest") != digest_id:
            continue
        kind = ev["event"]
        batch = str(ev.get("batch", ""))
        if kind == "complete":
            state.complete = ev
        elif kind == "sending":
            hs = tuple(ev.get("recipients", ()))
            state.batches[batch] = hs
            state.keys[batch] = str(ev.get("key", ""))
            state.providers[batch] = str(ev.get("provider", ""))
            for h in hs:
                state.status[h] = ("sending", batch)
        elif kind in ("sent", "failed", "rejected", "skipped"):
            hs = ev.get("recipients")
            for h in hs if hs is not None else state.batches.get(batch, ()):
                state.status[h] = (kind, batch)
    return state


def read_broadcast(path: Path, digest_id: str) -> dict[str, Any] | None:
    """The last ``broadcast`` event of ``digest_id`` (None: no broadcast was started)."""
    last = None
    for _, ev in _iter_events(Path(path)):
        if ev["event"] == "broadcast" and ev.get("digest") == digest_id:
            last = ev
    return last


def unfinished_digests(path: Path) -> dict[str, int]:
    """Digests with batches but no ``complete`` line: digest id -> recipients already sent."""
    sent: dict[str, set[str]] = {}
    batches: dict[tuple[str, str], list[str]] = {}
    done: set[str] = set()
    for _, ev in _iter_events(Path(path)):
        digest = str(ev.get("digest", ""))
        kind = ev["event"]
        if kind == "complete":
            done.add(digest)
        elif kind == "sending":
            batches[(digest, str(ev.get("batch", "")))] = list(ev.get("recipients", ()))
            sent.setdefault(digest, set())
        elif kind == "sent":
            hs = ev.get("recipients")
            sent.setdefault(digest, set()).update(hs if hs is not None else batches.get((digest, str(ev.get("batch", ""))), ()))
    return {d: len(hs) for d, hs in sent.items() if d not in done}


def sent_digests(path: Path) -> list[SentDigest]:
    """Every digest sent completely, oldest first (the journal's ``complete`` lines)."""
    out = []
    for number, ev in _iter_events(Path(path)):
        if ev["event"] != "complete":
            continue
        try:
            out.append(SentDigest(
                digest_id=str(ev["digest"]),
                date=datetime.fromisoformat(ev["date"]),
                post_ids=tuple(ev.get("post_ids", ())),
                subject=str(ev.get("subject", "")),
            ))
        except (KeyError, TypeError, ValueError):
            raise JournalError("a 'complete' line of the send journal is missing its digest or date",
                               path=str(path), line=number) from None
    return out


def last_sent_at(path: Path) -> datetime | None:
    """The newest post date of the last digest sent completely (None: nothing sent yet).

    ``feedpub digest`` starts "since the last digest" here.
    """
    newest: datetime | None = None
    for number, ev in _iter_events(Path(path)):
        if ev["event"] == "complete":
            try:
                newest = datetime.fromisoformat(ev["newest"])
            except (KeyError, TypeError, ValueError):
                raise JournalError("a 'complete' line of the send journal has no valid 'newest' date",
                                   path=str(path), line=number) from None
    return newest


# ---- writing ------------------------------------------------------------------------

class Journal:
    """The journal of one run: ``with Journal(path) as j:`` holds the lock.

    ``append`` is thread-safe: worker threads journal their own batches.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_fh: IO[bytes] | None = None
        self._fh: IO[bytes] | None = None
        self._mutex = threading.Lock()

    # -- lifecycle
    def __enter__(self) -> "Journal":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_fh = open(self.lock_path, "ab")
        except OSError as exc:
            raise JournalError(f"cannot create the send journal's folder or lock: {exc.strerror or exc}",
                               path=str(self.lock_path)) from None
        try:
            fcntl.flock(lock_fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_fh.close()
            raise JournalError(
                "another 'feedpub send' is running with this journal",
                path=str(self.path),
                hint="wait for it to finish (the lock goes away by itself when that process ends)",
            ) from None
        self._lock_fh = lock_fh
        try:
            self._repair_tail()
            self._fh = open(self.path, "ab")
            fsync_dir(self.path.parent)
        except OSError as exc:
            self.close()
            raise JournalError(f"cannot open the send journal: {exc.strerror or exc}", path=str(self.path)) from None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def _repair_tail(self) -> None:
        """Cut a torn last line (a run killed mid-write) so the next append starts clean."""
        try:
            with open(self.path, "rb+") as fh:
                size = fh.seek(0, os.SEEK_END)
                if size == 0:
                    return
                fh.seek(size - 1)
                if fh.read(1) == b"\n":
                    return
                # Find the last newline; everything after it is the torn line.
                pos = size
                while pos > 0:
                    step = min(4096, pos)
                    fh.seek(pos - step)
                    chunk = fh.read(step)
                    i = chunk.rfind(b"\n")
                    if i >= 0:
                        fh.truncate(pos - step + i + 1)
                        break
                    pos -= step
                else:
                    fh.truncate(0)
                fh.flush()
                os.fsync(fh.fileno())
        except FileNotFoundError:
            return

    # -- reading under the lock
    def state(self, digest_id: str) -> DigestState:
        return read_state(self.path, digest_id)

    # -- appending
    def append(self, event: dict[str, Any]) -> None:
        """Write one event and fsync it: when this returns, the event survives a crash."""
        if self._fh is None:
            raise RuntimeError("the journal is not open")
        line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._mutex:
            try:
                self._fh.write(line)
                self._fh.flush()
                os.fsync(self._fh.fileno())
            except OSError as exc:
                raise JournalError(
                    f"cannot write the send journal: {exc.strerror or exc}", path=str(self.path),
                    hint="free disk space and re-run: batches already journaled as sent are not sent again",
                ) from None

    def sending(self, digest_id: str, batch: str, key: str, hashes: Sequence[str], *, provider: str, at: datetime) -> None:
        self.append({"event": "sending", "digest": digest_id, "batch": batch, "key": key,
                     "provider": provider, "at": at.isoformat(), "recipients": list(hashes)})

    def sent(self, digest_id: str, batch: str, ids: Iterable[str], *, at: datetime, hashes: Sequence[str] | None = None) -> None:
        event: dict[str, Any] = {"event": "sent", "digest": digest_id, "batch": batch, "at": at.isoformat(), "ids": list(ids)}
        if hashes is not None:
            event["recipients"] = list(hashes)
        self.append(event)

    def failed(self, digest_id: str, batch: str, reason: str, *, at: datetime, hashes: Sequence[str] | None = None) -> None:
        event: dict[str, Any] = {"event": "failed", "digest": digest_id, "batch": batch, "at": at.isoformat(), "reason": scrub(reason)}
        if hashes is not None:
            event["recipients"] = list(hashes)
        self.append(event)

    def rejected(self, digest_id: str, batch: str, hashes: Sequence[str], reasons: Sequence[str], *, at: datetime) -> None:
        self.append({"event": "rejected", "digest": digest_id, "batch": batch, "at": at.isoformat(),
                     "recipients": list(hashes), "reasons": [scrub(r) for r in reasons]})

    def skipped(self, digest_id: str, batch: str, reason: str, *, at: datetime) -> None:
        self.append({"event": "skipped", "digest": digest_id, "batch": batch, "at": at.isoformat(), "reason": scrub(reason)})

    def broadcast(self, digest_id: str, step: str, *, provider: str, audience: str, at: datetime,
                  broadcast_id: str = "", reason: str = "") -> None:
        """A provider-managed broadcast's progress (``feedpub.send.audience``); ``step`` is
        creating, created, sending, sent or failed. Read back with ``read_broadcast``."""
        event: dict[str, Any] = {"event": "broadcast", "digest": digest_id, "step": step, "provider": provider,
                                 "audience": audience, "at": at.isoformat()}
        if broadcast_id:
            event["id"] = broadcast_id
        if reason:
            event["reason"] = scrub(reason)
        self.append(event)

    def complete(
        self, digest_id: str, *, date: datetime, newest: datetime, post_ids: Sequence[str], subject: str,
        provider: str, recipients: int, at: datetime, extra: dict[str, Any] | None = None,
    ) -> None:
        """Record the digest as sent, then compact: its batch lines are no longer needed.

        ``extra`` adds fields that must outlive compaction (a broadcast's id and audience)."""
        self.append({**(extra or {}), "event": "complete", "digest": digest_id, "date": date.isoformat(),
                     "newest": newest.isoformat(), "post_ids": list(post_ids), "subject": subject,
                     "provider": provider, "recipients": recipients, "at": at.isoformat()})
        self._compact(digest_id)

    def _compact(self, digest_id: str) -> None:
        """Rewrite the journal without ``digest_id``'s batch lines (atomic; lock held)."""
        assert self._fh is not None
        with self._mutex:
            keep: list[bytes] = []
            with open(self.path, "rb") as fh:
                for raw in fh:
                    if not raw.endswith(b"\n"):
                        break
                    try:
                        ev = json.loads(raw)
                    except ValueError:
                        keep.append(raw)
                        continue
                    if isinstance(ev, dict) and ev.get("digest") == digest_id and ev.get("event") != "complete":
                        continue
                    keep.append(raw)
            self._fh.close()
            self._fh = None
            try:
                with open_atomic(self.path, "wb") as out:
                    out.writelines(keep)
                fsync_dir(self.path.parent)
            finally:
                self._fh = open(self.path, "ab")
