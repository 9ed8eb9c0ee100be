"""What every HTTP provider shares: the client, the base URL, and turning answers into errors.

A provider module builds its request and reads its answer; everything about *failing* is
here, so all six providers fail the same way::

    429, 408, 5xx                 ProviderError(retryable=True, retry_after=Retry-After)
    other 4xx                     ProviderError(retryable=False), the provider's message
    timeout, connection error     ProviderError(retryable=True)

Providers never retry or sleep; the engine reads ``retryable``/``retry_after``.

Secrets: an ``HttpSender`` knows its secret values and every text that leaves this module
(exception messages, the ``--verbose`` request dump on the ``feedpub.send.http`` logger)
goes through ``redact`` first; auth headers are never dumped at all.
"""
from __future__ import annotations

import json
import logging
from datetime import timezone
from collections.abc import Iterable, Mapping
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

import httpx

from ..config import SendConfig
from ..errors import CredentialsError, ProviderError
from . import retry

log = logging.getLogger("feedpub.send.http")

USER_AGENT = "feedpub (+https://pypi.org/project/feedpub/)"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "x-postmark-server-token", "api-key", "x-amz-security-token", "cookie", "x-api-key"}
)
_MAX_SUMMARY = 300


def base_url(config: SendConfig, env: Mapping[str, str], default: str) -> str:
    """``[send] base_url``, else ``FEEDPUB_BASE_URL``, else the provider's own host."""
    return (config.base_url or env.get("FEEDPUB_BASE_URL", "") or default).rstrip("/")


def require_env(env: Mapping[str, str], name: str, provider: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise CredentialsError(
            f"{provider}: the environment variable {name} is not set",
            hint=f"export {name}=... (keys are read from the environment only, never from feedpub.toml)",
        )
    return value


def make_client(config: SendConfig) -> httpx.Client:
    """A client with timeouts on every phase of every request."""
    return httpx.Client(
        timeout=httpx.Timeout(config.timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def parse_retry_after(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP-date, relative to ``Date``)."""
    try:
        sent = parsedate_to_datetime(response.headers.get_list("Date")[0])
    except (TypeError, ValueError, IndexError):
        sent = None  # an HTTP-date without the server's Date to measure from: let the engine back off
    if sent is not None and sent.tzinfo is None:  # "-0000" means UTC with no zone known
        sent = sent.replace(tzinfo=timezone.utc)
    return retry.parse_retry_after(response.headers.get("Retry-After"), now=sent)


def summarize_error(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """The provider's own words about what went wrong, short, without headers or keys."""
    text = ""
    try:
        data: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if data is not None:
        text = _messages(data)
    if not text:
        text = response.text.strip()
        if response.headers.get("content-type", "").startswith("text/html"):
            text = ""
    text = " ".join(text.split())
    if len(text) > _MAX_SUMMARY:
        text = text[: _MAX_SUMMARY - 1] + "…"
    return redact(text, secrets)


def _messages(data: Any) -> str:
    """Pull the human message out of the error bodies the six providers use."""
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return "; ".join(filter(None, (_messages(d) for d in data[:3])))
    if not isinstance(data, dict):
        return ""
    parts: list[str] = []
    for key in ("Message", "message", "error", "detail", "name", "code"):  # Postmark, Mailgun, Resend, SES, Brevo
        value = data.get(key)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
        elif isinstance(value, dict):
            inner = _messages(value)
            if inner:
                parts.append(inner)
    errors = data.get("errors")  # SendGrid: {"errors": [{"message", "field"}]}
    if isinstance(errors, list):
        for err in errors[:3]:
            if isinstance(err, dict) and err.get("message"):
                field = f" ({err['field']})" if err.get("field") else ""
                parts.append(f"{err['message']}{field}")
    return ": ".join(parts[:2]) if len(parts) <= 2 else "; ".join(parts)


def check(response: httpx.Response, provider: str, secrets: Iterable[str] = ()) -> httpx.Response:
    """Return a 2xx response; raise the matching ``ProviderError`` for anything else."""
    status = response.status_code
    if 200 <= status < 300:
        return response
    summary = summarize_error(response, secrets) or response.reason_phrase or "no details"
    if status == 429:
        raise ProviderError(
            f"rate limited (HTTP 429): {summary}", provider=provider, status=status,
            retryable=True, retry_after=parse_retry_after(response),
        )
    if status >= 500 or status == 408:
        raise ProviderError(
            f"server error (HTTP {status}): {summary}", provider=provider, status=status,
            retryable=True, retry_after=parse_retry_after(response),
        )
    hint = None
    if status in (401, 403):
        hint = "check the API key in the environment and that it may send from this domain"
    elif status == 404:
        hint = "check [send] base_url / region / domain"
    raise ProviderError(f"request refused (HTTP {status}): {summary}", provider=provider, status=status, hint=hint)


def dump_request(request: httpx.Request, secrets: Iterable[str] = ()) -> str:
    """A ``--verbose`` view of a request: method, URL, headers (auth ones hidden), body head."""
    secrets = tuple(secrets)
    lines = [f"> {request.method} {redact(str(request.url), secrets)}"]
    for name, value in request.headers.items():
        shown = "[redacted]" if name.lower() in SENSITIVE_HEADERS else redact(value, secrets)
        lines.append(f"> {name}: {shown}")
    try:
        body = request.read()  # multipart bodies are built lazily; they are in memory anyway
    except (httpx.StreamError, TypeError):
        body = b""
    if body:
        text = body[:2000].decode("utf-8", "replace")
        lines.append(redact(text, secrets) + (" …" if len(body) > 2000 else ""))
    return "\n".join(lines)


class HttpSender:
    """Base of the HTTP providers: one client, absolute URLs, auth added per request.

    The client may come from the engine (shared, or a test transport); the auth and the
    timeout are passed on every request, so a borrowed client never needs our secrets.
    """

    name = "http"
    batch_size = 1
    idempotent = False
    default_rate = 10.0

    def __init__(self, *, config: SendConfig, base_url: str, secrets: Iterable[str], client: httpx.Client | None) -> None:
        self._owns_client = client is None
        self._client = client if client is not None else make_client(config)
        self._base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(config.timeout)
        self._secrets = tuple(s for s in secrets if s)

    # ---- what subclasses provide ------------------------------------------------------
    def _auth_headers(self) -> dict[str, str]:
        return {}

    def _auth(self) -> httpx.Auth | None:
        return None

    # ---- shared -----------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send one request and return a 2xx answer, or raise ``ProviderError``."""
        url = path if path.startswith(("http://", "https://")) else f"{self._base_url}{path}"
        all_headers = {"Accept": "application/json", **self._auth_headers(), **(headers or {})}
        try:
            req = self._client.build_request(method, url, headers=all_headers, timeout=self._timeout, **kwargs)
            req = self._sign(req)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s", dump_request(req, self._secrets))
            response = self._client.send(req, auth=self._auth())
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"no answer within {self._timeout.read or self._timeout.connect}s ({type(exc).__name__})",
                provider=self.name, retryable=True,
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError(
                f"connection failed: {redact(str(exc) or type(exc).__name__, self._secrets)}",
                provider=self.name, retryable=True,
            ) from None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("< HTTP %s %s", response.status_code, redact(response.text[:500], self._secrets))
        return check(response, self.name, self._secrets)

    def _sign(self, request: httpx.Request) -> httpx.Request:
        return request

    def json_body(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            raise ProviderError(
                f"answered HTTP {response.status_code} with a body that is not JSON; "
                "the messages may or may not have been accepted",
                provider=self.name, status=response.status_code,
                hint="check the provider's activity log before re-running",
            ) from None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self._base_url} batch_size={self.batch_size}>"

    def __enter__(self) -> "HttpSender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split_address(value: str) -> tuple[str, str]:
    """``"Blog <news@example.com>"`` -> ``("Blog", "news@example.com")``."""
    name, addr = parseaddr(value)
    return name, addr or value


_SPECIALS = set('()<>[]:;@\\,."')


def display_address(name: str, address: str) -> str:
    """``Name <address>`` for JSON/form APIs: quoted when the name has specials, and
    left in UTF-8 (these APIs encode headers themselves; RFC 2047 here would be shown raw)."""
    name = " ".join(name.split())
    if not name:
        return address
    if _SPECIALS & set(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON (the size of a 1,000-message batch matters)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
