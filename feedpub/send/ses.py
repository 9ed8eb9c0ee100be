"""Amazon SES v2: ``SendEmail`` (``POST /v2/email/outbound-emails``), SigV4-signed.

One recipient per request (``batch_size`` 1): SendEmail can address 50 recipients, but
they would share one message, and every reader needs their own ``List-Unsubscribe``.
``Simple`` content keeps SES building the MIME and carries per-message ``Headers`` (up
to 15), so no raw MIME is needed. Credentials: ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, optional ``AWS_SESSION_TOKEN``; region from ``[send] region``,
``AWS_REGION`` or ``AWS_DEFAULT_REGION``. Answer: 200 ``{"MessageId": ...}``.
Docs: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import formataddr

import httpx

from ..config import SendConfig
from ..errors import CredentialsError
from .base import BatchResult, OutgoingMessage, Sender
from .redact import register_secret
from .http import HttpSender, base_url, dumps, require_env, split_address
from .sigv4 import AwsCredentials, sign

SERVICE = "ses"  # SES v2's signing name (botocore: sesv2 metadata signingName)
MAX_HEADERS = 15


def _wall_clock() -> datetime:
    # The one clock in the send path: a signature must carry the real time of sending,
    # so this cannot be the digest's `now`. Tests replace `SesSender.clock`.
    return datetime.now(timezone.utc)


def _address(value: str) -> str:
    name, addr = split_address(value)
    return formataddr((name, addr)) if name else addr


class SesSender(HttpSender):
    name = "ses"
    batch_size = 1
    idempotent = False
    default_rate = 14.0  # SES's usual production sending quota: 14 messages per second

    def __init__(self, *, credentials: AwsCredentials, region: str, config: SendConfig, base: str, client: httpx.Client | None) -> None:
        super().__init__(
            config=config, base_url=base, client=client,
            secrets=[credentials.secret_key, credentials.session_token, credentials.access_key],
        )
        self._credentials = credentials
        self.region = region
        self.clock: Callable[[], datetime] = _wall_clock

    def _sign(self, request: httpx.Request) -> httpx.Request:
        body = request.read()
        to_sign = {"host": request.url.netloc.decode("ascii")}
        if "content-type" in request.headers:
            to_sign["content-type"] = request.headers["content-type"]
        added = sign(
            request.method, str(request.url), to_sign, body,
            credentials=self._credentials, region=self.region, service=SERVICE, when=self.clock(),
        )
        request.headers.update(added)
        return request

    def params(self, m: OutgoingMessage) -> dict:
        """The SendEmail input, as botocore's sesv2 model names it (and as the JSON body)."""
        simple: dict = {
            "Subject": {"Data": m.subject, "Charset": "UTF-8"},
            "Body": {},
        }
        if m.text:
            simple["Body"]["Text"] = {"Data": m.text, "Charset": "UTF-8"}
        if m.html:
            simple["Body"]["Html"] = {"Data": m.html, "Charset": "UTF-8"}
        if m.headers:
            if len(m.headers) > MAX_HEADERS:
                raise ValueError(f"SES takes at most {MAX_HEADERS} headers per message")
            simple["Headers"] = [{"Name": k, "Value": v} for k, v in m.headers.items()]
        params: dict = {
            "FromEmailAddress": _address(m.from_addr),
            "Destination": {"ToAddresses": [formataddr((m.to_name, m.to)) if m.to_name else m.to]},
            "Content": {"Simple": simple},
        }
        if m.reply_to:
            params["ReplyToAddresses"] = [_address(m.reply_to)]
        return params

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        if len(messages) != 1:
            raise ValueError("ses sends one message per request (batch_size 1)")
        response = self.request(
            "POST", "/v2/email/outbound-emails", content=dumps(self.params(messages[0])),
            headers={"Content-Type": "application/json"},
        )
        data = self.json_body(response)
        return BatchResult((str(data.get("MessageId", "")) if isinstance(data, dict) else "",))

    PAGE = 1000

    def fetch_suppressions(self) -> set[str]:
        """The account-level suppression list (bounces and complaints), paged by NextToken."""
        found: set[str] = set()
        token = ""
        while True:
            params = {"PageSize": self.PAGE, **({"NextToken": token} if token else {})}
            data = self.json_body(self.request("GET", "/v2/email/suppression/addresses", params=params))
            if not isinstance(data, dict):
                return found
            found.update(
                str(i["EmailAddress"]).lower() for i in data.get("SuppressedDestinationSummaries", [])
                if isinstance(i, dict) and i.get("EmailAddress")
            )
            token = data.get("NextToken") or ""
            if not token:
                return found


def create(config: SendConfig, env: Mapping[str, str], client: httpx.Client | None = None) -> Sender:
    access = require_env(env, "AWS_ACCESS_KEY_ID", "ses")
    secret = require_env(env, "AWS_SECRET_ACCESS_KEY", "ses")
    region = config.region or env.get("AWS_REGION", "") or env.get("AWS_DEFAULT_REGION", "")
    if not region:
        raise CredentialsError(
            "ses: the environment variable AWS_REGION is not set (nor [send] region)",
            hint="export AWS_REGION=eu-west-1 (the region your SES identities are verified in)",
        )
    creds = AwsCredentials(access, secret, env.get("AWS_SESSION_TOKEN", ""))
    for value in (access, secret, creds.session_token):
        register_secret(value)
    return SesSender(
        credentials=creds, region=region, config=config,
        base=base_url(config, env, f"https://email.{region}.amazonaws.com"), client=client,
    )


# The registry's name for the factory (feedpub.send.registry: "module:factory").
factory = create
