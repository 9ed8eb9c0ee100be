"""Any SMTP server through the standard library: STARTTLS (587), SSL (465) or plain.

One connection per batch, reused for every message of the batch; each recipient still
gets their own message (``RCPT TO`` one address). What the server says maps onto the
engine's vocabulary:

- a 5xx refusal of one recipient: that recipient is ``rejected`` (never retried), the
  rest of the batch goes on;
- a 4xx (try later), a dropped connection or a timeout: ``ProviderError(retryable=True)``
  carrying ``accepted`` (index -> Message-ID of the messages the server already took),
  so the engine journals those as sent and retries only the rest;
- a refused login: fatal for the whole run (every batch would fail the same way).

The password comes from ``SMTP_PASSWORD`` only.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.utils import parseaddr
from typing import Any

from ..config import SendConfig
from ..errors import CredentialsError, ProviderError, SendError
from . import redact
from .base import BatchResult, OutgoingMessage
from .messages import to_email_message

PASSWORD_VAR = "SMTP_PASSWORD"


class SmtpSender:
    name = "smtp"
    idempotent = False
    default_rate = 0.0   # the server pushes back with 4xx when it wants us slower

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        security: str = "starttls",
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
        batch_size: int = 50,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.user = user
        self._password = password
        self.timeout = timeout
        self.batch_size = batch_size
        self._ssl_context = ssl_context
        redact.register_secret(password)

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=self._context())
                conn.ehlo()
        except smtplib.SMTPNotSupportedError:
            raise ProviderError(
                f"{self.host}:{self.port} does not offer STARTTLS", provider=self.name,
                hint='set [send] smtp_security = "ssl" (port 465) or "none" for a local relay',
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ProviderError(f"cannot connect to {self.host}:{self.port}: {redact.redact(exc)}",
                                provider=self.name, retryable=True) from None
        if self.user:
            try:
                conn.login(self.user, self._password)
            except smtplib.SMTPAuthenticationError as exc:
                _quit(conn)
                err = ProviderError(f"login refused for {self.user}: {exc.smtp_code} {_text(exc.smtp_error)}",
                                    provider=self.name, hint=f"check [send] smtp_user and {PASSWORD_VAR}")
                err.fatal = True  # type: ignore[attr-defined]
                raise err from None
            except smtplib.SMTPNotSupportedError:
                _quit(conn)
                err = ProviderError(f"{self.host} does not offer login (AUTH) on this connection", provider=self.name,
                                    hint='use smtp_security = "starttls" or "ssl", or leave smtp_user empty')
                err.fatal = True  # type: ignore[attr-defined]
                raise err from None
            except (OSError, smtplib.SMTPException) as exc:
                _quit(conn)
                raise ProviderError(f"login failed: {redact.redact(exc)}", provider=self.name, retryable=True) from None
        return conn

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        conn = self._connect()
        accepted: dict[int, str] = {}
        rejected: dict[str, str] = {}
        ids: list[str] = []
        try:
            for i, m in enumerate(messages):
                envelope_from = parseaddr(m.from_addr)[1] or m.from_addr
                try:
                    conn.send_message(to_email_message(m), from_addr=envelope_from, to_addrs=[m.to])
                except smtplib.SMTPRecipientsRefused as exc:
                    code, reply = next(iter(exc.recipients.values()), (None, b""))
                    if code is not None and 400 <= code < 500:
                        raise self._error(f"{m.to} deferred: {code} {_text(reply)}", accepted, retryable=True, status=code) from None
                    rejected[m.to] = f"{code} {_text(reply)}"
                    ids.append("")
                    conn.rset()
                    continue
                except smtplib.SMTPResponseException as exc:  # sender refused, data refused, ...
                    code = exc.smtp_code
                    raise self._error(f"server refused the message to {m.to}: {code} {_text(exc.smtp_error)}",
                                      accepted, retryable=400 <= code < 500, status=code) from None
                except (OSError, smtplib.SMTPException) as exc:
                    raise self._error(f"connection lost while sending to {m.to}: {redact.redact(exc) or type(exc).__name__}",
                                      accepted, retryable=True) from None
                accepted[i] = m.message_id
                ids.append(m.message_id)
        finally:
            _quit(conn)
        return BatchResult(tuple(ids), rejected=rejected)

    def _error(self, message: str, accepted: dict[int, str], *, retryable: bool, status: int | None = None) -> ProviderError:
        err = ProviderError(message, provider=self.name, retryable=retryable)
        err.smtp_code = status  # type: ignore[attr-defined]
        err.accepted = dict(accepted)  # type: ignore[attr-defined]
        return err

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<SmtpSender {self.security}://{self.host}:{self.port} user={self.user or '-'}>"


def _text(reply: Any) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return redact.redact(" ".join(str(reply).split()))


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


def factory(config: SendConfig, env: Mapping[str, str], client: Any = None) -> SmtpSender:
    if not config.smtp_host:
        raise SendError("[send] smtp_host is not set", hint='set [send] smtp_host = "smtp.example.com" (and smtp_port, smtp_user)')
    password = ""
    if config.smtp_user:
        password = env.get(PASSWORD_VAR, "")
        if not password:
            raise CredentialsError(
                f"smtp: the environment variable {PASSWORD_VAR} is not set (needed for [send] smtp_user = {config.smtp_user!r})",
                hint=f"export {PASSWORD_VAR}=... (never put it in feedpub.toml)",
            )
    return SmtpSender(
        config.smtp_host, config.smtp_port, security=config.smtp_security, user=config.smtp_user,
        password=password, timeout=config.timeout,
    )
