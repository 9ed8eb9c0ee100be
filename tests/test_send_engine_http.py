"""The engine + every HTTP provider module against a real HTTP server on 127.0.0.1 that
answers 200, 429 with Retry-After, 500, 400, slowly, or drops the connection: retried
where allowed, and the journal right in each case."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from feedpub.config import SendConfig
from feedpub.model import Email
from feedpub.send import deliver
from feedpub.send.journal import Journal, read_state, sent_digests
from feedpub.send.recipients import Recipient
from feedpub.send.registry import make_sender
from feedpub.send.retry import Backoff
from feedpub.send.unsubscribe import Unsubscribe

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ENV = {"POSTMARK_SERVER_TOKEN": "pm-token-test", "SENDGRID_API_KEY": "SG.test-key", "MAILGUN_API_KEY": "mg-test-key",
       "RESEND_API_KEY": "re_test_key", "BREVO_API_KEY": "xkeysib-test", "AWS_ACCESS_KEY_ID": "AKIATESTTEST",
       "AWS_SECRET_ACCESS_KEY": "aws-secret-test", "AWS_REGION": "eu-west-1"}
PROVIDERS = ["postmark", "sendgrid", "mailgun", "resend", "ses", "brevo"]
EMAIL = Email(digest_id="d1", subject="News", html='<p>Hi <a href="%%UNSUBSCRIBE_URL%%">unsubscribe</a></p>',
              text="Hi\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n", from_addr="Blog <news@example.com>", date=NOW,
              post_ids=("p",), newest=NOW, headers={"List-Unsubscribe": "<%%UNSUBSCRIBE_URL%%>"})
PEOPLE = [Recipient(f"reader{i}@example.com") for i in range(3)]


def success(path: str, body: bytes) -> tuple[int, dict[str, str], bytes, list[str]]:
    """A provider-shaped 2xx answer, and the addresses the request carried."""
    text = body.decode("utf-8", "replace")
    to = sorted({a for a in _addresses(text)})
    if path == "/email/batch":
        items = json.loads(body)
        return 200, {}, json.dumps([{"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4()), "To": i["To"]}
                                    for i in items]).encode(), to
    if path == "/v3/mail/send":
        return 202, {"X-Message-Id": uuid.uuid4().hex}, b"", to
    if path.endswith("/messages"):
        return 200, {}, json.dumps({"id": f"<{uuid.uuid4().hex}@mg.example.com>", "message": "Queued"}).encode(), to
    if path == "/emails/batch":
        return 200, {}, json.dumps({"data": [{"id": str(uuid.uuid4())} for _ in json.loads(body)]}).encode(), to
    if path == "/v3/smtp/email":
        data = json.loads(body)
        n = len(data.get("messageVersions") or [None])
        return 201, {}, json.dumps({"messageIds": [f"<{uuid.uuid4().hex}@relay>" for _ in range(n)]}).encode(), to
    if path.startswith("/v2/email/outbound-emails"):
        return 200, {}, json.dumps({"MessageId": uuid.uuid4().hex}).encode(), to
    return 404, {}, b'{"message":"no such path"}', []


def _addresses(text: str) -> list[str]:
    import re

    return re.findall(r"reader\d+@example\.com", text)


class Script:
    """What the server answers, request by request (then 'ok'), and what it accepted."""

    def __init__(self, steps: list[str]) -> None:
        self.steps = list(steps)
        self.lock = threading.Lock()
        self.accepted: Counter[str] = Counter()
        self.requests = 0

    def next(self) -> str:
        with self.lock:
            self.requests += 1
            return self.steps.pop(0) if self.steps else "ok"


@pytest.fixture
def server():
    servers = []

    def start(script: Script) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                step = script.next()
                if step == "drop":
                    self.close_connection = True      # no answer at all: the connection just ends
                    return
                if step == "slow":
                    time.sleep(2.5)                   # longer than the client's timeout
                if step in ("ok", "slow"):
                    status, headers, payload, to = success(self.path.split("?")[0], body)
                    if step == "ok":
                        with script.lock:
                            script.accepted.update(to)
                elif step == "429":
                    status, headers, payload = 429, {"Retry-After": "2"}, b'{"message":"too many requests"}'
                elif step == "500":
                    status, headers, payload = 500, {}, b'{"message":"internal error"}'
                else:
                    status, headers, payload = 400, {}, b'{"message":"bad request: invalid from"}'
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def send(provider: str, base: str, journal: Path, waits: list[float], timeout: float = 5.0):
    cfg = SendConfig(provider=provider, base_url=base, domain="mg.example.com", timeout=timeout,
                     unsubscribe_url="https://example.com/u?e={email}")
    sender = make_sender(cfg, ENV)
    try:
        return deliver(EMAIL, PEOPLE, sender, Journal(journal), now=NOW, concurrency=2,
                       unsubscribe=Unsubscribe.from_config(cfg, {}),
                       backoff=Backoff(retries=3, sleep=waits.append, random=lambda: 0.5))
    finally:
        sender.close()


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("trouble", ["429", "500", "drop", "slow"])
def test_transient_trouble_is_retried_and_everyone_gets_one_copy(provider, trouble, server, tmp_path):
    script = Script([trouble])
    waits: list[float] = []
    report = send(provider, server(script), tmp_path / "j.jsonl", waits, timeout=1.0 if trouble == "slow" else 5.0)
    assert report.complete and report.retries >= 1, report
    if trouble == "429":
        assert waits[0] >= 2.0                # Retry-After: 2 honoured
    assert sorted(script.accepted) == [r.email for r in PEOPLE] and set(script.accepted.values()) == {1}
    assert [d.digest_id for d in sent_digests(tmp_path / "j.jsonl")] == ["d1"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_4xx_is_not_retried_the_journal_says_failed_and_a_rerun_sends_only_that(provider, server, tmp_path):
    script = Script(["400"])
    report = send(provider, server(script), tmp_path / "j.jsonl", [])
    assert not report.ok and report.retries == 0 and report.failed[0].status == 400
    assert "invalid from" in report.failed[0].reason
    failed = [h for h, (s, _) in read_state(tmp_path / "j.jsonl", "d1").status.items() if s == "failed"]
    assert len(failed) == len(report.failed[0].recipients)
    first = Counter(script.accepted)
    again = send(provider, server(Script([])), tmp_path / "j.jsonl", [])
    assert again.complete and again.already_sent == 3 - len(failed) and again.sent == len(failed)
    assert not (set(first) & set(report.failed[0].recipients))   # nobody got the failed batch
