"""The smtp sender against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS +
AUTH, SSL; per-recipient refusals, deferrals mid-batch, bad passwords."""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections import Counter
from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest

pytest.importorskip("aiosmtpd", reason="aiosmtpd (test extra) is not installed")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from feedpub.config import SendConfig  # noqa: E402
from feedpub.errors import CredentialsError, ProviderError, SendError  # noqa: E402
from feedpub.model import Email  # noqa: E402
from feedpub.send import deliver  # noqa: E402
from feedpub.send.journal import Journal  # noqa: E402
from feedpub.send.messages import build_message  # noqa: E402
from feedpub.send.recipients import Recipient  # noqa: E402
from feedpub.send.retry import Backoff, classify  # noqa: E402
from feedpub.send.smtp import SmtpSender, factory  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
PASSWORD = "correct-horse-battery-staple"
EMAIL = Email(digest_id="d1", subject="News", html="<p>Hi</p>", text="Hi\n", from_addr="Blog <news@example.com>",
              date=NOW, post_ids=("p",), newest=NOW)


class Handler:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.sessions: list[object] = []
        self.refuse: dict[str, str] = {}      # address -> reply to RCPT
        self.defer_data_at: int | None = None  # 1-based message number answered 451 once

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.defer_data_at is not None and len(self.messages) + 1 == self.defer_data_at:
            self.defer_data_at = None
            return "451 4.3.0 try again later"
        if not any(s is session for s in self.sessions):
            self.sessions.append(session)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"blog" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def server():
    started = []

    def start(**kw):
        handler = Handler()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kw)
        controller.start()
        started.append(controller)
        return handler, port

    yield start
    for c in started:
        c.stop()


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: cannot make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    client_ctx = ssl.create_default_context(cafile=str(d / "cert.pem"))
    return server_ctx, client_ctx


def msgs(n: int) -> list:
    return [build_message(EMAIL, Recipient(f"user{i}@example.com", f"User {i}")) for i in range(n)]


def test_plain_batch_one_connection_one_recipient_per_message(server):
    handler, port = server()
    result = SmtpSender("127.0.0.1", port, security="none").send_batch(msgs(3), idempotency_key="k")
    assert len(result.message_ids) == 3 and all(result.message_ids)
    assert len(handler.sessions) == 1                     # the connection is reused across the batch
    assert [rcpts for _, rcpts, _ in handler.messages] == [["user0@example.com"], ["user1@example.com"], ["user2@example.com"]]
    assert {frm for frm, _, _ in handler.messages} == {"news@example.com"}
    parsed = message_from_bytes(handler.messages[1][2], policy=policy.default)
    assert str(parsed["To"]) == "User 1 <user1@example.com>" and parsed["Message-ID"] == f"<{result.message_ids[1]}>"


def test_starttls_with_login(server, cert):
    server_ctx, client_ctx = cert
    handler, port = server(tls_context=server_ctx, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    sender = SmtpSender("127.0.0.1", port, security="starttls", user="blog", password=PASSWORD, ssl_context=client_ctx)
    sender.send_batch(msgs(2), idempotency_key="k")
    assert len(handler.messages) == 2


def test_ssl_from_the_first_byte(server, cert):
    server_ctx, client_ctx = cert
    handler, port = server(ssl_context=server_ctx)
    SmtpSender("127.0.0.1", port, security="ssl", ssl_context=client_ctx).send_batch(msgs(1), idempotency_key="k")
    assert len(handler.messages) == 1


def test_untrusted_certificate_is_refused(server, cert):
    server_ctx, _ = cert
    _, port = server(ssl_context=server_ctx)
    with pytest.raises(ProviderError, match="cannot connect"):
        SmtpSender("127.0.0.1", port, security="ssl").send_batch(msgs(1), idempotency_key="k")


def test_wrong_password_is_fatal_and_never_shown(server, cert):
    server_ctx, client_ctx = cert
    _, port = server(tls_context=server_ctx, authenticator=authenticator, auth_require_tls=True)
    wrong = "wrong-horse-" + PASSWORD
    with pytest.raises(ProviderError) as info:
        SmtpSender("127.0.0.1", port, user="blog", password=wrong, ssl_context=client_ctx).send_batch(msgs(1), idempotency_key="k")
    assert classify(info.value).fatal and "login refused" in str(info.value)
    assert wrong not in str(info.value) and PASSWORD not in str(info.value)


def test_starttls_missing_is_explained(server):
    _, port = server()
    with pytest.raises(ProviderError) as info:
        SmtpSender("127.0.0.1", port, security="starttls").send_batch(msgs(1), idempotency_key="k")
    assert "STARTTLS" in str(info.value) and "smtp_security" in (info.value.hint or "")


def test_a_refused_recipient_is_rejected_and_the_rest_delivered(server):
    handler, port = server()
    handler.refuse["user1@example.com"] = "550 5.1.1 no such user"
    result = SmtpSender("127.0.0.1", port, security="none").send_batch(msgs(3), idempotency_key="k")
    assert result.rejected == {"user1@example.com": "550 5.1.1 no such user"}
    assert result.message_ids[1] == "" and len(handler.messages) == 2


def test_a_deferred_recipient_fails_the_rest_of_the_batch_retryably(server):
    handler, port = server()
    handler.refuse["user1@example.com"] = "450 4.2.1 mailbox busy"
    with pytest.raises(ProviderError) as info:
        SmtpSender("127.0.0.1", port, security="none").send_batch(msgs(3), idempotency_key="k")
    assert info.value.retryable and list(info.value.accepted) == [0]


def test_a_deferral_mid_batch_is_retried_without_sending_anyone_twice(server, tmp_path):
    handler, port = server()
    handler.defer_data_at = 3
    sender = SmtpSender("127.0.0.1", port, security="none", batch_size=5)
    recipients = [Recipient(f"user{i}@example.com") for i in range(8)]
    report = deliver(EMAIL, recipients, sender, Journal(tmp_path / "j.jsonl"), now=NOW, concurrency=1,
                     backoff=Backoff(sleep=lambda s: None))
    assert report.complete and report.retries == 1
    got = Counter(r for _, rcpts, _ in handler.messages for r in rcpts)
    assert len(got) == 8 and set(got.values()) == {1}


def test_no_server_is_a_retryable_connection_error():
    with pytest.raises(ProviderError) as info:
        SmtpSender("127.0.0.1", free_port(), security="none", timeout=2).send_batch(msgs(1), idempotency_key="k")
    assert info.value.retryable


def test_factory_names_what_is_missing():
    with pytest.raises(SendError, match="smtp_host"):
        factory(SendConfig(provider="smtp"), {})
    with pytest.raises(CredentialsError, match="SMTP_PASSWORD"):
        factory(SendConfig(provider="smtp", smtp_host="mail.example.com", smtp_user="blog"), {})
    s = factory(SendConfig(provider="smtp", smtp_host="mail.example.com", smtp_user="blog", smtp_port=465,
                           smtp_security="ssl"), {"SMTP_PASSWORD": PASSWORD})
    assert (s.host, s.port, s.security, s.user) == ("mail.example.com", 465, "ssl", "blog")
    assert PASSWORD not in repr(s)
