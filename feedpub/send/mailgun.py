"""Mailgun: ``POST /v3/{domain}/messages``, multipart form, up to 1,000 recipients.

Auth is HTTP basic ``api:KEY``. One request names every recipient in repeated ``to``
fields and gives ``recipient-variables`` (JSON, keyed by address): with them Mailgun
sends each recipient a separate copy and replaces ``%recipient.KEY%`` in the subject,
body and ``h:`` header values. The per-recipient parts of the rendered messages become
those variables (see ``merge``). Hosts: ``https://api.mailgun.net`` (US, default) or
``https://api.eu.mailgun.net`` (``[send] region = "eu"``). Answer: 200
``{"id": "<...>", "message": "Queued. Thank you."}``.
Docs: https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Messages/
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from ..config import SendConfig
from ..errors import ProviderError, SendError
from ..model import Email
from .base import BatchResult, OutgoingMessage, Sender
from .redact import register_secret
from .http import HttpSender, display_address, base_url, require_env
from .merge import merge

HOSTS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
ENV_KEY = "MAILGUN_API_KEY"


def variable(key: str) -> str:
    return f"%recipient.{key}%"


class MailgunSender(HttpSender):
    name = "mailgun"
    batch_size = 1000
    idempotent = False
    default_rate = 10.0

    def __init__(self, *, key: str, domain: str, config: SendConfig, base: str, client: httpx.Client | None) -> None:
        super().__init__(config=config, base_url=base, secrets=[key], client=client)
        self._key = key
        self.domain = domain

    def _auth(self) -> httpx.Auth:
        return httpx.BasicAuth("api", self._key)

    def fields(self, messages: Sequence[OutgoingMessage]) -> list[tuple[str, str]]:
        """The form fields, in order (``to`` repeats)."""
        merged = merge(messages, variable)
        if merged is None:
            raise ProviderError(
                "the messages of this batch differ in more than per-recipient values; "
                "Mailgun can only send one body per request",
                provider=self.name,
                hint="keep per-recipient text to the address, the name and the unsubscribe URL",
            )
        first = messages[0]
        fields: list[tuple[str, str]] = [("from", first.from_addr)]
        fields += [("to", display_address(m.to_name, m.to)) for m in messages]
        fields.append(("subject", merged.subject))
        if merged.text:
            fields.append(("text", merged.text))
        if merged.html:
            fields.append(("html", merged.html))
        if first.reply_to:
            fields.append(("h:Reply-To", first.reply_to))
        fields += [(f"h:{name}", value) for name, value in merged.headers.items()]
        # Always present, even for one recipient: without it Mailgun would show every
        # address in To; with it each recipient gets their own copy.
        variables = {m.to: dict(v) for m, v in zip(messages, merged.variables)}
        fields.append(("recipient-variables", json.dumps(variables, ensure_ascii=False, separators=(",", ":"))))
        return fields

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        # (None, value) parts are plain form fields: httpx then sends multipart/form-data.
        files = [(name, (None, value)) for name, value in self.fields(messages)]
        response = self.request("POST", f"/v3/{self.domain}/messages", files=files)
        data = self.json_body(response)
        return BatchResult((str(data.get("id", "")) if isinstance(data, dict) else "",))

    SUPPRESSION_KINDS = ("unsubscribes", "bounces", "complaints")
    PAGE = 1000

    def fetch_suppressions(self) -> set[str]:
        found: set[str] = set()
        for kind in self.SUPPRESSION_KINDS:
            url = f"/v3/{self.domain}/{kind}?limit={self.PAGE}"
            seen: set[str] = set()
            while url and url not in seen:
                seen.add(url)
                data = self.json_body(self.request("GET", url))
                items = data.get("items", []) if isinstance(data, dict) else []
                if not items:
                    break
                found.update(str(i["address"]).lower() for i in items if isinstance(i, dict) and i.get("address"))
                nxt = (data.get("paging") or {}).get("next", "")
                # Mailgun's paging URLs name its public host; keep our base URL (EU, proxy, tests).
                parts = urlsplit(nxt)
                url = f"{parts.path}?{parts.query}" if parts.path else ""
        return found

    # ---- provider-managed audience (Mailgun mailing lists) -----------------------------
    UNSUBSCRIBE_URL = "%unsubscribe_url%"
    broadcast_steps = 1  # one request both creates and sends: nothing to resume in between

    def create_broadcast(self, email: Email, audience: str) -> str:
        """Send to the mailing list ``audience`` (its address); Mailgun expands it."""
        if "@" not in audience:
            raise SendError(f"a Mailgun audience is a mailing list address (list@{self.domain}), not {audience!r}")
        fields = [("from", email.from_addr), ("to", audience), ("subject", email.subject)]
        if email.text:
            fields.append(("text", email.text))
        if email.html:
            fields.append(("html", email.html))
        if email.reply_to:
            fields.append(("h:Reply-To", email.reply_to))
        response = self.request("POST", f"/v3/{self.domain}/messages", files=[(k, (None, v)) for k, v in fields])
        data = self.json_body(response)
        return str(data.get("id", "")) if isinstance(data, dict) else ""

    def send_broadcast(self, broadcast_id: str) -> None:
        return None  # create_broadcast already sent it

    def broadcast(self, email: Email, audience: str) -> str:
        return self.create_broadcast(email, audience)


def create(config: SendConfig, env: Mapping[str, str], client: httpx.Client | None = None) -> Sender:
    key = require_env(env, ENV_KEY, "mailgun")
    register_secret(key)
    if not config.domain:
        raise SendError("mailgun needs [send] domain", hint='set [send] domain = "mg.example.com" (your Mailgun sending domain)')
    region = (config.region or "us").lower()
    if region not in HOSTS:
        raise SendError(f"[send] region for mailgun must be 'us' or 'eu', not {config.region!r}")
    return MailgunSender(
        key=key, domain=config.domain, config=config,
        base=base_url(config, env, HOSTS[region]), client=client,
    )


# The registry's name for the factory (feedpub.send.registry: "module:factory").
factory = create
