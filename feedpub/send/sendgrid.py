"""SendGrid v3: ``POST /v3/mail/send``, one personalization per recipient, up to 1,000.

Auth is ``Authorization: Bearer KEY``. SendGrid sends one body to every personalization,
so the per-recipient parts of the rendered messages (the unsubscribe URL in the body,
the address) become ``substitutions`` (see ``merge``), and each personalization carries
its own ``headers`` (``List-Unsubscribe``). The answer is 202 with no body; the
``X-Message-Id`` header is the one id for the whole request.
Docs: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from urllib.parse import quote

import httpx

from ..config import SendConfig
from ..errors import ProviderError, SendError
from ..model import Email
from .base import BatchResult, OutgoingMessage, Sender
from .redact import register_secret
from .http import HttpSender, base_url, dumps, require_env, split_address
from .merge import merge

DEFAULT_BASE_URL = "https://api.sendgrid.com"
ENV_KEY = "SENDGRID_API_KEY"


def tag(key: str) -> str:
    return f"%feedpub_{key}%"


class SendGridSender(HttpSender):
    name = "sendgrid"
    batch_size = 1000
    idempotent = False
    default_rate = 10.0

    def __init__(self, *, key: str, config: SendConfig, base: str, client: httpx.Client | None) -> None:
        super().__init__(config=config, base_url=base, secrets=[key], client=client)
        self._key = key

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    def payload(self, messages: Sequence[OutgoingMessage]) -> dict:
        merged = merge(messages, tag)
        if merged is None:
            raise ProviderError(
                "the messages of this batch differ in more than per-recipient values; "
                "SendGrid can only send one body per request",
                provider=self.name,
                hint="keep per-recipient text to the address, the name and the unsubscribe URL",
            )
        personalizations = []
        for m, variables in zip(messages, merged.variables):
            p: dict = {"to": [{"email": m.to, "name": m.to_name} if m.to_name else {"email": m.to}]}
            if m.headers:
                p["headers"] = dict(m.headers)
            if variables:
                p["substitutions"] = {tag(k): v for k, v in variables.items()}
            personalizations.append(p)
        from_name, from_email = split_address(messages[0].from_addr)
        body: dict = {
            "personalizations": personalizations,
            "from": {"email": from_email, "name": from_name} if from_name else {"email": from_email},
            "subject": merged.subject,
            "content": [c for c in (
                {"type": "text/plain", "value": merged.text},
                {"type": "text/html", "value": merged.html},
            ) if c["value"]],  # text/plain must come first; empty values are refused
        }
        if messages[0].reply_to:
            body["reply_to"] = {"email": split_address(messages[0].reply_to)[1]}
        return body

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        response = self.request(
            "POST", "/v3/mail/send", content=dumps(self.payload(messages)),
            headers={"Content-Type": "application/json"},
        )
        return BatchResult((response.headers.get("X-Message-Id", ""),))

    SUPPRESSION_KINDS = ("unsubscribes", "bounces", "spam_reports")  # global unsubscribes, bounces, spam reports
    PAGE = 500  # the largest page SendGrid's suppression endpoints return

    def fetch_suppressions(self) -> set[str]:
        found: set[str] = set()
        for kind in self.SUPPRESSION_KINDS:
            offset = 0
            while True:
                page = self.json_body(self.request(
                    "GET", f"/v3/suppression/{kind}", params={"limit": self.PAGE, "offset": offset}))
                if not isinstance(page, list):
                    break
                found.update(str(i["email"]).lower() for i in page if isinstance(i, dict) and i.get("email"))
                if len(page) < self.PAGE:
                    break
                offset += len(page)
        return found

    # ---- provider-managed audience (SendGrid Marketing single sends) -------------------
    UNSUBSCRIBE_URL = "{{{unsubscribe}}}"

    @staticmethod
    def parse_audience(audience: str) -> dict[str, str]:
        """``"list=<list id>, sender=<sender id>, group=<unsubscribe group id>"``."""
        parts = dict(p.strip().split("=", 1) for p in audience.replace(";", ",").split(",") if "=" in p)
        parts = {k.strip(): v.strip() for k, v in parts.items()}
        missing = [k for k in ("list", "sender", "group") if not parts.get(k)]
        if missing or not parts["sender"].isdigit() or not parts["group"].isdigit():
            raise SendError(
                f"a SendGrid audience names a contact list, a verified sender and an unsubscribe group: "
                f"\"list=<list id>, sender=<sender id>, group=<group id>\" (missing or not numeric: {', '.join(missing) or 'sender/group'})",
                hint="SendGrid single sends need all three; find them under Marketing > Contacts, Senders and Unsubscribe Groups",
            )
        return parts

    def create_broadcast(self, email: Email, audience: str) -> str:
        parts = self.parse_audience(audience)
        body = {
            "name": f"feedpub digest {email.digest_id}",
            "send_to": {"list_ids": [parts["list"]]},
            "email_config": {
                "subject": email.subject,
                "html_content": email.html,
                "plain_content": email.text,
                "generate_plain_content": False,
                "sender_id": int(parts["sender"]),
                "suppression_group_id": int(parts["group"]),
            },
        }
        data = self.json_body(self.request(
            "POST", "/v3/marketing/singlesends", content=dumps(body), headers={"Content-Type": "application/json"}))
        if not isinstance(data, dict) or not data.get("id"):
            raise ProviderError("created a single send but answered without its id", provider=self.name)
        return str(data["id"])

    def send_broadcast(self, broadcast_id: str) -> None:
        self.request("PUT", f"/v3/marketing/singlesends/{quote(broadcast_id, safe='')}/schedule",
                     content=dumps({"send_at": "now"}), headers={"Content-Type": "application/json"})

    def broadcast(self, email: Email, audience: str) -> str:
        broadcast_id = self.create_broadcast(email, audience)
        self.send_broadcast(broadcast_id)
        return broadcast_id


def create(config: SendConfig, env: Mapping[str, str], client: httpx.Client | None = None) -> Sender:
    key = require_env(env, ENV_KEY, "sendgrid")
    register_secret(key)
    return SendGridSender(key=key, config=config, base=base_url(config, env, DEFAULT_BASE_URL), client=client)


# The registry's name for the factory (feedpub.send.registry: "module:factory").
factory = create
