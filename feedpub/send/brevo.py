"""Brevo (ex-Sendinblue): ``POST /v3/smtp/email``, ``api-key`` header, idempotent.

Brevo documents an ``idempotencyKey`` (a UUID, inside the ``headers`` object) that makes
a repeated request a no-op within its time-to-live (30 minutes), so ``idempotent`` is
True: the key is a UUID derived from the engine's batch key, the same on every retry.

Batching: ``messageVersions`` sends up to 1,000 versions in one request, but a version
can only change ``to``, ``subject``, ``htmlContent``, ``textContent``, ``replyTo`` and
``params``, never ``headers``. A per-recipient ``List-Unsubscribe`` (``[send]
unsubscribe_url``) therefore needs one request per recipient (``batch_size`` 1); without
per-recipient headers a batch of up to 1,000 goes as one ``messageVersions`` request.
Answer: 201 ``{"messageId": ...}`` or ``{"messageIds": [...]}``.
Docs: https://developers.brevo.com/reference/sendtransacemail,
https://developers.brevo.com/docs/heterogenous-versions-batch-emails (idempotency)
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import httpx

from ..config import SendConfig
from ..errors import ProviderError, SendError
from ..model import Email
from .base import BatchResult, OutgoingMessage, Sender
from .redact import register_secret
from .http import HttpSender, base_url, dumps, require_env, split_address

DEFAULT_BASE_URL = "https://api.brevo.com"
ENV_KEY = "BREVO_API_KEY"
_KEY_NAMESPACE = uuid.UUID("6f1c1f0e-1b7e-4d52-9a5e-0f6a2b1c9d11")


def _custom_headers(m: OutgoingMessage) -> dict[str, str]:
    """Brevo takes custom headers only; it writes its own Message-ID."""
    return {k: v for k, v in m.headers.items() if k.lower() != "message-id"}


def _contact(address: str, name: str = "") -> dict[str, str]:
    return {"email": address, "name": name} if name else {"email": address}


class BrevoSender(HttpSender):
    name = "brevo"
    idempotent = True
    default_rate = 10.0

    def __init__(self, *, key: str, batch_size: int, config: SendConfig, base: str, client: httpx.Client | None) -> None:
        super().__init__(config=config, base_url=base, secrets=[key], client=client)
        self._key = key
        self.batch_size = batch_size

    def _auth_headers(self) -> dict[str, str]:
        return {"api-key": self._key}

    @staticmethod
    def idempotency_uuid(idempotency_key: str) -> str:
        """Brevo wants a UUID; the same batch key always gives the same one."""
        return str(uuid.uuid5(_KEY_NAMESPACE, idempotency_key))

    def payload(self, messages: Sequence[OutgoingMessage], idempotency_key: str) -> dict:
        first = messages[0]
        if any(_custom_headers(m) != _custom_headers(first) or m.from_addr != first.from_addr for m in messages[1:]):
            raise ProviderError(
                "messages of one Brevo request must share sender and headers "
                "(messageVersions cannot carry per-recipient headers)",
                provider=self.name, hint="this is a feedpub bug: the batch should have held one message",
            )
        sender_name, sender_email = split_address(first.from_addr)
        body: dict = {
            "sender": _contact(sender_email, sender_name),
            "subject": first.subject,
            "htmlContent": first.html,
            "headers": {**_custom_headers(first), "idempotencyKey": self.idempotency_uuid(idempotency_key)},
        }
        if first.text:
            body["textContent"] = first.text
        if first.reply_to:
            body["replyTo"] = _contact(split_address(first.reply_to)[1])
        if len(messages) == 1:
            body["to"] = [_contact(first.to, first.to_name)]
        else:
            versions = []
            for m in messages:
                v: dict = {"to": [_contact(m.to, m.to_name)]}
                if m.subject != first.subject:
                    v["subject"] = m.subject
                if m.html != first.html:
                    v["htmlContent"] = m.html
                if m.text != first.text:
                    v["textContent"] = m.text
                if m.reply_to != first.reply_to and m.reply_to:
                    v["replyTo"] = _contact(split_address(m.reply_to)[1])
                versions.append(v)
            body["messageVersions"] = versions
        return body

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        response = self.request(
            "POST", "/v3/smtp/email", content=dumps(self.payload(messages, idempotency_key)),
            headers={"Content-Type": "application/json"},
        )
        data = self.json_body(response)
        if not isinstance(data, dict):
            data = {}
        if "messageIds" in data and isinstance(data["messageIds"], list):
            return BatchResult(tuple(str(i) for i in data["messageIds"]))
        return BatchResult((str(data.get("messageId", "")),))

    PAGE = 100  # blockedContacts' maximum limit

    def fetch_suppressions(self) -> set[str]:
        """Transactional blocked contacts (unsubscribed, hard bounces, spam complaints, admin blocks)."""
        found: set[str] = set()
        offset = 0
        while True:
            data = self.json_body(self.request(
                "GET", "/v3/smtp/blockedContacts", params={"limit": self.PAGE, "offset": offset}))
            items = data.get("contacts", []) if isinstance(data, dict) else []
            found.update(str(i["email"]).lower() for i in items if isinstance(i, dict) and i.get("email"))
            offset += len(items)
            total = data.get("count") if isinstance(data, dict) else None
            if not items or len(items) < self.PAGE or (isinstance(total, int) and offset >= total):
                return found

    # ---- provider-managed audience (Brevo email campaigns) -----------------------------
    UNSUBSCRIBE_URL = "{{ unsubscribe }}"

    def create_broadcast(self, email: Email, audience: str) -> str:
        """An email campaign to the contact lists ``audience`` ("7" or "7,12"); its id."""
        try:
            list_ids = [int(part) for part in audience.replace(" ", "").split(",") if part]
        except ValueError:
            list_ids = []
        if not list_ids:
            raise SendError(f"a Brevo audience is one or more contact list ids, e.g. \"7\" or \"7,12\", not {audience!r}")
        sender_name, sender_email = split_address(email.from_addr)
        body: dict = {
            "name": f"feedpub digest {email.digest_id}",
            "subject": email.subject,
            "sender": _contact(sender_email, sender_name),
            "htmlContent": email.html,
            "recipients": {"listIds": list_ids},
        }
        if email.reply_to:
            body["replyTo"] = split_address(email.reply_to)[1]
        data = self.json_body(self.request(
            "POST", "/v3/emailCampaigns", content=dumps(body), headers={"Content-Type": "application/json"}))
        if not isinstance(data, dict) or "id" not in data:
            raise ProviderError("created a campaign but answered without its id", provider=self.name)
        return str(data["id"])

    def send_broadcast(self, broadcast_id: str) -> None:
        self.request("POST", f"/v3/emailCampaigns/{int(broadcast_id)}/sendNow")

    def broadcast(self, email: Email, audience: str) -> str:
        broadcast_id = self.create_broadcast(email, audience)
        self.send_broadcast(broadcast_id)
        return broadcast_id


def create(config: SendConfig, env: Mapping[str, str], client: httpx.Client | None = None) -> Sender:
    key = require_env(env, ENV_KEY, "brevo")
    register_secret(key)
    batch_size = 1 if config.unsubscribe_url else 1000
    return BrevoSender(
        key=key, batch_size=batch_size, config=config,
        base=base_url(config, env, DEFAULT_BASE_URL), client=client,
    )


# The registry's name for the factory (feedpub.send.registry: "module:factory").
factory = create
