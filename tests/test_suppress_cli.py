"""End to end through `feedpub send --yes` against a provider on 127.0.0.1: neither the
local suppression list nor the provider's own list receives the digest; and with
[send] audience the digest goes out as one broadcast, once."""
from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from feedpub.cli import main

KEY = "pm-server-token-abcdef123"


def configure(root, base_url: str, extra: str = "") -> None:
    toml = (root / "feedpub.toml").read_text("utf-8")
    toml = toml.replace('provider = "outbox"', 'provider = "postmark"')
    toml = toml.replace('to = ["reader1@example.com", "reader2@example.com"]',
                        'to = ["reader1@example.com", "Reader2@Example.com", "gone@example.com", "bounced@example.com"]')
    toml += f'base_url = "{base_url}"\nsuppress = "unsubscribed.csv"\n{extra}'
    (root / "feedpub.toml").write_text(toml, "utf-8")


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", KEY)
    monkeypatch.setenv("FEEDPUB_UNSUBSCRIBE_SECRET", "s" * 32)
    monkeypatch.setenv("FEEDPUB_NOW", "2024-07-20T12:00:00+00:00")
    monkeypatch.delenv("FEEDPUB_BASE_URL", raising=False)


def test_suppressed_addresses_receive_nothing(sample_site, httpserver, monkeypatch, env, capsys):
    configure(sample_site, httpserver.url_for(""))
    monkeypatch.chdir(sample_site)
    assert main(["unsubscribe", "GONE@example.com", "--reason", "asked"]) == 0
    httpserver.expect_request("/message-streams/broadcast/suppressions/dump", method="GET").respond_with_json(
        {"Suppressions": [{"EmailAddress": "Bounced@Example.com", "SuppressionReason": "HardBounce", "Origin": "Recipient",
                           "CreatedAt": "2024-07-01T00:00:00Z"}]})
    sent: list[str] = []

    def batch(request: Request) -> Response:
        body = json.loads(request.get_data())
        sent.extend(m["To"] for m in body)
        return Response(json.dumps([{"ErrorCode": 0, "Message": "OK", "MessageID": f"id-{i}", "To": m["To"]}
                                    for i, m in enumerate(body)]), content_type="application/json")

    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(batch)
    code = main(["send", "--last", "1", "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert sorted(a.lower() for a in sent) == ["reader1@example.com", "reader2@example.com"]
    assert KEY not in out + err


def test_audience_broadcast_once(sample_site, httpserver, monkeypatch, env, capsys):
    configure(sample_site, httpserver.url_for(""), 'audience = "readers@mg.example.com"\ndomain = "mg.example.com"\n')
    toml = (sample_site / "feedpub.toml").read_text("utf-8").replace('provider = "postmark"', 'provider = "mailgun"')
    (sample_site / "feedpub.toml").write_text(toml, "utf-8")
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    monkeypatch.chdir(sample_site)
    calls: list[Request] = []

    def messages(request: Request) -> Response:
        calls.append(request)
        request.get_data()
        return Response(json.dumps({"id": "<b-1@mg.example.com>", "message": "Queued. Thank you."}), content_type="application/json")

    httpserver.expect_request("/v3/mg.example.com/messages", method="POST").respond_with_handler(messages)
    assert main(["send", "--last", "1"]) == 0  # dry run
    out, _ = capsys.readouterr()
    assert "Dry run" in out and "readers@mg.example.com" in out and calls == []
    assert main(["send", "--last", "1", "--yes"]) == 0
    out, _ = capsys.readouterr()
    assert "sent digest" in out and "<b-1@mg.example.com>" in out
    form = calls[0].form
    assert form.getlist("to") == ["readers@mg.example.com"] and "%unsubscribe_url%" in form["html"]
    assert main(["send", "--last", "1", "--yes", "--json"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out)["already_sent"] is True and len(calls) == 1
