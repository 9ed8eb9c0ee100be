"""Secrets never leave through the engine (journal, report, exceptions); the registry."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from feedpub.config import SendConfig
from feedpub.errors import ProviderError, SendError
from feedpub.model import Email
from feedpub.send import deliver, send_test_copy
from feedpub.send.journal import Journal
from feedpub.send.recipients import Recipient
from feedpub.send.redact import MASK, redact, redact_headers, register_basic_auth, register_env, register_secret
from feedpub.send.registry import PROVIDERS, make_sender
from feedpub.send.retry import Backoff

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
EMAIL = Email(digest_id="d", subject="S", html="<p>x</p>", text="x", from_addr="B <b@example.com>", date=NOW,
              post_ids=("p",), newest=NOW)


def test_registered_secrets_and_their_base64_are_masked():
    register_secret("sk-live-4f9a8b7c6d5e")
    assert redact("Bearer sk-live-4f9a8b7c6d5e!") == f"Bearer {MASK}!"
    b64 = base64.b64encode(b"sk-live-4f9a8b7c6d5e").decode()
    assert redact(f"Basic {b64}") == f"Basic {MASK}"
    register_basic_auth("api", "mg-key-0a1b2c3d4e")
    assert redact("Authorization: Basic " + base64.b64encode(b"api:mg-key-0a1b2c3d4e").decode()) == f"Authorization: Basic {MASK}"
    register_secret("abc")                    # too short to mask without mangling text
    assert redact("abc") == "abc"


def test_auth_headers_are_masked_whatever_their_value():
    shown = redact_headers({"Authorization": "Bearer new-unregistered", "X-Postmark-Server-Token": "t",
                            "api-key": "k", "Content-Type": "application/json"})
    assert shown == {"Authorization": MASK, "X-Postmark-Server-Token": MASK, "api-key": MASK,
                     "Content-Type": "application/json"}


class Leaky:
    """A provider whose error quotes the key back (some do)."""

    name = "leaky"
    batch_size = 5
    idempotent = False
    default_rate = 0.0

    def __init__(self, key: str) -> None:
        self.key = key

    def send_batch(self, messages, *, idempotency_key):
        raise ProviderError(f"invalid key {self.key}", provider=self.name, status=422)

    def close(self):
        pass


def test_a_key_from_the_environment_never_reaches_journal_report_or_exception(tmp_path):
    key = "SG.leaky-key-9f8e7d6c5b4a"
    register_env({"SENDGRID_API_KEY": key})
    report = deliver(EMAIL, [Recipient("a@example.com")], Leaky(key), Journal(tmp_path / "j.jsonl"), now=NOW,
                     backoff=Backoff(sleep=lambda s: None))
    assert key not in (tmp_path / "j.jsonl").read_text()
    assert key not in repr(report) and MASK in report.failed[0].reason
    with pytest.raises(ProviderError) as info:
        send_test_copy(EMAIL, Recipient("a@example.com"), Leaky(key), backoff=Backoff(sleep=lambda s: None))
    # The provider's own exception is passed on unchanged; the CLI redacts what it prints
    # (tests/test_cli_send.py), and the provider modules redact their messages themselves.
    assert info.value.status == 422


def test_registry_names_all_eight_and_imports_lazily(tmp_path):
    assert list(PROVIDERS) == ["outbox", "smtp", "postmark", "sendgrid", "mailgun", "resend", "ses", "brevo"]
    for target in PROVIDERS.values():
        module, _, attr = target.partition(":")
        assert module.startswith("feedpub.send.") and attr
    with pytest.raises(SendError, match="unknown provider"):
        make_sender(SendConfig(provider="pigeon"), {})


def test_feedpub_base_url_reaches_the_factory_when_the_config_has_none(monkeypatch):
    seen = {}

    def factory(config, env, client):
        seen["base_url"] = config.base_url
        return object()

    import types
    import sys

    module = types.ModuleType("feedpub_test_fake_provider")
    module.factory = factory
    monkeypatch.setitem(sys.modules, "feedpub_test_fake_provider", module)
    monkeypatch.setitem(PROVIDERS, "fake", "feedpub_test_fake_provider:factory")
    make_sender(SendConfig(provider="fake"), {"FEEDPUB_BASE_URL": "http://127.0.0.1:9"})
    assert seen["base_url"] == "http://127.0.0.1:9"
    make_sender(SendConfig(provider="fake", base_url="https://eu.example"), {"FEEDPUB_BASE_URL": "http://127.0.0.1:9"})
    assert seen["base_url"] == "https://eu.example"


def test_every_registered_provider_builds_or_names_its_missing_key():
    from feedpub.errors import CredentialsError

    for name in PROVIDERS:
        cfg = SendConfig(provider=name, outbox="/tmp/x", domain="mg.example.com", smtp_host="", region="")
        try:
            sender = make_sender(cfg, {})
        except CredentialsError as exc:
            assert "_" in str(exc) and "not set" in str(exc)   # names the variable
        except SendError as exc:
            assert "[send]" in str(exc) or "smtp_host" in str(exc)
        else:
            assert name == "outbox" and sender.name == "outbox"
