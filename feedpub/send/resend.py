"""Resend: ``POST /emails/batch``, up to 100 emails, deduplicated by ``Idempotency-Key``.

Auth is ``Authorization: Bearer KEY``. Each recipient is its own email object with its
own ``headers``. Resend keeps an idempotency key for 24 hours and answers a repeated
request with the first answer, so the engine may resend a batch whose fate is unknown.
Answer: 200 ``{"data": [{"id": ...}, ...]}`` in request order.
Docs: https://resend.com/docs/api-reference/emails/send-batch-emails
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

import httpx

from ..config import SendConfig
from ..errors import ProviderError
from ..model import Email
from .base import BatchResult, OutgoingMessage, Sender
from .redact import register_secret
from .http import HttpSender, display_address, base_url, dumps, require_env

DEFAULT_BASE_URL = "https://api.resend.com"
ENV_KEY = "RESEND_API_KEY"
MAX_KEY = 256  # Resend's documented limit for Idempotency-Key


class ResendSender(HttpSender):
    name = "resend"
    batch_size = 100
    idempotent = True
    default_rate = 2.0  # Resend's default limit: 2 requests per second

    def __init__(self, *, key: str, config: SendConfig, base: str, client: httpx.Client | None) -> None:
        super().__init__(config=config, base_url=base, secrets=[key], client=client)
        self._key = key

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    def payload(self, messages: Sequence[OutgoingMessage]) -> list[dict]:
        out = []
        for m in messages:
            item: dict = {
                "from": m.from_addr,
                "to": [display_address(m.to_name, m.to)],
                "subject": m.subject,
                "html": m.html,
                "text": m.text,
            }
            if m.reply_to:
                item["reply_to"] = m.reply_to
            if m.headers:
                item["headers"] = dict(m.headers)
            out.append(item)
        return out

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        if not idempotency_key or len(idempotency_key) > MAX_KEY:
            raise ValueError(f"resend needs an idempotency key of 1-{MAX_KEY} characters")
        try:
            response = self.request(
                "POST", "/emails/batch", content=dumps(self.payload(messages)),
                headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
            )
        except ProviderError as exc:
            # 409 concurrent_idempotent_requests: the first request with this key is still
            # being processed; asking again later is exactly what the key is for.
            if exc.status == 409 and "concurrent" in exc.message:
                raise ProviderError(
                    exc.message.removeprefix(f"{self.name}: "), provider=self.name, status=409, retryable=True,
                ) from None
            raise
        data = self.json_body(response)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != len(messages):
            raise ProviderError(
                f"answered without one id per message ({len(messages)} sent)",
                provider=self.name, status=response.status_code,
                hint="re-running is safe: Resend deduplicates this batch by its idempotency key",
            )
        return BatchResult(tuple(str(i.get("id", "")) for i in items))

    PAGE = 100

    def fetch_suppressions(self) -> set[str]:
        """Resend's suppression list (bounces, complaints, manual), paged by cursor."""
        found: set[str] = set()
        after = ""
        while True:
            params = {"limit": self.PAGE, **({"after": after} if after else {})}
            data = self.json_body(self.request("GET", "/suppressions", params=params))
            items = data.get("data", []) if isinstance(data, dict) else []
            found.update(str(i["email"]).lower() for i in items if isinstance(i, dict) and i.get("email"))
            if not (isinstance(data, dict) and data.get("has_more")) or not items or not items[-1].get("id"):
                return found
            after = str(items[-1]["id"])

    # ---- provider-managed audience (Resend Broadcasts) ---------------------------------
    UNSUBSCRIBE_URL = "{{{RESEND_UNSUBSCRIBE_URL}}}"

    def create_broadcast(self, email: Email, audience: str) -> str:
        """A draft broadcast to the segment (formerly audience) ``audience``; its id."""
        body: dict = {
            "segment_id": audience,
            "name": f"feedpub digest {email.digest_id}",
            "from": email.from_addr,
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
        }
        if email.reply_to:
            body["reply_to"] = [email.reply_to]
        data = self.json_body(self.request(
            "POST", "/broadcasts", content=dumps(body), headers={"Content-Type": "application/json"}))
        return _id(self, data)

    def send_broadcast(self, broadcast_id: str) -> None:
        self.request("POST", f"/broadcasts/{quote(broadcast_id, safe='')}/send", content=b"{}",
                     headers={"Content-Type": "application/json"})

    def broadcast(self, email: Email, audience: str) -> str:
        broadcast_id = self.create_broadcast(email, audience)
        self.send_broadcast(broadcast_id)
        return broadcast_id


def _id(sender: HttpSender, data: object) -> str:
    if not isinstance(data, dict) or not data.get("id"):
        raise ProviderError("created a broadcast but answered without its id", provider=sender.name)
    return str(data["id"])


def create(config: SendConfig, env: Mapping[str, str], client: httpx.Client | None = None) -> Sender:
    key = require_env(env, ENV_KEY, "resend")
    register_secret(key)
    return ResendSender(key=key, config=config, base=base_url(config, env, DEFAULT_BASE_URL), client=client)


# The registry's name for the factory (feedpub.send.registry: "module:factory").
factory = create
