"""When to retry a batch, and how long to wait first.

Retried: HTTP 429 (after ``Retry-After`` when the provider sent one), 408 and 5xx,
timeouts and connection errors. Never retried: any other 4xx (a bad key, a bad address,
a malformed request: sending it again cannot help). Waits are exponential backoff with
"full jitter" (a random wait between 0 and ``base * 2**attempt``, capped), so workers
that failed together do not come back together. ``sleep`` and ``random`` are injectable
so tests run without waiting.
"""
from __future__ import annotations

import random as _random
import socket
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from ..errors import CredentialsError, ProviderError


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a failure means for the batch that raised it."""

    retryable: bool
    retry_after: float | None = None   # seconds the provider asked us to wait
    fatal: bool = False                # every other batch would fail the same way (bad key)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delta-seconds or an HTTP-date (RFC 9110).

    An HTTP-date needs ``now`` (the response's ``Date`` header, ideally) to measure from.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if now is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def classify(exc: BaseException) -> Verdict:
    """Decide whether ``exc`` (raised while sending one batch) is worth retrying."""
    if isinstance(exc, CredentialsError):
        return Verdict(False, fatal=True)
    if isinstance(exc, ProviderError):
        status = exc.status
        fatal = status in (401, 403) or bool(getattr(exc, "fatal", False))
        retryable = exc.retryable or status == 429 or status == 408 or (status is not None and status >= 500)
        return Verdict(retryable and not fatal, exc.retry_after, fatal)
    status_exc = _http_status_error(exc)
    if status_exc is not None:
        status, headers = status_exc
        if status == 429 or status == 408 or status >= 500:
            return Verdict(True, parse_retry_after(headers.get("retry-after"), now=_date_header(headers)))
        return Verdict(False, fatal=status in (401, 403))
    if _is_transport_error(exc):
        return Verdict(True)
    return Verdict(False)


def _http_status_error(exc: BaseException) -> tuple[int, dict[str, str]] | None:
    """``httpx.HTTPStatusError`` without importing httpx unless it is already loaded."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        headers = {k.lower(): v for k, v in getattr(response, "headers", {}).items()}
        return status, headers
    return None


def _date_header(headers: dict[str, str]) -> datetime | None:
    try:
        return parsedate_to_datetime(headers["date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _is_transport_error(exc: BaseException) -> bool:
    if isinstance(exc, (TimeoutError, socket.timeout, ConnectionError, smtplib.SMTPServerDisconnected)):
        return True
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dependency
        return False
    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


@dataclass
class Backoff:
    """Exponential backoff with full jitter; ``max_wait`` bounds any single wait."""

    retries: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_wait: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = field(default=_random.random)

    def delay(self, attempt: int, verdict: Verdict) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (attempt counts from 0)."""
        jitter = self.random() * min(self.cap, self.base * (2 ** attempt))
        if verdict.retry_after is not None:
            # The provider said when; add a little jitter so workers do not stampede.
            return min(self.max_wait, verdict.retry_after + jitter * 0.1)
        return min(self.max_wait, jitter)

    def should_retry(self, attempt: int, verdict: Verdict) -> bool:
        if not verdict.retryable or attempt >= self.retries:
            return False
        # A provider asking for a longer pause than we are willing to hold a worker for:
        # give up on this batch now; the journal marks it failed and a re-run retries it.
        return verdict.retry_after is None or verdict.retry_after <= self.max_wait

    def wait(self, attempt: int, verdict: Verdict) -> float:
        seconds = self.delay(attempt, verdict)
        if seconds > 0:
            self.sleep(seconds)
        return seconds
