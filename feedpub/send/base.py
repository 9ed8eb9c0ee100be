"""The one seam between the delivery engine and each email provider.

The engine (feedpub.send) addresses an ``Email`` to every recipient, cuts the messages
into batches of the provider's ``batch_size``, journals each batch, and calls
``send_batch``; a provider module only turns a batch into its API's request and its
answer into message ids or a ``ProviderError``. Providers never retry, sleep, journal or
read the config themselves: retries, backoff, rate limits and concurrency live in the
engine, so every provider gets them the same way.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One recipient's copy of the digest."""

    to: str                      # bare address, e.g. "ann@example.com"
    to_name: str
    from_addr: str               # "Blog <news@example.com>"
    subject: str
    html: str
    text: str
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # List-Unsubscribe, Message-ID, ...
    message_id: str = ""         # our Message-ID (without <>), stable per digest + recipient
    digest_id: str = ""          # the digest this copy belongs to (outbox file names, X-Feedpub-Digest)
    date: datetime | None = None  # the digest's date: the Date header of .eml/SMTP copies


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What the provider accepted: one id per message, in order (or one id for the batch)."""

    message_ids: tuple[str, ...]
    # Recipients the provider refused for good inside an accepted batch (Postmark answers
    # 200 with a per-message ErrorCode, e.g. 406 inactive recipient): address -> reason.
    # Their message_ids entry is "". Never retried: the rest of the batch went out.
    rejected: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Sender(Protocol):
    name: str                    # "postmark", "sendgrid", ...
    batch_size: int              # the provider's documented limit for one request
    idempotent: bool             # True if the provider deduplicates a retried request by key
    default_rate: float          # requests per second the provider tolerates by default

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        """Send one batch; raise ``ProviderError`` (``retryable`` set) on failure."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
