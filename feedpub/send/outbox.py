"""The default provider: each message becomes an ``.eml`` file in ``[send] outbox``.

A new user runs the whole flow (digest, recipients, unsubscribe links, journal) with no
account and opens the files in any mail client. Files go to
``<outbox>/<digest id>/<address>.eml`` and are written atomically; writing the same
recipient's copy again replaces it with identical bytes, so the outbox is idempotent
(a killed run resumes by itself) and a file never appears twice.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomicio import fsync_dir, write_bytes
from ..config import SendConfig
from ..errors import OutputError, ProviderError, SendError
from .base import BatchResult, OutgoingMessage
from .messages import to_email_message

_SAFE = re.compile(r"[^a-z0-9@._+-]")


def file_name(address: str) -> str:
    """A stable, safe file name for a recipient: the lower-cased address when it is
    plain, else its plain characters plus a short hash (so two never collide)."""
    lowered = address.strip().lower()
    safe = _SAFE.sub("_", lowered).strip(".") or "recipient"
    if safe != lowered:
        safe = f"{safe[:80]}-{hashlib.sha256(lowered.encode()).hexdigest()[:10]}"
    return f"{safe}.eml"


class OutboxSender:
    name = "outbox"
    batch_size = 100
    idempotent = True        # same file, same bytes: writing twice delivers once
    default_rate = 0.0       # no limit

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, message: OutgoingMessage) -> Path:
        sub = message.digest_id or "digest"
        return self.folder / sub / file_name(message.to)

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        ids = []
        written: set[Path] = set()
        for m in messages:
            path = self.path_for(m)
            try:
                write_bytes(path, to_email_message(m).as_bytes())
            except OutputError as exc:
                raise ProviderError(exc.message, provider=self.name, retryable=False, hint=exc.hint) from None
            written.add(path.parent)
            ids.append(m.message_id or str(path.name))
        for folder in written:
            fsync_dir(folder)
        return BatchResult(tuple(ids))

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<OutboxSender {self.folder}>"


def factory(config: SendConfig, env: Mapping[str, str], client: Any = None) -> OutboxSender:
    if not config.outbox:
        raise SendError("[send] outbox is empty", hint='set [send] outbox = "outbox" (a folder for the .eml files)')
    return OutboxSender(Path(config.outbox))
