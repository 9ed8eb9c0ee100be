"""Per-recipient unsubscribe links and the List-Unsubscribe headers (RFC 2369, RFC 8058).

``[send] unsubscribe_url`` is a template: ``{email}`` becomes the URL-encoded address and
``{token}`` an HMAC-SHA256 (hex) of the lower-cased address keyed with
``FEEDPUB_UNSUBSCRIBE_SECRET``, so the unsubscribe endpoint can check that a request
came from the link we sent (``verify_token``) without a database of tokens.
``[send] unsubscribe_mailto`` adds a ``mailto:`` alternative. One-click
(``List-Unsubscribe-Post``) is only announced with an https URL, as RFC 8058 requires.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ..config import SendConfig
from ..errors import CredentialsError, SendError
from . import redact

SECRET_VAR = "FEEDPUB_UNSUBSCRIBE_SECRET"


def make_token(email: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def verify_token(email: str, token: str, secret: str) -> bool:
    """For your unsubscribe endpoint: is ``token`` the one we put in ``email``'s link?"""
    return hmac.compare_digest(make_token(email, secret), token.strip().lower())


@dataclass(frozen=True)
class Unsubscribe:
    url_template: str = ""
    mailto: str = ""           # bare address, without "mailto:"
    secret: str = ""

    @classmethod
    def from_config(cls, config: SendConfig, env: Mapping[str, str]) -> "Unsubscribe":
        template = config.unsubscribe_url.strip()
        secret = ""
        if "{token}" in template:
            secret = env.get(SECRET_VAR, "")
            if not secret:
                raise CredentialsError(
                    f"[send] unsubscribe_url uses {{token}} but the environment variable {SECRET_VAR} is not set",
                    hint=f"export {SECRET_VAR}=<a long random string> (the same one your unsubscribe endpoint checks), or drop {{token}} from the template",
                )
            redact.register_secret(secret)
        if template and not template.lower().startswith(("https://", "http://")):
            raise SendError(
                f"[send] unsubscribe_url must be an http(s) URL, got '{template}'",
                hint="e.g. https://example.com/unsubscribe?email={email}&token={token}",
            )
        mailto = config.unsubscribe_mailto.strip()
        if mailto.lower().startswith("mailto:"):
            mailto = mailto[len("mailto:"):]
        return cls(template, mailto, secret)

    @property
    def enabled(self) -> bool:
        return bool(self.url_template or self.mailto)

    def url(self, email: str) -> str:
        """The recipient's unsubscribe URL ("" when no template is configured)."""
        if not self.url_template:
            return ""
        url = self.url_template.replace("{email}", quote(email, safe=""))
        if "{token}" in url:
            url = url.replace("{token}", make_token(email, self.secret))
        return url

    def mailto_url(self, email: str) -> str:
        if not self.mailto:
            return ""
        return f"mailto:{self.mailto}?subject={quote('unsubscribe ' + email, safe='@')}"

    def link(self, email: str) -> str:
        """What the "Unsubscribe" link in the body points at: the URL, else the mailto."""
        return self.url(email) or self.mailto_url(email)

    def headers(self, email: str) -> dict[str, str]:
        """``List-Unsubscribe`` (+ ``List-Unsubscribe-Post`` for an https URL) for one recipient."""
        url = self.url(email)
        mailto = self.mailto_url(email)
        values = [f"<{u}>" for u in (url, mailto) if u]
        if not values:
            return {}
        headers = {"List-Unsubscribe": ", ".join(values)}
        if url.lower().startswith("https://"):
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return headers
