"""Postmark: ``POST /email/batch``, up to 500 messages, one JSON object per recipient.

Auth is the ``X-Postmark-Server-Token`` header. Every message names its message stream
(``[send] message_stream``, default ``broadcast``: newsletters must not go through the
transactional ``outbound`` stream). The answer is 200 with one result per message in
order; a message Postmark refused carries a non-zero ``ErrorCode`` (406: inactive
recipient, 300: invalid address) and is reported in ``BatchResult.rejected``.
Docs: https://postmarkapp.com/developer/api/email-api#send-batch-emails
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

import httpx

from ..config import SendConfig
from ..errors import ProviderError
from .base import BatchResult, OutgoingMessage, Sender
from .redact import register_secret
from .http import HttpSender, display_address, base_url, dumps, require_env

DEFAULT_BASE_URL = "https://api.postmarkapp.com"
ENV_KEY = "POSTMARK_SERVER_TOKEN"


class PostmarkSender(HttpSender):
    name = "postmark"
    batch_size = 500
    idempotent = False
    default_rate = 10.0

    def __init__(self, *, token: str, stream: str, config: SendConfig, base: str, client: httpx.Client | None) -> None:
        super().__init__(config=config, base_url=base, secrets=[token], client=client)
        self._token = token
        self.message_stream = stream

    def _auth_headers(self) -> dict[str, str]:
        return {"X-Postmark-Server-Token": self._token}

    def payload(self, messages: Sequence[OutgoingMessage]) -> list[dict]:
        out = []
        for m in messages:
            item = {
                "From": m.from_addr,
                "To": display_address(m.to_name, m.to),
                "Subject": m.subject,
                "HtmlBody": m.html,
                "TextBody": m.text,
                "MessageStream": self.message_stream,
            }
            if m.reply_to:
                item["ReplyTo"] = m.reply_to
            if m.headers:
                item["Headers"] = [{"Name": k, "Value": v} for k, v in m.headers.items()]
            out.append(item)
        return out

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        response = self.request(
            "POST", "/email/batch", content=dumps(self.payload(messages)),
            headers={"Content-Type": "application/json"},
        )
        results = self.json_body(response)
        if not isinstance(results, list) or len(results) != len(messages):
            raise ProviderError(
                f"answered with {len(results) if isinstance(results, list) else 'no'} results for "
                f"{len(messages)} messages; some may have been sent",
                provider=self.name, status=response.status_code,
                hint="check Postmark's activity log before re-running",
            )
        ids: list[str] = []
        rejected: dict[str, str] = {}
        for m, r in zip(messages, results):
            if r.get("ErrorCode", 0) == 0:
                ids.append(str(r.get("MessageID", "")))
            else:
                ids.append("")
                rejected[m.to] = f"Postmark error {r.get('ErrorCode')}: {r.get('Message', '')}".strip()
        if len(messages) > 1 and len(rejected) == len(messages) and len(set(rejected.values())) == 1 and "406" not in next(iter(rejected.values())):
            # Every message refused for the same reason: a problem with the request, not a recipient.
            raise ProviderError(next(iter(rejected.values())), provider=self.name, status=response.status_code)
        return BatchResult(tuple(ids), rejected)

    def fetch_suppressions(self) -> set[str]:
        """The message stream's suppressions (unsubscribes, hard bounces, spam complaints)."""
        path = f"/message-streams/{quote(self.message_stream, safe='')}/suppressions/dump"
        data = self.json_body(self.request("GET", path))
        items = data.get("Suppressions", []) if isinstance(data, dict) else []
        return {str(i["EmailAddress"]).lower() for i in items if isinstance(i, dict) and i.get("EmailAddress")}


def create(config: SendConfig, env: Mapping[str, str], client: httpx.Client | None = None) -> Sender:
    token = require_env(env, ENV_KEY, "postmark")
    register_secret(token)
    return PostmarkSender(
        token=token, stream=config.message_stream or "broadcast", config=config,
        base=base_url(config, env, DEFAULT_BASE_URL), client=client,
    )


# The registry's name for the factory (feedpub.send.registry: "module:factory").
factory = create
