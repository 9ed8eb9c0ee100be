"""The delivery engine: batches, journal before/after, resume, retries, unknown batches."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedpub.errors import JournalError, ProviderError
from feedpub.model import Email
from feedpub.send import deliver, idempotency_key, plan, send_test_copy
from feedpub.send.base import BatchResult, OutgoingMessage
from feedpub.send.journal import Journal, read_state, sent_digests
from feedpub.send.messages import recipient_hash
from feedpub.send.recipients import Recipient
from feedpub.send.retry import Backoff
from feedpub.send.unsubscribe import Unsubscribe

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def make_email(digest_id: str = "d1") -> Email:
    return Email(
        digest_id=digest_id, subject="News", html="<p>Hi <a href=\"%%UNSUBSCRIBE_URL%%\">unsubscribe</a></p>",
        text="Hi\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n", from_addr="Blog <news@example.com>", date=NOW,
        post_ids=("p1", "p2"), newest=datetime(2026, 11, 20, tzinfo=timezone.utc),
        headers={"List-Unsubscribe": "<%%UNSUBSCRIBE_URL%%>"},
    )


def people(n: int) -> list[Recipient]:
    return [Recipient(f"user{i}@example.com", f"User {i}") for i in range(n)]


class FakeSender:
    """Records every message; ``fail`` maps call number (1-based) -> exception to raise."""

    name = "fake"
    idempotent = False
    default_rate = 0.0

    def __init__(self, batch_size: int = 10, fail: dict[int, BaseException] | None = None,
                 journal_path: Path | None = None, rejected: dict[str, str] | None = None) -> None:
        self.batch_size = batch_size
        self.fail = fail or {}
        self.calls = 0
        self.delivered: Counter[str] = Counter()
        self.keys: list[str] = []
        self.journal_path = journal_path
        self.rejected = rejected or {}
        self.lock = threading.Lock()

    def send_batch(self, messages: Sequence[OutgoingMessage], *, idempotency_key: str) -> BatchResult:
        with self.lock:
            self.calls += 1
            call = self.calls
            self.keys.append(idempotency_key)
        if self.journal_path is not None:
            # The batch must be journaled as 'sending' (and fsync'd) before it goes out.
            lines = [json.loads(x) for x in self.journal_path.read_text().splitlines()]
            assert any(e["event"] == "sending" and e["key"] == idempotency_key for e in lines)
        if call in self.fail:
            raise self.fail[call]
        with self.lock:
            for m in messages:
                if m.to not in self.rejected:
                    self.delivered[m.to] += 1
        return BatchResult(tuple(f"id-{m.to.split('@')[0]}" for m in messages), rejected={k: v for k, v in self.rejected.items()
                                                                          if k in {m.to for m in messages}})

    def close(self) -> None:
        pass


def no_wait(retries: int = 3) -> Backoff:
    waits: list[float] = []
    b = Backoff(retries=retries, sleep=waits.append, random=lambda: 1.0)
    b.waits = waits  # type: ignore[attr-defined]
    return b


def run(tmp_path: Path, sender, recipients, **kw):
    kw.setdefault("backoff", no_wait())
    return deliver(kw.pop("email", make_email()), recipients, sender, Journal(tmp_path / "journal.jsonl"), now=NOW, **kw)


def events(tmp_path: Path) -> list[dict]:
    return [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]


def test_every_recipient_gets_one_own_copy_in_batches_of_the_provider_size(tmp_path):
    sender = FakeSender(batch_size=10, journal_path=tmp_path / "journal.jsonl")
    seen: list[list[str]] = []
    orig = sender.send_batch

    def spy(messages, *, idempotency_key):
        seen.append([m.to for m in messages])
        return orig(messages, idempotency_key=idempotency_key)

    sender.send_batch = spy
    report = run(tmp_path, sender, people(25), unsubscribe=Unsubscribe("https://x.test/u?e={email}"))
    assert report.complete and report.ok and report.sent == 25 and report.batches == 3
    assert sorted(len(b) for b in seen) == [5, 10, 10]
    assert set(sender.delivered.values()) == {1} and len(sender.delivered) == 25
    assert sent_digests(tmp_path / "journal.jsonl")[0].digest_id == "d1"


def test_messages_are_personal(tmp_path):
    got: list[OutgoingMessage] = []

    class Capture(FakeSender):
        def send_batch(self, messages, *, idempotency_key):
            got.extend(messages)
            return super().send_batch(messages, idempotency_key=idempotency_key)

    run(tmp_path, Capture(), people(2), unsubscribe=Unsubscribe("https://x.test/u?e={email}&t={token}", secret="s3cret"))
    a, b = got
    assert a.to == "user0@example.com" and a.to_name == "User 0"
    assert "e=user0%40example.com" in a.headers["List-Unsubscribe"] and "user1" not in a.html
    assert "&amp;t=" in a.html and "&t=" in a.text and "%%UNSUBSCRIBE_URL%%" not in a.html + a.text
    assert a.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert a.message_id != b.message_id and a.message_id.startswith("d1.")


def test_a_rerun_after_completion_sends_nothing(tmp_path):
    run(tmp_path, FakeSender(), people(5))
    again = FakeSender()
    report = run(tmp_path, again, people(5))
    assert again.calls == 0 and report.already_complete and report.complete


def test_journal_holds_hashes_not_addresses_and_is_compacted(tmp_path):
    sender = FakeSender(batch_size=2, fail={2: ProviderError("bad request", provider="fake", status=400)})
    run(tmp_path, sender, people(5))
    text = (tmp_path / "journal.jsonl").read_text()
    assert "@example.com" not in text
    assert recipient_hash("user0@example.com") in text
    run(tmp_path, FakeSender(batch_size=2), people(5))
    lines = events(tmp_path)
    assert [e["event"] for e in lines] == ["complete"]  # the batch lines of a sent digest are dropped
    assert lines[0]["recipients"] == 5 and lines[0]["newest"].startswith("2026-11-20")


def test_failed_batch_is_reported_and_retried_by_the_next_run_only_for_its_recipients(tmp_path):
    sender = FakeSender(batch_size=3, fail={1: ProviderError("invalid 'to'", provider="fake", status=422)})
    report = run(tmp_path, sender, people(7), concurrency=1)
    assert not report.ok and not report.complete and report.failed_recipients == 3
    assert report.failed[0].status == 422 and "invalid" in report.failed[0].reason
    assert [e["event"] for e in events(tmp_path)].count("failed") == 1
    second = FakeSender(batch_size=3)
    report2 = run(tmp_path, second, people(7))
    assert report2.sent == 3 and report2.already_sent == 4 and report2.complete
    assert sum(sender.delivered.values()) + sum(second.delivered.values()) == 7
    assert not (set(sender.delivered) & set(second.delivered))


def test_429_is_retried_after_retry_after_and_5xx_with_backoff(tmp_path):
    fails = {1: ProviderError("slow down", provider="fake", status=429, retryable=True, retry_after=7.0),
             2: ProviderError("oops", provider="fake", status=503, retryable=True)}
    sender = FakeSender(batch_size=10, fail=fails)
    backoff = no_wait(retries=3)
    report = run(tmp_path, sender, people(4), backoff=backoff)
    assert report.ok and report.retries == 2 and sender.calls == 3
    assert backoff.waits[0] >= 7.0            # Retry-After honoured
    assert 0 < backoff.waits[1] <= 1.0        # then full jitter: at most base * 2**1
    assert sum(sender.delivered.values()) == 4


def test_other_4xx_is_never_retried(tmp_path):
    sender = FakeSender(fail={1: ProviderError("bad from", provider="fake", status=400)})
    report = run(tmp_path, sender, people(3))
    assert sender.calls == 1 and report.retries == 0 and not report.ok


def test_retries_give_up_and_the_batch_is_failed(tmp_path):
    err = ProviderError("down", provider="fake", status=500, retryable=True)
    sender = FakeSender(fail={1: err, 2: err, 3: err})
    report = run(tmp_path, sender, people(2), backoff=no_wait(retries=2))
    assert sender.calls == 3 and "after 2 retries" in report.failed[0].reason


def test_timeouts_and_connection_errors_are_retried(tmp_path):
    import httpx

    sender = FakeSender(fail={1: httpx.ReadTimeout("slow"), 2: httpx.ConnectError("refused"), 3: ConnectionResetError()})
    report = run(tmp_path, sender, people(2), backoff=no_wait(retries=5))
    assert report.ok and sender.calls == 4


def test_a_bad_key_stops_the_run(tmp_path):
    sender = FakeSender(batch_size=1, fail={1: ProviderError("unauthorized", provider="fake", status=401)})
    report = run(tmp_path, sender, people(20), concurrency=1)
    assert sender.calls == 1 and report.stopped and not report.complete
    assert plan(make_email(), people(20), tmp_path / "journal.jsonl", 1).to_send == 20


def test_rejected_recipients_are_settled_not_retried(tmp_path):
    sender = FakeSender(rejected={"user1@example.com": "406 inactive recipient"})
    report = run(tmp_path, sender, people(3))
    assert report.complete and report.rejected == [("user1@example.com", "406 inactive recipient")]
    again = FakeSender()
    run(tmp_path, again, people(3))
    assert again.calls == 0


def test_partial_batch_accounting(tmp_path):
    """A sender that got 2 of 4 messages out before the connection dropped."""
    class Partial(FakeSender):
        def send_batch(self, messages, *, idempotency_key):
            self.calls += 1
            if self.calls == 1:
                for m in messages[:2]:
                    self.delivered[m.to] += 1
                err = ProviderError("connection lost", provider="fake", retryable=True)
                err.accepted = {0: "a", 1: "b"}
                raise err
            return super().send_batch(messages, idempotency_key=idempotency_key)

    sender = Partial(batch_size=4)
    report = run(tmp_path, sender, people(4))
    assert report.complete and report.sent == 4
    assert set(sender.delivered.values()) == {1} and len(sender.delivered) == 4


def test_unknown_batch_with_a_non_idempotent_provider_stops_and_asks(tmp_path):
    email = make_email()
    hs = [recipient_hash(r.key) for r in people(3)]
    with Journal(tmp_path / "journal.jsonl") as j:   # what a killed run leaves behind
        j.sending("d1", "b1", idempotency_key("d1", hs), hs, provider="fake", at=NOW)
    with pytest.raises(JournalError) as info:
        run(tmp_path, FakeSender(), people(5), email=email)
    assert "--resume-unknown" in str(info.value) and "--skip-unknown" in str(info.value)
    assert info.value.exit_code == 3

    skip = FakeSender()
    report = run(tmp_path, skip, people(5), unknown="skip")
    assert sorted(skip.delivered) == ["user3@example.com", "user4@example.com"]
    assert report.complete and report.unknown_skipped == 3


def test_unknown_batch_resumed_on_request(tmp_path):
    hs = [recipient_hash(r.key) for r in people(3)]
    with Journal(tmp_path / "journal.jsonl") as j:
        j.sending("d1", "b1", idempotency_key("d1", hs), hs, provider="fake", at=NOW)
    sender = FakeSender()
    report = run(tmp_path, sender, people(5), unknown="resume")
    assert len(sender.delivered) == 5 and report.unknown_resumed == 3 and report.complete


def test_unknown_batch_of_an_idempotent_provider_is_resent_with_the_same_key(tmp_path):
    hs = [recipient_hash(r.key) for r in people(3)]
    key = idempotency_key("d1", hs)
    with Journal(tmp_path / "journal.jsonl") as j:
        j.sending("d1", "b1", key, hs, provider="fake", at=NOW)
    sender = FakeSender(batch_size=3)
    sender.idempotent = True
    report = run(tmp_path, sender, people(6))
    assert key in sender.keys and report.complete and len(sender.delivered) == 6


def test_idempotency_key_depends_on_digest_and_recipients_only():
    assert idempotency_key("d", ["b", "a"]) == idempotency_key("d", ["a", "b"])
    assert idempotency_key("d", ["a"]) != idempotency_key("e", ["a"])


def test_a_second_run_is_locked_out(tmp_path):
    with Journal(tmp_path / "journal.jsonl"):
        with pytest.raises(JournalError, match="another 'feedpub send' is running"):
            run(tmp_path, FakeSender(), people(1))


def test_a_bug_in_a_sender_leaves_the_batch_unknown(tmp_path):
    sender = FakeSender(fail={1: KeyError("MessageID")})
    with pytest.raises(KeyError):
        run(tmp_path, sender, people(2))
    assert read_state(tmp_path / "journal.jsonl", "d1").unknown_batches()


def test_concurrency_is_bounded_and_used(tmp_path):
    active = 0
    peak = 0
    lock = threading.Lock()

    class Slow(FakeSender):
        def send_batch(self, messages, *, idempotency_key):
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.02)
            with lock:
                active -= 1
            return super().send_batch(messages, idempotency_key=idempotency_key)

    sender = Slow(batch_size=1)
    report = run(tmp_path, sender, people(24), concurrency=3)
    assert report.complete and 1 < peak <= 3 and len(sender.delivered) == 24


def test_progress_counts_every_recipient(tmp_path):
    run(tmp_path, FakeSender(batch_size=2, fail={1: ProviderError("x", provider="fake", status=400)}), people(5), concurrency=1)
    ticks: list[int] = []
    lock = threading.Lock()

    def tick(n):
        with lock:
            ticks.append(n)

    run(tmp_path, FakeSender(batch_size=2), people(5), progress=tick)
    assert sum(ticks) == 5


def test_plan_counts_without_sending(tmp_path):
    run(tmp_path, FakeSender(batch_size=2, fail={1: ProviderError("x", provider="fake", status=400)}), people(5), concurrency=1)
    p = plan(make_email(), people(6), tmp_path / "journal.jsonl", 2)
    assert (p.recipients, p.already_sent, p.to_send, p.batches) == (6, 3, 3, 2)
    assert p.first == [f"user{i}@example.com" for i in range(5)]


def test_send_test_copy_does_not_touch_the_journal(tmp_path):
    sender = FakeSender()
    mid = send_test_copy(make_email(), Recipient("me@example.com"), sender)
    assert mid == "id-me" and sender.delivered["me@example.com"] == 1
    assert not (tmp_path / "journal.jsonl").exists()


def test_a_time_limit_stops_cleanly_and_the_next_run_finishes(tmp_path):
    t = [0.0]

    class Clocked(FakeSender):
        def send_batch(self, messages, *, idempotency_key):
            t[0] += 10.0                      # each batch takes 10 (fake) seconds
            return super().send_batch(messages, idempotency_key=idempotency_key)

    first = Clocked(batch_size=2)
    report = run(tmp_path, first, people(10), concurrency=1, time_limit=25, clock=lambda: t[0])
    assert first.calls == 3 and not report.complete and "time limit" in report.stopped
    assert not report.failed                  # nothing failed: the rest is simply pending
    second = FakeSender(batch_size=2)
    report2 = run(tmp_path, second, people(10))
    assert report2.complete and report2.sent == 4 and not (set(first.delivered) & set(second.delivered))


def test_an_unknown_batch_from_another_provider_is_never_assumed_deduplicated(tmp_path):
    hs = [recipient_hash(r.key) for r in people(3)]
    with Journal(tmp_path / "journal.jsonl") as j:      # a killed SMTP run; the config now says resend
        j.sending("d1", "b1", idempotency_key("d1", hs), hs, provider="smtp", at=NOW)
    sender = FakeSender(batch_size=3)
    sender.idempotent = True
    with pytest.raises(JournalError, match="cannot deduplicate a request that went to smtp"):
        run(tmp_path, sender, people(6))
    assert sender.calls == 0


def test_a_partial_success_then_a_final_failure_keeps_the_sent_part_sent(tmp_path):
    class PartialThenDown(FakeSender):
        def send_batch(self, messages, *, idempotency_key):
            self.calls += 1
            if self.calls == 1:
                self.delivered[messages[0].to] += 1
                err = ProviderError("connection lost", provider="fake", retryable=True)
                err.accepted = {0: "a"}
                raise err
            raise ProviderError("refused", provider="fake", status=400)

    sender = PartialThenDown(batch_size=3)
    report = run(tmp_path, sender, people(3))
    assert report.sent == 1 and report.failed_recipients == 2
    again = FakeSender(batch_size=3)
    run(tmp_path, again, people(3))
    assert sorted(again.delivered) == ["user1@example.com", "user2@example.com"]   # user0 not twice
