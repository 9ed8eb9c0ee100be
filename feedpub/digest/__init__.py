"""The newsletter digest: choose the posts, render the email, build the MIME message.

    select(site, now=..., since=/last=/last_sent=) -> Digest | None      (select.py)
    render_digest(digest, renderer.render, config, now) -> Email          (render.py)
    to_mime(email, to=..., unsubscribe_url=...) -> EmailMessage          (mime.py)
    write_web_copies(site, render, config, out_dir, sent) -> [Output]    (archive.py)

Unsubscribe placeholder (for the sender)
----------------------------------------
When ``[send] unsubscribe_url`` is configured, the rendered ``Email`` carries the literal
token ``%%UNSUBSCRIBE_URL%%`` (``UNSUBSCRIBE_PLACEHOLDER``) wherever the recipient's own
unsubscribe URL belongs: the footer link's ``href`` in ``Email.html``, the
"Unsubscribe:" line of ``Email.text``, and ``Email.headers["List-Unsubscribe"]``. The
sender fills it per recipient with ``fill_unsubscribe(email, url)`` (or passes
``unsubscribe_url=`` to ``to_mime``, which does the same); the URL is HTML-escaped in
the HTML part and used verbatim elsewhere. ``List-Unsubscribe-Post: List-Unsubscribe=
One-Click`` is set only for an https URL (RFC 8058). With only ``unsubscribe_mailto``
the link is a fixed ``mailto:`` and there is nothing to fill. A Jinja-style
``{{unsubscribe_url}}`` token was avoided on purpose: a user's template (or a post
showing Jinja code) could contain it; ``%%…%%`` survives autoescaping and CSS inlining
unchanged and cannot come from Markdown.
"""
from __future__ import annotations

import dataclasses
import html as _html

from ..model import Email

UNSUBSCRIBE_PLACEHOLDER = "%%UNSUBSCRIBE_URL%%"


def fill_unsubscribe(email: Email, url: str) -> Email:
    """A copy of ``email`` with the unsubscribe placeholder replaced by ``url``."""
    if "\r" in url or "\n" in url:
        raise ValueError("an unsubscribe URL cannot contain line breaks")
    return dataclasses.replace(
        email,
        html=email.html.replace(UNSUBSCRIBE_PLACEHOLDER, _html.escape(url, quote=True)),
        text=email.text.replace(UNSUBSCRIBE_PLACEHOLDER, url),
        headers={k: v.replace(UNSUBSCRIBE_PLACEHOLDER, url) for k, v in email.headers.items()},
    )


from .archive import write_web_copies  # noqa: E402  (these import UNSUBSCRIBE_PLACEHOLDER)
from .mime import message_id, to_mime  # noqa: E402
from .render import render_digest, size_warning  # noqa: E402
from .select import Digest, digest_id, parse_since, select  # noqa: E402

__all__ = [
    "UNSUBSCRIBE_PLACEHOLDER",
    "Digest",
    "digest_id",
    "fill_unsubscribe",
    "message_id",
    "parse_since",
    "render_digest",
    "select",
    "size_warning",
    "to_mime",
    "write_web_copies",
]
