"""Kill `python -m feedpub send --yes` in the middle with SIGKILL, run it again: every
recipient got the digest exactly once."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from feedpub.send.journal import read_state, sent_digests

NOW = "2026-11-23T12:00:00+00:00"


def env() -> dict[str, str]:
    e = dict(os.environ, FEEDPUB_NOW=NOW, FEEDPUB_UNSUBSCRIBE_SECRET="crash-test-secret", PYTHONUNBUFFERED="1")
    e.pop("CI", None)
    return e


def write_site(root: Path, n: int, send: str) -> None:
    text = (root / "feedpub.toml").read_text()
    head, _, _ = text.partition("[send]")
    (root / "feedpub.toml").write_text(head + '[send]\nfrom = "Blog <news@example.com>"\nrecipients = "subs.csv"\n' + send)
    with open(root / "subs.csv", "w") as fh:
        fh.write("email,name\n")
        for i in range(n):
            fh.write(f"reader{i}@example.com,Reader {i}\n")


def feedpub(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "feedpub", "send", "--last", "2", "--yes", *args],
                          cwd=root, env=env(), capture_output=True, text=True, timeout=120)


def test_outbox_send_killed_mid_way_resumes_by_itself(sample_site):
    """The outbox is idempotent: a batch the killed run left 'sending' is simply written again."""
    n = 600    # 6 batches of 100, at most 2 a second: more than two seconds of sending
    write_site(sample_site, n, "concurrency = 2\nrate_limit = 2\n")
    journal = sample_site / ".feedpub" / "journal.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "feedpub", "send", "--last", "2", "--yes"],
                            cwd=sample_site, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count('"event":"sent"') >= 2:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the send finished before it could be killed"
    assert sent_digests(journal) == []                       # not complete: killed mid-way
    done_before = len(list((sample_site / "outbox").rglob("*.eml")))
    assert 0 < done_before < n

    again = feedpub(sample_site)
    assert again.returncode == 0, again.stderr
    files = sorted((sample_site / "outbox").rglob("*.eml"))
    assert len(files) == n and len({f.name for f in files}) == n
    assert len(sent_digests(journal)) == 1 and "already sent earlier" in again.stdout


pytest.importorskip("aiosmtpd", reason="aiosmtpd (test extra) is not installed")
from aiosmtpd.controller import Controller  # noqa: E402


class KillingServer:
    """Counts what it receives; kills the client when message number ``kill_at`` starts."""

    def __init__(self, kill_at: int | None) -> None:
        self.kill_at = kill_at
        self.pid: int | None = None
        self.mails = 0
        self.received: Counter[str] = Counter()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.kill_at is not None and self.mails == self.kill_at and self.pid:
            os.kill(self.pid, signal.SIGKILL)     # the sender dies before this message is accepted
            self.kill_at = None
            return "421 4.3.2 going away"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            self.received[rcpt] += 1
        return "250 OK"


@pytest.fixture
def smtp_server():
    controllers = []

    def start(handler):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        c = Controller(handler, hostname="127.0.0.1", port=port)
        c.start()
        controllers.append(c)
        return port

    yield start
    for c in controllers:
        c.stop()


def test_smtp_send_killed_between_batches_needs_a_decision_then_delivers_each_once(sample_site, smtp_server):
    """SMTP cannot deduplicate: the re-run stops (exit 3) until told what to do with the
    batch the dead run left unconfirmed; here nothing of it was delivered, so
    --resume-unknown completes the send with every reader receiving exactly one copy."""
    n = 230                                   # batches of 50: 50, 50, 50, 50, 30
    handler = KillingServer(kill_at=101)      # the first message of the third batch
    port = smtp_server(handler)
    write_site(sample_site, n, f'provider = "smtp"\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
                               'smtp_security = "none"\nconcurrency = 1\nretries = 0\n')
    proc = subprocess.Popen([sys.executable, "-m", "feedpub", "send", "--last", "2", "--yes"],
                            cwd=sample_site, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    handler.pid = proc.pid
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert sum(handler.received.values()) == 100

    journal = sample_site / ".feedpub" / "journal.jsonl"
    lines = [json.loads(x) for x in journal.read_text().splitlines()]
    digest = lines[0]["digest"]
    assert len(read_state(journal, digest).unknown_batches()) == 1

    stopped = feedpub(sample_site)
    assert stopped.returncode == 3 and "--resume-unknown" in stopped.stderr
    assert sum(handler.received.values()) == 100          # the stopped run sent nothing

    resumed = feedpub(sample_site, "--resume-unknown")
    assert resumed.returncode == 0, resumed.stderr
    assert len(handler.received) == n and set(handler.received.values()) == {1}
    assert len(sent_digests(journal)) == 1


def test_resend_send_killed_after_the_provider_took_a_batch_resumes_through_idempotency(sample_site, httpserver):
    """The worst moment: the provider accepted batch 3 but the sender died before it could
    journal 'sent'. Resend deduplicates by Idempotency-Key, so the re-run sends that
    batch again under the same key without asking, and nobody gets two copies."""
    from werkzeug.wrappers import Response

    n = 350                                   # batches of 100: 100, 100, 100, 50
    state = {"pid": None, "batches": 0, "kill_at": 3, "repeats": 0}
    seen_keys: dict[str, str] = {}
    received: Counter[str] = Counter()

    def batch(request):
        key = request.headers.get("Idempotency-Key", "")
        assert request.headers.get("Authorization") == "Bearer re_crash_test_key"
        items = json.loads(request.data)
        if key in seen_keys:                  # what Resend does with a repeated key
            state["repeats"] += 1
            return Response(seen_keys[key], status=200, content_type="application/json")
        for item in items:
            received[item["to"][0].rpartition("<")[2].rstrip(">")] += 1
        body = json.dumps({"data": [{"id": f"{key[:8]}-{i}"} for i in range(len(items))]})
        seen_keys[key] = body
        state["batches"] += 1
        if state["batches"] == state["kill_at"] and state["pid"]:
            os.kill(state["pid"], signal.SIGKILL)   # accepted, but the sender never hears it
        return Response(body, status=200, content_type="application/json")

    httpserver.expect_request("/suppressions").respond_with_json({"data": [], "has_more": False})
    httpserver.expect_request("/emails/batch", method="POST").respond_with_handler(batch)
    write_site(sample_site, n, 'provider = "resend"\nconcurrency = 1\nrate_limit = 1000\nretries = 0\n')
    e = dict(env(), RESEND_API_KEY="re_crash_test_key", FEEDPUB_BASE_URL=httpserver.url_for("/").rstrip("/"))
    proc = subprocess.Popen([sys.executable, "-m", "feedpub", "send", "--last", "2", "--yes"],
                            cwd=sample_site, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    state["pid"] = proc.pid
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL and sum(received.values()) == 300

    again = subprocess.run([sys.executable, "-m", "feedpub", "send", "--last", "2", "--yes"],
                           cwd=sample_site, env=e, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert len(received) == n and set(received.values()) == {1}
    assert state["repeats"] == 1              # batch 3 went again, under its old key
    assert len(sent_digests(sample_site / ".feedpub" / "journal.jsonl")) == 1
