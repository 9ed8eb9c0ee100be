"""The provider-side parts of ``feedpub send``: a provider-managed audience
(``[send] audience``) and the provider's own suppression list, merged before a real send."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ..model import Email
from ..send.audience import broadcast_digest
from ..send.suppress import provider_suppressions
from .common import Ui


def broadcast(ui: Ui, email: Email, sender: Any, audience: str, journal: Path, now: datetime,
              yes: bool, unknown: str, as_json: bool) -> None:
    """Dry run: say what would be broadcast. With --yes: create/send it once (journaled)."""
    if not yes:
        if as_json:
            ui.json({"dry_run": True, "digest_id": email.digest_id, "subject": email.subject,
                     "provider": sender.name, "audience": audience})
        else:
            ui.info("Dry run: nothing was sent. Add --yes to send.")
            ui.info(f"Digest:     {email.subject!r} (id {email.digest_id})")
            ui.info(f"Provider:   {sender.name}, to the audience it keeps: {audience}")
        return
    result = broadcast_digest(email, sender, audience, journal=journal, now=now, unknown=unknown)  # type: ignore[arg-type]
    if as_json:
        ui.json({"dry_run": False, "digest_id": email.digest_id, "provider": result.provider,
                 "audience": result.audience, "broadcast_id": result.broadcast_id, "already_sent": result.already})
    elif result.already:
        ui.info(f"digest {email.digest_id} was already sent to {audience}; nothing to send")
    else:
        shown = f" (broadcast {result.broadcast_id})" if result.broadcast_id else ""
        ui.info(f"sent digest {email.digest_id} to {sender.name} audience {audience}{shown}")


def merge_provider_suppressions(ui: Ui, source: Any, sender: Any, as_json: bool) -> None:
    """Add the provider's suppressed addresses to this run's never-send set; name a
    provider that cannot be asked."""
    found = provider_suppressions(sender)
    if found.addresses is None:
        if not as_json:
            ui.detail(f"{found.note}; only the local suppression list applies")
        return
    source.add_suppressed(found.addresses)
    if not as_json:
        ui.detail(f"{found.provider}: {len(found.addresses)} suppressed address(es) from the provider will be skipped")
