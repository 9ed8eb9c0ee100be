"""Provider-managed audiences against a real server on 127.0.0.1: each provider's create
and send calls as documented, the provider's own unsubscribe placeholder, and a broadcast
created exactly once per digest, even when the run is killed right after creating it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from werkzeug import Request, Response

from feedpub.config import SendConfig
from feedpub.digest import UNSUBSCRIBE_PLACEHOLDER
from feedpub.errors import JournalError, ProviderError, SendError
from feedpub.model import Email
from feedpub.send import brevo, mailgun, postmark, resend, sendgrid, ses
from feedpub.send.audience import broadcast_digest
from feedpub.send.journal import Journal, read_broadcast, read_state

from specs.helpers import request_schema, validate

KEY = "audience-key-0123456789"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parent.parent


def digest() -> Email:
    return Email(
        digest_id="d-2026-11-23-abc", subject="Test Blog: 2 new posts",
        html=f'<p>Posts</p><p><a href="{UNSUBSCRIBE_PLACEHOLDER}">Unsubscribe</a></p>',
        text=f"Posts\n\nUnsubscribe: {UNSUBSCRIBE_PLACEHOLDER}\n",
        from_addr="Test Blog <news@blog.example.com>", date=NOW, post_ids=("p1", "p2"), newest=NOW,
        reply_to="editor@blog.example.com",
        headers={"List-Unsubscribe": f"<{UNSUBSCRIBE_PLACEHOLDER}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                 "X-Feedpub-Digest": "d-2026-11-23-abc"},
    )


def js(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


class Recorder:
    def __init__(self, response):
        self.response = response
        self.calls: list[Request] = []
        self.bodies: list[bytes] = []

    def __call__(self, request: Request) -> Response:
        self.calls.append(request)
        self.bodies.append(request.get_data())
        return self.response if isinstance(self.response, Response) else self.response()


def conf(httpserver, **kw) -> SendConfig:
    return SendConfig(base_url=httpserver.url_for(""), timeout=2, **kw)


def test_resend_broadcast_create_then_send(httpserver, tmp_path):
    create = Recorder(js({"id": "bc-1", "object": "broadcast"}))
    send = Recorder(js({"id": "bc-1"}))
    httpserver.expect_request("/broadcasts", method="POST").respond_with_handler(create)
    httpserver.expect_request("/broadcasts/bc-1/send", method="POST").respond_with_handler(send)
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        result = broadcast_digest(digest(), s, "seg-123", journal=tmp_path / "j.jsonl", now=NOW)
    assert result.broadcast_id == "bc-1" and not result.already
    body = json.loads(create.bodies[0])
    validate("resend.yaml", request_schema("resend.yaml", "/broadcasts"), body)
    assert body["segment_id"] == "seg-123" and body["reply_to"] == ["editor@blog.example.com"]
    assert "{{{RESEND_UNSUBSCRIBE_URL}}}" in body["html"] and "{{{RESEND_UNSUBSCRIBE_URL}}}" in body["text"]
    assert UNSUBSCRIBE_PLACEHOLDER not in json.dumps(body) and "headers" not in body
    assert create.calls[0].headers["Authorization"] == f"Bearer {KEY}"
    assert read_state(tmp_path / "j.jsonl", "d-2026-11-23-abc").complete["recipients"] == 0


def test_mailgun_mailing_list(httpserver, tmp_path):
    create = Recorder(js({"id": "<mg-1@mg.example.com>", "message": "Queued. Thank you."}))
    httpserver.expect_request("/v3/mg.example.com/messages", method="POST").respond_with_handler(create)
    with mailgun.create(conf(httpserver, domain="mg.example.com"), {"MAILGUN_API_KEY": KEY}, None) as s:
        result = broadcast_digest(digest(), s, "readers@mg.example.com", journal=tmp_path / "j.jsonl", now=NOW)
    assert result.broadcast_id == "<mg-1@mg.example.com>" and len(create.calls) == 1
    form = create.calls[0].form
    assert form.getlist("to") == ["readers@mg.example.com"]
    assert "%unsubscribe_url%" in form["html"] and "%unsubscribe_url%" in form["text"]
    assert "recipient-variables" not in form and not any(k.startswith("h:List-Unsubscribe") for k in form)
    validate("mailgun.yaml", request_schema("mailgun.yaml", "/v3/{domain_name}/messages", content="multipart/form-data"),
             {k: form.getlist(k) if k == "to" else form[k] for k in form})


def test_brevo_email_campaign(httpserver, tmp_path):
    create = Recorder(js({"id": 42}, status=201))
    send = Recorder(Response("", status=204))
    httpserver.expect_request("/v3/emailCampaigns", method="POST").respond_with_handler(create)
    httpserver.expect_request("/v3/emailCampaigns/42/sendNow", method="POST").respond_with_handler(send)
    with brevo.create(conf(httpserver), {"BREVO_API_KEY": KEY}, None) as s:
        result = broadcast_digest(digest(), s, "7, 12", journal=tmp_path / "j.jsonl", now=NOW)
    assert result.broadcast_id == "42" and len(send.calls) == 1
    body = json.loads(create.bodies[0])
    validate("brevo.yaml", request_schema("brevo.yaml", "/emailCampaigns"), body)
    assert body["recipients"] == {"listIds": [7, 12]} and "{{ unsubscribe }}" in body["htmlContent"]
    assert create.calls[0].headers["api-key"] == KEY


def test_sendgrid_single_send(httpserver, tmp_path):
    create = Recorder(js({"id": "ss-uuid-1", "name": "x", "status": "draft"}, status=201))
    schedule = Recorder(js({"id": "ss-uuid-1", "send_at": "2026-11-23T12:00:00Z", "status": "scheduled"}, status=201))
    httpserver.expect_request("/v3/marketing/singlesends", method="POST").respond_with_handler(create)
    httpserver.expect_request("/v3/marketing/singlesends/ss-uuid-1/schedule", method="PUT").respond_with_handler(schedule)
    with sendgrid.create(conf(httpserver), {"SENDGRID_API_KEY": KEY}, None) as s:
        result = broadcast_digest(digest(), s, "list=abc-list, sender=123, group=45", journal=tmp_path / "j.jsonl", now=NOW)
    assert result.broadcast_id == "ss-uuid-1"
    body = json.loads(create.bodies[0])
    validate("sendgrid_singlesends_v3.yaml", request_schema("sendgrid_singlesends_v3.yaml", "/v3/marketing/singlesends"), body)
    validate("sendgrid_singlesends_v3.yaml",
             request_schema("sendgrid_singlesends_v3.yaml", "/v3/marketing/singlesends/{id}/schedule", method="put"),
             json.loads(schedule.bodies[0]))
    assert create.calls[0].headers["Authorization"] == f"Bearer {KEY}"
    assert body["send_to"] == {"list_ids": ["abc-list"]}
    cfg = body["email_config"]
    assert cfg["sender_id"] == 123 and cfg["suppression_group_id"] == 45
    assert "{{{unsubscribe}}}" in cfg["html_content"] and "{{{unsubscribe}}}" in cfg["plain_content"]
    assert json.loads(schedule.bodies[0]) == {"send_at": "now"}


def test_sendgrid_audience_needs_list_sender_group():
    with pytest.raises(SendError, match="list=<list id>, sender=<sender id>, group=<group id>"):
        sendgrid.SendGridSender.parse_audience("abc-list")


@pytest.mark.parametrize("module, env", [
    (postmark, {"POSTMARK_SERVER_TOKEN": KEY}),
    (ses, {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": KEY, "AWS_REGION": "eu-west-1"}),
])
def test_providers_without_lists_are_named(module, env, tmp_path):
    with module.create(SendConfig(), env, None) as s:
        with pytest.raises(SendError, match=f"{s.name} cannot send to a provider-managed audience") as info:
            broadcast_digest(digest(), s, "anything", journal=tmp_path / "j.jsonl", now=NOW)
    assert "recipients" in (info.value.hint or "")
    assert not (tmp_path / "j.jsonl").exists() or read_broadcast(tmp_path / "j.jsonl", "d-2026-11-23-abc") is None


def test_rerun_after_completion_sends_nothing(httpserver, tmp_path):
    create = Recorder(js({"id": 42}, status=201))
    send = Recorder(Response("", status=204))
    httpserver.expect_request("/v3/emailCampaigns", method="POST").respond_with_handler(create)
    httpserver.expect_request("/v3/emailCampaigns/42/sendNow", method="POST").respond_with_handler(send)
    with brevo.create(conf(httpserver), {"BREVO_API_KEY": KEY}, None) as s:
        broadcast_digest(digest(), s, "7", journal=tmp_path / "j.jsonl", now=NOW)
        again = broadcast_digest(digest(), s, "7", journal=tmp_path / "j.jsonl", now=NOW)
    assert again.already and again.broadcast_id == "42" and len(create.calls) == 1 and len(send.calls) == 1
    complete = read_state(tmp_path / "j.jsonl", "d-2026-11-23-abc").complete
    assert complete["broadcast"] == "42" and complete["audience"] == "7"   # kept after compaction
    lines = (tmp_path / "j.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["event"] == "complete"


KILL = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_audience import digest, NOW
    from feedpub.config import SendConfig
    from feedpub.send import resend
    from feedpub.send.audience import broadcast_digest
    from feedpub.send.journal import Journal

    sender = resend.create(SendConfig(base_url={base!r}, timeout=5), {{"RESEND_API_KEY": "k" * 12}}, None)
    where = {where!r}
    if where == "after-create":          # the create call answered and was journaled; nothing sent yet
        real = Journal.broadcast
        def broadcast(self, digest_id, step, **kw):
            if step == "sending":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, digest_id, step, **kw)
        Journal.broadcast = broadcast
    else:                                # the provider created it, the run died before journaling the id
        real_create = sender.create_broadcast
        def create(email, audience):
            real_create(email, audience)
            os.kill(os.getpid(), signal.SIGKILL)
        sender.create_broadcast = create
    broadcast_digest(digest(), sender, "seg-1", journal=Path({journal!r}), now=NOW)
""")


def _killed_run(httpserver, journal: Path, where: str) -> None:
    script = KILL.format(tests=str(REPO / "tests"), base=httpserver.url_for(""), journal=str(journal), where=where)
    child = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert child.returncode == -9, child.stderr


def test_killed_after_create_never_creates_a_second_broadcast(httpserver, tmp_path):
    create = Recorder(js({"id": "bc-77"}))
    send = Recorder(js({"id": "bc-77"}))
    httpserver.expect_request("/broadcasts", method="POST").respond_with_handler(create)
    httpserver.expect_request("/broadcasts/bc-77/send", method="POST").respond_with_handler(send)
    journal = tmp_path / "j.jsonl"
    _killed_run(httpserver, journal, "after-create")
    assert len(create.calls) == 1 and send.calls == []
    assert read_broadcast(journal, "d-2026-11-23-abc")["step"] == "created"
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        result = broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
        again = broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
    assert result.broadcast_id == "bc-77" and again.already
    assert len(create.calls) == 1 and len(send.calls) == 1   # created once, sent once
    assert read_state(journal, "d-2026-11-23-abc").complete is not None


def test_killed_inside_create_sends_exactly_one_broadcast(httpserver, tmp_path):
    ids = iter(["draft-orphan", "bc-88"])
    create = Recorder(lambda: js({"id": next(ids)}))
    send = Recorder(js({"id": "bc-88"}))
    httpserver.expect_request("/broadcasts", method="POST").respond_with_handler(create)
    httpserver.expect_request("/broadcasts/bc-88/send", method="POST").respond_with_handler(send)
    journal = tmp_path / "j.jsonl"
    _killed_run(httpserver, journal, "inside-create")
    assert read_broadcast(journal, "d-2026-11-23-abc")["step"] == "creating"
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        result = broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
    # The orphan is only a draft (never sent); exactly one broadcast goes out.
    assert result.broadcast_id == "bc-88" and len(send.calls) == 1
    assert [c.path for c in send.calls] == ["/broadcasts/bc-88/send"]


def test_killed_in_the_send_step_asks(httpserver, tmp_path):
    journal = tmp_path / "j.jsonl"
    with Journal(journal) as j:
        j.broadcast("d-2026-11-23-abc", "created", provider="resend", audience="seg-1", at=NOW, broadcast_id="bc-5")
        j.broadcast("d-2026-11-23-abc", "sending", provider="resend", audience="seg-1", at=NOW, broadcast_id="bc-5")
    send = Recorder(js({"id": "bc-5"}))
    httpserver.expect_request("/broadcasts/bc-5/send", method="POST").respond_with_handler(send)
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        with pytest.raises(JournalError, match="while sending"):
            broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
        assert send.calls == []
        broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW, unknown="resume")
    assert len(send.calls) == 1


def test_mailgun_killed_while_creating_asks(httpserver, tmp_path):
    journal = tmp_path / "j.jsonl"
    with Journal(journal) as j:
        j.broadcast("d-2026-11-23-abc", "creating", provider="mailgun", audience="r@mg.example.com", at=NOW)
    with mailgun.create(conf(httpserver, domain="mg.example.com"), {"MAILGUN_API_KEY": KEY}, None) as s:
        with pytest.raises(JournalError, match="while creating"):
            broadcast_digest(digest(), s, "r@mg.example.com", journal=journal, now=NOW)
    assert httpserver.log == []


def test_timeout_on_create_is_unknown_and_stops_the_rerun(httpserver, tmp_path):
    import time

    def slow() -> Response:
        time.sleep(0.6)
        return js({"id": "<mg-1@mg.example.com>", "message": "Queued. Thank you."})

    create = Recorder(slow)
    httpserver.expect_request("/v3/mg.example.com/messages", method="POST").respond_with_handler(create)
    journal = tmp_path / "j.jsonl"
    config = SendConfig(base_url=httpserver.url_for(""), timeout=0.2, domain="mg.example.com")
    with mailgun.create(config, {"MAILGUN_API_KEY": KEY}, None) as s:
        with pytest.raises(ProviderError) as info:
            broadcast_digest(digest(), s, "r@mg.example.com", journal=journal, now=NOW)
        assert info.value.retryable
        assert read_broadcast(journal, "d-2026-11-23-abc")["step"] == "creating"
        with pytest.raises(JournalError, match="--resume-unknown") as stop:
            broadcast_digest(digest(), s, "r@mg.example.com", journal=journal, now=NOW)
        assert "--skip-unknown" in (stop.value.hint or "")
        assert len(create.calls) == 1
        skipped = broadcast_digest(digest(), s, "r@mg.example.com", journal=journal, now=NOW, unknown="skip")
    assert skipped.broadcast_id == "" and len(create.calls) == 1
    assert read_state(journal, "d-2026-11-23-abc").complete is not None


def test_definite_refusal_is_failed_and_retried_next_run(httpserver, tmp_path):
    answers = iter([js({"statusCode": 422, "name": "validation_error", "message": "Invalid `from` field."}, status=422),
                    js({"id": "bc-2"})])
    create = Recorder(lambda: next(answers))
    httpserver.expect_request("/broadcasts", method="POST").respond_with_handler(create)
    httpserver.expect_request("/broadcasts/bc-2/send", method="POST").respond_with_json({"id": "bc-2"})
    journal = tmp_path / "j.jsonl"
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        with pytest.raises(ProviderError, match="Invalid `from`"):
            broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
        assert read_broadcast(journal, "d-2026-11-23-abc")["step"] == "failed"
        result = broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
    assert result.broadcast_id == "bc-2" and len(create.calls) == 2


def test_send_step_failure_keeps_the_broadcast_id(httpserver, tmp_path):
    answers = iter([js({"message": "boom"}, status=400), js({"id": "bc-3"})])
    create = Recorder(js({"id": "bc-3"}))
    send = Recorder(lambda: next(answers))
    httpserver.expect_request("/broadcasts", method="POST").respond_with_handler(create)
    httpserver.expect_request("/broadcasts/bc-3/send", method="POST").respond_with_handler(send)
    journal = tmp_path / "j.jsonl"
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        with pytest.raises(ProviderError):
            broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
        broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
    assert len(create.calls) == 1 and len(send.calls) == 2


def test_other_provider_or_audience_for_a_started_broadcast_is_refused(httpserver, tmp_path):
    httpserver.expect_request("/broadcasts", method="POST").respond_with_json({"id": "bc-9"})
    httpserver.expect_request("/broadcasts/bc-9/send", method="POST").respond_with_data("", status=400)
    journal = tmp_path / "j.jsonl"
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        with pytest.raises(ProviderError):
            broadcast_digest(digest(), s, "seg-1", journal=journal, now=NOW)
        with pytest.raises(JournalError, match="seg-1"):
            broadcast_digest(digest(), s, "seg-OTHER", journal=journal, now=NOW)
