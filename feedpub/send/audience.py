"""Send the digest to a list the provider keeps (``[send] audience``), exactly once.

Past a few hundred readers a CSV and per-recipient batches stop being the right tool:
the provider already stores the list, handles unsubscribes, bounces and throttling, and
can send one campaign to millions. A provider-managed audience is one or two API calls:

    provider   audience                                  unsubscribe placeholder
    resend     segment (ex-audience) id                  {{{RESEND_UNSUBSCRIBE_URL}}}
    mailgun    mailing list address (list@mg.example)    %unsubscribe_url%
    brevo      contact list id(s): "7" or "7,12"          {{ unsubscribe }}
    sendgrid   "list=<id>, sender=<id>, group=<id>"      {{{unsubscribe}}}
    postmark, ses: they keep no subscriber lists to send to (named, refused)

The digest's unsubscribe placeholder becomes the provider's own, and our
``List-Unsubscribe`` headers are dropped: the provider writes its own per recipient.

Exactly once: every step is journaled (fsync'd) before and after its call::

    creating -> created(id) -> sending(id) -> sent(id) -> complete

A re-run continues after the last step. Only "creating"/"sending" left by a killed run,
or a call that failed without a clear answer (timeout, connection lost, 5xx), is
unknown: then, as for batches, ``unknown="stop"`` (default) refuses, "resume" repeats
the step, "skip" assumes it happened. One exception: where creating only makes a draft
(every provider here but Mailgun, whose list send is one call), an unknown "creating"
is resumed by itself: the draft a killed run may have left can never be sent (it is
named "feedpub digest <id>", so it is easy to delete). A definite refusal (4xx) is
"failed" and simply retried by the next run. So one digest goes out once.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..digest import fill_unsubscribe
from ..errors import JournalError, ProviderError, SendError
from ..model import Email
from .journal import Journal, read_broadcast

Unknown = Literal["stop", "resume", "skip"]

NO_LISTS = {
    "postmark": "Postmark keeps no subscriber lists: its broadcast message stream still needs every "
                "recipient from feedpub; use [send] recipients (message_stream defaults to \"broadcast\")",
    "ses": "Amazon SES sends to addresses, not to a list it would expand; use [send] recipients",
    "outbox": "the outbox writes files; it has no audience",
    "smtp": "an SMTP server has no audience; use [send] recipients",
}


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    provider: str
    audience: str
    broadcast_id: str
    already: bool = False     # the journal said this digest was sent before this run


def prepare(email: Email, placeholder: str) -> Email:
    """The digest with the provider's unsubscribe placeholder and without our own
    List-Unsubscribe headers (the provider adds per-recipient ones)."""
    filled = fill_unsubscribe(email, placeholder)
    headers = {k: v for k, v in filled.headers.items() if k not in ("List-Unsubscribe", "List-Unsubscribe-Post")}
    return dataclasses.replace(filled, headers=headers)


def _check(sender: Any) -> None:
    name = getattr(sender, "name", "provider")
    if not hasattr(sender, "create_broadcast"):
        raise SendError(
            f"{name} cannot send to a provider-managed audience",
            hint=NO_LISTS.get(name, "leave [send] audience empty and use [send] recipients"),
        )


def _unclear(exc: ProviderError) -> bool:
    """True when the provider may have acted although the call failed."""
    return exc.status is None or exc.status >= 500 or exc.status == 408


def broadcast_digest(
    email: Email, sender: Any, audience: str, *, journal: Path, now: datetime, unknown: Unknown = "stop",
) -> BroadcastResult:
    """Create and send one broadcast of ``email`` to ``audience``, or continue one a
    previous run started; never a second broadcast for the same digest."""
    _check(sender)
    name = sender.name
    digest = email.digest_id
    steps = getattr(sender, "broadcast_steps", 2)
    prepared = prepare(email, sender.UNSUBSCRIBE_URL)
    with Journal(journal) as j:
        state = j.state(digest)
        if state.complete is not None:
            return BroadcastResult(name, audience, str(state.complete.get("broadcast", "")), already=True)
        last = read_broadcast(journal, digest)
        step = last["step"] if last else None
        bid = str(last.get("id", "")) if last else ""
        if last and (last.get("provider"), last.get("audience")) != (name, audience):
            raise JournalError(
                f"this digest's broadcast was started with {last.get('provider')} to "
                f"{last.get('audience')!r}, not {name} to {audience!r}",
                path=str(journal), hint="send it with the same provider and audience, or ask someone who knows",
            )

        def event(step_name: str, broadcast_id: str = "", reason: str = "") -> None:
            j.broadcast(digest, step_name, provider=name, audience=audience, at=now, broadcast_id=broadcast_id, reason=reason)

        def unknown_step(what: str) -> str:
            if unknown == "stop":
                raise JournalError(
                    f"a previous run was stopped while {what} the {name} broadcast of digest {digest}; "
                    "feedpub cannot tell whether the provider did it",
                    path=str(journal),
                    hint=f"check {name}'s dashboard, then re-run with --resume-unknown (do it again) "
                         "or --skip-unknown (it happened)",
                )
            return unknown

        # -- create (unless a broadcast id is already journaled)
        if not bid:
            if step == "creating":
                # Killed while creating: the provider may hold a broadcast we have no id
                # for. Where creating only makes a draft (two steps), that draft can never
                # go out, so creating another is safe; where creating sends, ask.
                choice = unknown if (steps == 1 or unknown != "stop") else "resume"
                if choice == "stop":
                    unknown_step("creating")
                if choice == "skip":
                    event("sent", reason="--skip-unknown: assumed created and sent")
                    return _complete(j, email, name, audience, "", now)
            event("creating")
            try:
                bid = sender.create_broadcast(prepared, audience)
            except ProviderError as exc:
                if not _unclear(exc):
                    event("failed", reason=exc.message)
                raise
            event("created", bid)
            step = "created"
            if steps == 1:
                event("sent", bid)
                return _complete(j, email, name, audience, bid, now)

        # -- send
        if step == "sending" and unknown_step("sending") == "skip":
            event("sent", bid, reason="--skip-unknown: assumed sent")
            return _complete(j, email, name, audience, bid, now)
        if step != "sent":
            event("sending", bid)
            try:
                sender.send_broadcast(bid)
            except ProviderError as exc:
                if not _unclear(exc):
                    event("failed", bid, reason=exc.message)
                raise
            event("sent", bid)
        return _complete(j, email, name, audience, bid, now)


def _complete(j: Journal, email: Email, provider: str, audience: str, bid: str, now: datetime) -> BroadcastResult:
    # recipients=0: the provider expands the list; feedpub never sees its members.
    j.complete(email.digest_id, date=email.date, newest=email.newest, post_ids=email.post_ids,
               subject=email.subject, provider=provider, recipients=0, at=now,
               extra={"broadcast": bid, "audience": audience})
    return BroadcastResult(provider, audience, bid)
