"""Every HTTP provider against a real server on 127.0.0.1: how each kind of answer maps to
ProviderError (retryable or not, retry_after), and that no key ever leaks into an error,
a repr or the --verbose dump. The engine's retry loop itself is tested with the engine."""
from __future__ import annotations

import importlib
import json
import logging
import time
from email.utils import formatdate
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import pytest
from werkzeug import Request, Response

from feedpub.config import SendConfig
from feedpub.errors import CredentialsError, ProviderError, SendError
from feedpub.send.base import Sender

from specs.helpers import dropping_server, messages

SECRET = "sk-SECRET-0123456789abcdef"


@dataclass
class Case:
    name: str
    env: dict[str, str]
    path: str
    ok: Callable[[int], Response]
    n: int = 3
    config: dict[str, Any] = field(default_factory=dict)


def _json(data: Any, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json", headers=headers)


CASES = [
    Case("postmark", {"POSTMARK_SERVER_TOKEN": SECRET}, "/email/batch",
         lambda n: _json([{"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{i}", "To": "x",
                           "SubmittedAt": "2026-11-23T12:00:00Z"} for i in range(n)])),
    Case("sendgrid", {"SENDGRID_API_KEY": SECRET}, "/v3/mail/send",
         lambda n: Response("", status=202, headers={"X-Message-Id": "sg-batch-1"})),
    Case("mailgun", {"MAILGUN_API_KEY": SECRET}, "/v3/mg.example.com/messages",
         lambda n: _json({"id": "<mg-1@mg.example.com>", "message": "Queued. Thank you."}),
         config={"domain": "mg.example.com"}),
    Case("resend", {"RESEND_API_KEY": SECRET}, "/emails/batch",
         lambda n: _json({"data": [{"id": f"re-{i}"} for i in range(n)]})),
    Case("brevo", {"BREVO_API_KEY": SECRET}, "/v3/smtp/email",
         lambda n: _json({"messageId": "<br-1@smtp-relay.mailin.fr>"}, status=201), n=1),
    Case("ses", {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1"},
         "/v2/email/outbound-emails", lambda n: _json({"MessageId": "ses-1"}), n=1),
]
IDS = [c.name for c in CASES]


def make(case: Case, base_url: str, **config: Any) -> Sender:
    module = importlib.import_module(f"feedpub.send.{case.name}")
    cfg = SendConfig(provider=case.name, base_url=base_url, timeout=config.pop("timeout", 5.0), **{**case.config, **config})
    return module.create(cfg, case.env, None)


def send(case: Case, sender: Sender):
    return sender.send_batch(messages(case.n), idempotency_key="digest-abc/batch-0001")


def fail(case: Case, sender: Sender) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        send(case, sender)
    err = info.value
    assert err.provider == case.name
    assert SECRET not in str(err) and SECRET not in repr(err)
    return err


@pytest.fixture(params=CASES, ids=IDS)
def case(request) -> Case:
    return request.param


def test_accepted_batch_returns_ids(case, httpserver):
    httpserver.expect_oneshot_request(case.path, method="POST").respond_with_handler(lambda r: case.ok(case.n))
    with make(case, httpserver.url_for("")) as sender:
        result = send(case, sender)
    httpserver.check_assertions()
    assert result.message_ids and all(result.message_ids)
    assert len(result.message_ids) in (1, case.n)


@pytest.mark.parametrize("retry_after", ["7", "0"])
def test_429_is_retryable_with_retry_after_seconds(case, httpserver, retry_after):
    httpserver.expect_request(case.path).respond_with_response(
        _json({"message": "Too many requests"}, status=429, **{"Retry-After": retry_after}))
    with make(case, httpserver.url_for("")) as sender:
        err = fail(case, sender)
    assert err.status == 429 and err.retryable is True
    assert err.retry_after == float(retry_after)
    assert "429" in str(err)


def test_429_with_http_date_retry_after(case, httpserver):
    # The test server stamps its own Date (the real time); Retry-After is measured from it.
    headers = {"Retry-After": formatdate(time.time() + 60, usegmt=True)}
    httpserver.expect_request(case.path).respond_with_response(_json({"message": "slow down"}, status=429, **headers))
    with make(case, httpserver.url_for("")) as sender:
        err = fail(case, sender)
    assert err.retryable and 50 <= err.retry_after <= 61


def test_429_without_retry_after_leaves_backoff_to_the_engine(case, httpserver):
    httpserver.expect_request(case.path).respond_with_data("", status=429)
    with make(case, httpserver.url_for("")) as sender:
        err = fail(case, sender)
    assert err.retryable and err.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable(case, httpserver, status):
    httpserver.expect_request(case.path).respond_with_response(
        _json({"message": "internal error"}, status=status, **({"Retry-After": "3"} if status == 503 else {})))
    with make(case, httpserver.url_for("")) as sender:
        err = fail(case, sender)
    assert err.status == status and err.retryable is True
    assert err.retry_after == (3.0 if status == 503 else None)


ERROR_BODIES = {  # each provider's documented error body shape
    "postmark": {"ErrorCode": 300, "Message": "Invalid 'From' address: 'x'."},
    "sendgrid": {"errors": [{"message": "The from address does not match a verified Sender Identity.", "field": "from"}]},
    "mailgun": {"message": "from parameter is not a valid address. please check documentation"},
    "resend": {"statusCode": 422, "name": "validation_error", "message": "Invalid `from` field."},
    "brevo": {"code": "invalid_parameter", "message": "sender is invalid / inactive"},
    "ses": {"message": "Email address is not verified. The following identities failed the check: x"},
}


@pytest.mark.parametrize("status", [400, 422])
def test_other_4xx_is_not_retryable_and_says_why(case, httpserver, status):
    body = ERROR_BODIES[case.name]
    httpserver.expect_request(case.path).respond_with_response(_json(body, status=status))
    with make(case, httpserver.url_for("")) as sender:
        err = fail(case, sender)
    assert err.status == status and err.retryable is False and err.retry_after is None
    words = json.dumps(body)
    assert any(w in str(err) for w in ("Invalid", "verified", "not a valid", "invalid", "not verified")), str(err)
    assert "<html" not in str(err)


def test_401_names_the_key_problem_without_the_key(case, httpserver):
    httpserver.expect_request(case.path).respond_with_response(_json({"message": f"bad key {SECRET}"}, status=401))
    with make(case, httpserver.url_for("")) as sender:
        err = fail(case, sender)
    assert err.status == 401 and not err.retryable
    assert "API key" in (err.hint or "")
    assert "[redacted]" in str(err)


def test_slow_answer_is_a_retryable_timeout(case, httpserver):
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return case.ok(case.n)

    httpserver.expect_request(case.path).respond_with_handler(slow)
    with make(case, httpserver.url_for(""), timeout=0.2) as sender:
        err = fail(case, sender)
    assert err.retryable and err.status is None
    assert "no answer within 0.2s" in str(err)


def test_dropped_connection_is_retryable(case):
    with dropping_server() as url, make(case, url) as sender:
        err = fail(case, sender)
    assert err.retryable and err.status is None
    assert "connection" in str(err)


def test_refused_connection_is_retryable(case):
    with make(case, "http://127.0.0.1:9") as sender:  # discard port: nothing listens
        err = fail(case, sender)
    assert err.retryable


def test_keys_stay_out_of_repr_and_verbose_dump(case, httpserver, caplog):
    httpserver.expect_request(case.path).respond_with_handler(lambda r: case.ok(case.n))
    with caplog.at_level(logging.DEBUG, logger="feedpub.send.http"):
        with make(case, httpserver.url_for("")) as sender:
            assert SECRET not in repr(sender) and SECRET not in str(sender)
            assert case.name in repr(sender)
            send(case, sender)
    dump = caplog.text
    assert "POST" in dump and case.path in dump  # the dump happened
    assert SECRET not in dump
    for name, value in case.env.items():
        if "KEY" in name or "TOKEN" in name:
            assert value not in dump


def test_missing_key_names_the_variable(case):
    module = importlib.import_module(f"feedpub.send.{case.name}")
    for missing in case.env:
        if missing == "AWS_REGION":
            continue
        env = {k: v for k, v in case.env.items() if k != missing}
        with pytest.raises(CredentialsError) as info:
            module.create(SendConfig(provider=case.name, **case.config), env, None)
        assert missing in str(info.value)


def test_base_url_from_environment(case, httpserver, monkeypatch):
    httpserver.expect_oneshot_request(case.path).respond_with_handler(lambda r: case.ok(case.n))
    module = importlib.import_module(f"feedpub.send.{case.name}")
    env = {**case.env, "FEEDPUB_BASE_URL": httpserver.url_for("")}
    with module.create(SendConfig(provider=case.name, **case.config), env, None) as sender:
        send(case, sender)
    httpserver.check_assertions()


def test_sender_satisfies_the_protocol(case):
    sender = make(case, "http://127.0.0.1:9")
    assert isinstance(sender, Sender)
    assert sender.name == case.name and sender.batch_size >= 1 and sender.default_rate > 0
    sender.close()


def test_ses_needs_a_region():
    ses = importlib.import_module("feedpub.send.ses")
    with pytest.raises(CredentialsError, match="AWS_REGION"):
        ses.create(SendConfig(provider="ses"), {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, None)


def test_mailgun_needs_a_domain():
    mailgun = importlib.import_module("feedpub.send.mailgun")
    with pytest.raises(SendError, match=r"\[send\] domain"):
        mailgun.create(SendConfig(provider="mailgun"), {"MAILGUN_API_KEY": "k"}, None)


def test_registry_builds_each_provider(case, httpserver):
    from feedpub.send.registry import make_sender

    httpserver.expect_oneshot_request(case.path).respond_with_handler(lambda r: case.ok(case.n))
    config = SendConfig(provider=case.name, base_url=httpserver.url_for(""), **case.config)
    with make_sender(config, case.env) as sender:
        assert sender.name == case.name
        send(case, sender)
    httpserver.check_assertions()


def test_registered_secrets_are_redacted_everywhere(case):
    from feedpub.send.redact import redact

    make(case, "http://127.0.0.1:9").close()
    assert SECRET not in redact(f"oops {SECRET} leaked")
