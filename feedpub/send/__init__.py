"""Delivery: address a rendered digest to every recipient and send it, exactly once.

``deliver`` streams the recipients, skips those the journal says were sent, cuts the
rest into batches of the provider's size, and sends them from a small thread pool:
each batch is journaled (fsync'd) as ``sending`` before it goes out and as ``sent`` /
``failed`` after the answer; 429, 5xx, timeouts and connection errors are retried with
backoff; a token bucket shared by the workers keeps to the provider's rate. The digest
is recorded ``complete`` only when every recipient's batch was accepted.

Batches a killed run left ``sending`` are unknown: with an idempotent provider they are
sent again under the same idempotency key (the provider drops the duplicate); otherwise
``deliver`` stops with ``JournalError`` unless told ``unknown="resume"`` (send again:
nobody is missed, someone may get two) or ``unknown="skip"`` (assume they went out).
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..errors import JournalError, SendError
from ..model import Email
from .base import BatchResult, OutgoingMessage, Sender
from .journal import DONE_STATES, Journal, read_state
from .messages import build_message, recipient_hash
from .ratelimit import TokenBucket
from .recipients import Recipient
from .redact import redact as _redact
from .retry import Backoff, classify
from .unsubscribe import Unsubscribe

Unknown = Literal["stop", "resume", "skip"]
Progress = Callable[[int], None]

__all__ = ["FailedBatch", "Plan", "SendReport", "deliver", "plan", "idempotency_key", "send_test_copy"]


@dataclass(frozen=True, slots=True)
class FailedBatch:
    recipients: tuple[str, ...]  # addresses
    reason: str
    status: int | None = None


@dataclass
class SendReport:
    """What one ``deliver`` call did."""

    digest_id: str
    provider: str
    recipients: int = 0                  # distinct recipients considered
    sent: int = 0                        # accepted by the provider in this run
    already_sent: int = 0                # skipped: sent (or settled) by an earlier run
    batches: int = 0                     # batches attempted in this run
    retries: int = 0
    failed: list[FailedBatch] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (address, reason): refused for good
    unknown_resumed: int = 0             # recipients of unknown batches sent again
    unknown_skipped: int = 0             # recipients of unknown batches assumed sent
    stopped: str = ""                    # why sending stopped early (a bad key), if it did
    complete: bool = False               # every recipient done: the digest is recorded as sent
    already_complete: bool = False       # it already was before this run

    @property
    def failed_recipients(self) -> int:
        return sum(len(f.recipients) for f in self.failed)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest_id": self.digest_id, "provider": self.provider, "recipients": self.recipients,
            "sent": self.sent, "already_sent": self.already_sent, "batches": self.batches,
            "retries": self.retries, "failed_recipients": self.failed_recipients,
            "failed": [{"recipients": len(f.recipients), "reason": f.reason, "status": f.status} for f in self.failed],
            "rejected": [{"email": e, "reason": r} for e, r in self.rejected],
            "unknown_resumed": self.unknown_resumed, "unknown_skipped": self.unknown_skipped,
            "stopped": self.stopped, "complete": self.complete, "already_complete": self.already_complete,
        }


def idempotency_key(digest_id: str, hashes: Iterable[str]) -> str:
    """Derived from the digest and the batch's recipients only: a re-run sending the same
    batch sends the same key, so an idempotent provider drops the duplicate."""
    joined = digest_id + "\n" + "\n".join(sorted(hashes))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


@dataclass
class _Batch:
    id: str
    key: str
    recipients: list[Recipient]
    hashes: list[str]


@dataclass
class _Outcome:
    sent: int = 0
    retries: int = 0
    failed: FailedBatch | None = None
    rejected: list[tuple[str, str]] = field(default_factory=list)
    fatal: str = ""


def deliver(
    email: Email,
    recipients: Iterable[Recipient],
    sender: Sender,
    journal: Journal,
    *,
    now: datetime,
    concurrency: int = 4,
    rate: float = 0.0,
    retries: int = 5,
    unknown: Unknown = "stop",
    unsubscribe: Unsubscribe | None = None,
    progress: Progress | None = None,
    backoff: Backoff | None = None,
    bucket: TokenBucket | None = None,
    time_limit: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SendReport:
    """Send ``email`` to every recipient not yet sent, journaling each batch.

    ``rate`` is requests per second (0: the provider's ``default_rate``); ``retries`` the
    retries of one batch (``backoff`` overrides the whole policy, e.g. a test's sleep);
    ``progress(n)`` is called from worker threads with the number of recipients a batch
    settled (sent, rejected or failed). The journal is opened (and locked) here.

    ``time_limit`` (seconds) makes the send stop *cleanly* before a CI job's own timeout
    would kill it: no batch starts after it; those in flight finish and are journaled,
    and the rest wait for the next run (``report.stopped`` says so). Retries count
    against it too: a batch never sleeps past the limit.
    """
    report = SendReport(email.digest_id, sender.name)
    backoff = backoff or Backoff(retries=retries)
    bucket = bucket or TokenBucket(rate if rate > 0 else sender.default_rate)
    size = max(1, int(sender.batch_size))
    with journal:
        state = journal.state(email.digest_id)
        if state.complete is not None:
            report.already_complete = True
            report.complete = True
            report.already_sent = int(state.complete.get("recipients", 0))
            return report
        unknown_batches = state.unknown_batches()
        # Only the provider that got the request can drop its repetition: a batch left
        # unknown by another provider (the config changed since) needs a decision too.
        resume_ids = {b for b in unknown_batches
                      if sender.idempotent and state.providers.get(b, sender.name) == sender.name}
        undecided = {b: hs for b, hs in unknown_batches.items() if b not in resume_ids}
        if undecided and unknown == "stop":
            raise _unknown_error(sender, undecided, {state.providers.get(b, "?") for b in undecided})
        if undecided and unknown == "skip":
            for batch_id, hs in undecided.items():
                journal.skipped(email.digest_id, batch_id, "--skip-unknown: assumed delivered by the run that died", at=now)
                for h in hs:
                    state.status[h] = ("skipped", batch_id)
                report.unknown_skipped += len(hs)
        held: dict[str, list[Recipient]] = {b: [] for b in resume_ids}

        skipped_now = [0]  # already-settled recipients not yet reported to ``progress``

        def flush_progress() -> None:
            if progress is not None and skipped_now[0]:
                progress(skipped_now[0])
            skipped_now[0] = 0

        def batches() -> Iterator[_Batch]:
            pending: list[Recipient] = []
            pending_h: list[str] = []
            for r in recipients:
                report.recipients += 1
                h = recipient_hash(r.key)
                entry = state.status.get(h)
                if entry is not None and entry[0] in DONE_STATES:
                    report.already_sent += 1
                    skipped_now[0] += 1
                    continue
                if entry is not None and entry[0] == "sending":
                    if entry[1] in resume_ids:
                        held[entry[1]].append(r)   # resent whole, under its old key, below
                        continue
                    report.unknown_resumed += 1
                pending.append(r)
                pending_h.append(h)
                if len(pending) >= size:
                    flush_progress()
                    yield _new_batch(email.digest_id, pending, pending_h)
                    pending, pending_h = [], []
            flush_progress()
            if pending:
                yield _new_batch(email.digest_id, pending, pending_h)
            # Unknown batches of an idempotent provider: the very same batch, the same key.
            for batch_id in sorted(resume_ids):
                members = held[batch_id]
                expected = state.batches.get(batch_id, ())
                if len(members) == len(expected):
                    report.unknown_resumed += len(members)
                    yield _Batch(batch_id, state.keys.get(batch_id) or idempotency_key(email.digest_id, expected),
                                 members, [recipient_hash(r.key) for r in members])
                elif members:
                    # Some recipients left the list since: the request cannot be repeated
                    # byte for byte, so the provider could not deduplicate it.
                    if unknown == "stop":
                        raise _unknown_error(sender, {batch_id: expected}, {sender.name})
                    if unknown == "skip":
                        journal.skipped(email.digest_id, batch_id, "--skip-unknown", at=now)
                        report.unknown_skipped += len(members)
                        report.already_sent += len(members)
                        skipped_now[0] += len(members)
                        continue
                    report.unknown_resumed += len(members)
                    yield _new_batch(email.digest_id, members, [recipient_hash(r.key) for r in members])
            flush_progress()

        deadline = clock() + time_limit if time_limit is not None else None
        send_one = _BatchSender(email, sender, journal, backoff, bucket, unsubscribe, now, progress,
                                deadline=deadline, clock=clock)
        _run_pool(batches(), send_one, report, concurrency)
        settled = report.sent + len(report.rejected) + report.already_sent
        if report.ok and report.recipients > 0 and settled == report.recipients:
            journal.complete(
                email.digest_id, date=email.date, newest=email.newest, post_ids=email.post_ids,
                subject=email.subject, provider=sender.name, recipients=report.recipients, at=now,
            )
            report.complete = True
    return report


@dataclass
class Plan:
    """What ``deliver`` would do now (the dry run): counts from the recipients + journal."""

    recipients: int = 0
    already_sent: int = 0
    to_send: int = 0
    unknown: int = 0                     # left 'sending' by a run that died
    batches: int = 0
    first: list[str] = field(default_factory=list)
    complete: bool = False               # the journal already records this digest as sent

    def as_dict(self) -> dict[str, Any]:
        return {"recipients": self.recipients, "already_sent": self.already_sent, "to_send": self.to_send,
                "unknown": self.unknown, "batches": self.batches, "first": self.first, "complete": self.complete}


def plan(email: Email, recipients: Iterable[Recipient], journal_path: Path, batch_size: int, *, sample: int = 5) -> Plan:
    """Count who ``deliver`` would send to, without sending or locking anything."""
    state = read_state(journal_path, email.digest_id)
    out = Plan(complete=state.complete is not None)
    for r in recipients:
        out.recipients += 1
        if len(out.first) < sample:
            out.first.append(r.email)
        s = state.state_of(recipient_hash(r.key))
        if s in DONE_STATES:
            out.already_sent += 1
        else:
            out.to_send += 1
            if s == "sending":
                out.unknown += 1
    if out.complete:
        out.already_sent, out.to_send, out.unknown = out.recipients, 0, 0
    size = max(1, int(batch_size))
    out.batches = -(-out.to_send // size)
    return out


def send_test_copy(
    email: Email,
    recipient: Recipient,
    sender: Sender,
    *,
    unsubscribe: Unsubscribe | None = None,
    backoff: Backoff | None = None,
) -> str:
    """Send one copy to ``recipient`` outside the journal (``feedpub send --to``).

    Retried like any batch; returns the provider's message id, raises on failure.
    """
    backoff = backoff or Backoff()
    message = build_message(email, recipient, unsubscribe)
    key = "test-" + idempotency_key(email.digest_id, [recipient_hash(recipient.key)])[:27]
    attempt = 0
    while True:
        try:
            result = sender.send_batch([message], idempotency_key=key)
        except Exception as exc:
            verdict = classify(exc)
            if backoff.should_retry(attempt, verdict):
                backoff.wait(attempt, verdict)
                attempt += 1
                continue
            if isinstance(exc, SendError):
                raise
            raise SendError(_redact(f"{sender.name}: {exc}")) from None
        reason = (getattr(result, "rejected", None) or {}).get(recipient.email)
        if reason:
            raise SendError(_redact(f"{sender.name} refused {recipient.email}: {reason}"))
        return result.message_ids[0] if result.message_ids else ""


def _new_batch(digest_id: str, recipients: list[Recipient], hashes: list[str]) -> _Batch:
    key = idempotency_key(digest_id, hashes)
    return _Batch(key[:16], key, list(recipients), list(hashes))


def _unknown_error(sender: Sender, unknown: dict[str, Sequence[str]], providers: set[str]) -> JournalError:
    n = sum(len(v) for v in unknown.values())
    via = ", ".join(sorted(providers))
    why = (f"{via} cannot tell whether it delivered them" if providers == {sender.name}
           else f"{sender.name} cannot deduplicate a request that went to {via}")
    return JournalError(
        f"{len(unknown)} batch(es) for {n} recipient(s) were being sent through {via} when an "
        f"earlier run stopped, and {why}",
        hint="check the provider's activity log, then re-run with --skip-unknown (assume they went out: "
             "nobody gets it twice, but they may get nothing) or --resume-unknown (send them again: "
             "nobody is missed, but they may get it twice)",
    )


class _BatchSender:
    """Sends one batch with retries; runs in a worker thread."""

    def __init__(self, email: Email, sender: Sender, journal: Journal, backoff: Backoff, bucket: TokenBucket,
                 unsubscribe: Unsubscribe | None, now: datetime, progress: Progress | None, *,
                 deadline: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.email = email
        self.sender = sender
        self.journal = journal
        self.backoff = backoff
        self.bucket = bucket
        self.unsubscribe = unsubscribe
        self.now = now
        self.progress = progress
        self.stop = threading.Event()   # set on a fatal error: no new batch starts
        self.deadline = deadline
        self.clock = clock
        self.timed_out = False

    def out_of_time(self, wait: float = 0.0) -> bool:
        if self.deadline is not None and self.clock() + wait >= self.deadline:
            self.timed_out = True
            self.stop.set()
        return self.timed_out

    def __call__(self, batch: _Batch) -> _Outcome:
        out = _Outcome()
        if self.stop.is_set():
            return out
        digest = self.email.digest_id
        messages = [build_message(self.email, r, self.unsubscribe) for r in batch.recipients]
        hashes = list(batch.hashes)
        self.journal.sending(digest, batch.id, batch.key, hashes, provider=self.sender.name, at=self.now)
        attempt = 0
        while True:
            self.bucket.acquire()
            try:
                result = self.sender.send_batch(messages, idempotency_key=batch.key)
            except Exception as exc:  # noqa: BLE001 - classified below; unknown ones re-raised
                accepted = _accepted(exc)
                if accepted:
                    # Part of the batch went out before the failure (SMTP): settle that part now.
                    ids = [accepted[i] for i in sorted(accepted)]
                    done_h = [hashes[i] for i in sorted(accepted)]
                    self.journal.sent(digest, batch.id, ids, at=self.now, hashes=done_h)
                    out.sent += len(done_h)
                    self._progress(len(done_h))
                    keep = [i for i in range(len(messages)) if i not in accepted]
                    messages = [messages[i] for i in keep]
                    hashes = [hashes[i] for i in keep]
                verdict = classify(exc)
                if not verdict.retryable and not verdict.fatal and not isinstance(exc, SendError) and not _is_known(exc):
                    raise  # a bug, not an answer: leave the batch 'sending' (unknown) and stop
                if (self.backoff.should_retry(attempt, verdict) and not self.stop.is_set()
                        and not self.out_of_time(verdict.retry_after or 0.0)):
                    self.backoff.wait(attempt, verdict)
                    attempt += 1
                    out.retries += 1
                    continue
                reason = _redact((str(exc).splitlines() or [""])[0] or type(exc).__name__)
                if attempt:
                    reason += f" (after {attempt} {'retry' if attempt == 1 else 'retries'})"
                # Name the recipients when part of the batch was settled by an earlier attempt.
                self.journal.failed(digest, batch.id, reason, at=self.now,
                                    hashes=hashes if len(hashes) != len(batch.hashes) else None)
                out.failed = FailedBatch(tuple(m.to for m in messages), reason, getattr(exc, "status", None))
                if verdict.fatal:
                    out.fatal = reason
                    self.stop.set()
                self._progress(len(messages))
                return out
            return self._settle(batch, messages, hashes, result, out)

    def _settle(self, batch: _Batch, messages: list[OutgoingMessage], hashes: list[str], result: BatchResult, out: _Outcome) -> _Outcome:
        digest = self.email.digest_id
        rejected: dict[str, str] = {k.lower(): v for k, v in (getattr(result, "rejected", None) or {}).items()}
        if rejected:
            rej_h = [h for m, h in zip(messages, hashes) if m.to.lower() in rejected]
            ok_h = [h for m, h in zip(messages, hashes) if m.to.lower() not in rejected]
            ids = [i for m, i in zip(messages, _ids_for(result, len(messages))) if m.to.lower() not in rejected]
            if ok_h:
                self.journal.sent(digest, batch.id, ids, at=self.now, hashes=ok_h)
            reasons = [_redact(rejected[m.to.lower()]) for m in messages if m.to.lower() in rejected]
            self.journal.rejected(digest, batch.id, rej_h, reasons, at=self.now)
            out.rejected.extend((m.to, _redact(rejected[m.to.lower()])) for m in messages if m.to.lower() in rejected)
            out.sent += len(ok_h)
        else:
            self.journal.sent(digest, batch.id, result.message_ids, at=self.now,
                              hashes=hashes if len(hashes) != len(batch.hashes) else None)
            out.sent += len(messages)
        self._progress(len(messages))
        return out

    def _progress(self, n: int) -> None:
        if self.progress is not None and n:
            self.progress(n)


def _ids_for(result: BatchResult, n: int) -> list[str]:
    """One id per message: a batch-wide id (SendGrid's X-Message-Id) stands for each."""
    ids = list(result.message_ids)
    if len(ids) == 1:
        return ids * n
    return (ids + [""] * n)[:n]


def _accepted(exc: BaseException) -> dict[int, str]:
    """Messages of the batch a sender reports as accepted before it failed (index -> id)."""
    value = getattr(exc, "accepted", None)
    return dict(value) if isinstance(value, dict) else {}


def _is_known(exc: BaseException) -> bool:
    """Failures that are answers (the request did or did not go through), not bugs."""
    import smtplib

    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return True
    try:
        import httpx
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, httpx.HTTPError)


def _run_pool(batches: Iterator[_Batch], send_one: _BatchSender, report: SendReport, concurrency: int) -> None:
    """Run ``send_one`` over the batches with at most ``concurrency`` in flight.

    Batches are drawn from the (streamed) iterator only as workers free up, so memory
    holds ``concurrency`` batches, not the whole list. A fatal error (bad key) stops
    drawing new batches; those already running finish and are journaled.
    """
    workers = max(1, int(concurrency))
    in_flight: set[Future[_Outcome]] = set()

    def collect(done: Iterable[Future[_Outcome]]) -> None:
        for fut in done:
            out = fut.result()
            report.sent += out.sent
            report.retries += out.retries
            report.rejected.extend(out.rejected)
            if out.failed is not None:
                report.failed.append(out.failed)
            if out.fatal and not report.stopped:
                report.stopped = out.fatal

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feedpub-send") as pool:
        try:
            for batch in batches:
                if send_one.stop.is_set() or send_one.out_of_time():
                    break
                while len(in_flight) >= workers:
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    in_flight -= done
                    collect(done)
                    if send_one.stop.is_set():
                        break
                if send_one.stop.is_set():
                    break
                report.batches += 1
                in_flight.add(pool.submit(send_one, batch))
        except BaseException:
            send_one.stop.set()  # let running batches finish and journal their answer
            for fut in in_flight:
                fut.cancel()
            wait(in_flight)
            raise
        done, _ = wait(in_flight)
        collect(done)
    if send_one.timed_out and not report.stopped:
        report.stopped = "the time limit was reached; run again to send the rest"
    elif send_one.stop.is_set() and not report.stopped:
        report.stopped = "stopped after an error"

