"""The digest as a complete MIME message (what ``digest.eml`` holds and SMTP/outbox send).

multipart/alternative, text first then HTML (clients show the last part they can),
both UTF-8 quoted-printable so no line passes SMTP's 998-octet limit. The Message-ID
comes from the digest id and the recipient, so a retried send of the same digest to
the same person carries the same id (receivers and threads deduplicate on it).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from ..errors import DigestError
from ..model import Email
from . import UNSUBSCRIBE_PLACEHOLDER, fill_unsubscribe

UNDISCLOSED = "undisclosed-recipients:;"
# Fold headers only past SMTP's 998-octet line limit: the default (78) turns a long
# List-Unsubscribe URL into an RFC 2047 encoded-word, which mailbox providers ignore.
POLICY = policy.default.clone(max_line_length=998)


def to_mime(
    email: Email,
    *,
    to: str = "",
    extra_headers: Mapping[str, str] = {},  # noqa: B006 - read only
    unsubscribe_url: str = "",
) -> EmailMessage:
    """The MIME message of ``email`` addressed to ``to`` (default: undisclosed recipients).

    ``unsubscribe_url`` fills the unsubscribe placeholder (see ``feedpub.digest``);
    ``extra_headers`` are added last and replace headers of the same name.
    """
    if not email.from_addr:
        raise DigestError("the digest has no sender", hint="set [send] from, e.g. from = \"Blog <news@example.com>\"")
    if unsubscribe_url:
        email = fill_unsubscribe(email, unsubscribe_url)
    msg = EmailMessage(policy=POLICY)
    try:
        msg["From"] = email.from_addr
        msg["To"] = to or UNDISCLOSED
        if email.reply_to:
            msg["Reply-To"] = email.reply_to
        msg["Subject"] = email.subject
        msg["Date"] = format_datetime(email.date)
        msg["Message-ID"] = message_id(email.digest_id, to or UNDISCLOSED, email.from_addr)
        msg["X-Feedpub-Digest"] = email.digest_id
        headers = {**email.headers, **extra_headers}
        for name, value in headers.items():
            if UNSUBSCRIBE_PLACEHOLDER in value:
                continue  # never send an unfilled per-recipient header
            del msg[name]
            msg[name] = value
    except (ValueError, TypeError) as exc:
        raise DigestError(f"invalid email header: {exc}", hint="check [send] from, reply_to and to") from None
    msg.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def message_id(digest_id: str, recipient: str, from_addr: str) -> str:
    """``<digest-id.recipient-hash@sender-domain>``: stable per digest and recipient."""
    address = parseaddr(recipient)[1] or recipient
    who = hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:16]
    domain = _domain(from_addr)
    return f"<{digest_id}.{who}@{domain}>"


def _domain(from_addr: str) -> str:
    try:
        address = Address(addr_spec=parseaddr(from_addr)[1])
        return address.domain or "feedpub.invalid"
    except (ValueError, IndexError):
        return "feedpub.invalid"
