"""Keep secrets out of everything feedpub prints, logs, journals or raises.

Two layers: every secret value a provider reads is registered (``register_secret``) and
``redact(text)`` replaces any registered value (or its Base64 in a Basic auth header)
with ``[REDACTED]``; and header dumps hide the known auth headers whatever their value
(``redact_headers``). The CLI passes every message it prints through ``redact``; the
engine passes every provider reason it journals or raises through it.
"""
from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Mapping

MASK = "[REDACTED]"

#: Environment variables that hold secrets (registered by ``register_env``).
SECRET_ENV_VARS: tuple[str, ...] = (
    "POSTMARK_SERVER_TOKEN",
    "SENDGRID_API_KEY",
    "MAILGUN_API_KEY",
    "RESEND_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "BREVO_API_KEY",
    "SMTP_PASSWORD",
    "FEEDPUB_UNSUBSCRIBE_SECRET",
)

#: Request headers that carry credentials, compared case-insensitively.
SECRET_HEADERS: frozenset[str] = frozenset(
    {"authorization", "proxy-authorization", "x-postmark-server-token", "api-key", "x-api-key",
     "x-amz-security-token", "cookie", "set-cookie"}
)

_MIN_LEN = 4  # shorter "secrets" would mangle ordinary text; real keys are far longer
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret so ``redact`` hides it (and its Basic-auth Base64 forms)."""
    global _pattern
    if not value or len(value) < _MIN_LEN:
        return
    forms = {value, base64.b64encode(value.encode()).decode()}
    with _lock:
        if value in _secrets:
            return
        _secrets.update(forms)
        # Longest first, so a key that contains another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_env(env: Mapping[str, str], names: Iterable[str] = SECRET_ENV_VARS) -> None:
    """Register the values of every known secret variable present in ``env``."""
    for name in names:
        register_secret(env.get(name))


def register_basic_auth(user: str, password: str) -> None:
    """Register the Base64 of ``user:password`` as HTTP Basic auth sends it."""
    register_secret(password)
    if password:
        register_secret(base64.b64encode(f"{user}:{password}".encode()).decode())


def redact(text: object) -> str:
    """``str(text)`` with every registered secret replaced by ``[REDACTED]``."""
    s = text if isinstance(text, str) else str(text)
    pattern = _pattern
    return pattern.sub(MASK, s) if pattern is not None else s


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of request/response headers safe to print: auth headers masked whole."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (MASK if k.lower() in SECRET_HEADERS else redact(v)) for k, v in items}


def _forget_all() -> None:
    """Tests only: drop every registered secret."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None
