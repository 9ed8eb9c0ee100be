"""Address the digest to one recipient: an ``Email`` + a ``Recipient`` -> ``OutgoingMessage``.

Each recipient gets their own copy (never one message with everyone in ``To``): their
unsubscribe URL filled into the digest's placeholder (HTML-escaped in the HTML part),
their own ``List-Unsubscribe`` headers, and a ``Message-ID`` that is the same every time
this digest is addressed to them, so a resent copy is recognisably the same message.
"""
from __future__ import annotations

import hashlib
import html as _html
from email.message import EmailMessage
from email.utils import formataddr

from ..digest import UNSUBSCRIBE_PLACEHOLDER
from ..digest.mime import message_id as _mime_message_id
from ..digest.mime import to_mime
from ..model import Email
from .base import OutgoingMessage
from .recipients import Recipient
from .unsubscribe import Unsubscribe

_UNSUBSCRIBE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def recipient_hash(key: str) -> str:
    """The short, stable id of a recipient (lower-cased address) used in the journal."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def message_id(email: Email, recipient: Recipient) -> str:
    """``<digest id>.<recipient hash>@<sender's domain>`` without angle brackets: the
    same id the digest's MIME builder gives, so every path names a copy the same way."""
    return _mime_message_id(email.digest_id, recipient.email, email.from_addr).strip("<>")


def build_message(email: Email, recipient: Recipient, unsubscribe: Unsubscribe | None = None) -> OutgoingMessage:
    unsub = unsubscribe or Unsubscribe()
    link = unsub.link(recipient.email)
    if "\r" in link or "\n" in link:  # a template can only produce this through a bad config
        raise ValueError("an unsubscribe URL cannot contain line breaks")
    html = email.html
    text = email.text
    if UNSUBSCRIBE_PLACEHOLDER in html:
        html = html.replace(UNSUBSCRIBE_PLACEHOLDER, _html.escape(link, quote=True))
    if UNSUBSCRIBE_PLACEHOLDER in text:
        text = text.replace(UNSUBSCRIBE_PLACEHOLDER, link)
    headers = {k: v for k, v in email.headers.items() if k not in _UNSUBSCRIBE_HEADERS}
    headers["X-Feedpub-Digest"] = email.digest_id
    headers.update(unsub.headers(recipient.email))
    return OutgoingMessage(
        to=recipient.email,
        to_name=recipient.name,
        from_addr=email.from_addr,
        subject=email.subject,
        html=html,
        text=text,
        reply_to=email.reply_to,
        headers=headers,
        message_id=message_id(email, recipient),
        digest_id=email.digest_id,
        date=email.date,
    )


def to_email_message(message: OutgoingMessage) -> EmailMessage:
    """The MIME message of one copy (outbox, SMTP), built by the digest's MIME builder so
    ``digest.eml`` and every sent copy share one structure and one Message-ID scheme."""
    if message.date is None:
        raise ValueError("an OutgoingMessage for MIME needs its digest's date")
    email = Email(
        digest_id=message.digest_id,
        subject=message.subject,
        html=message.html,
        text=message.text,
        from_addr=message.from_addr,
        date=message.date,
        post_ids=(),
        newest=message.date,
        reply_to=message.reply_to,
        headers=dict(message.headers),
    )
    to = formataddr((message.to_name, message.to)) if message.to_name else message.to
    msg = to_mime(email, to=to)
    # A boundary from the message id, not random: the same copy is the same bytes.
    seed = message.message_id or f"{message.digest_id}:{message.to.lower()}"
    msg.set_boundary("=_fp_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:28])
    return msg
