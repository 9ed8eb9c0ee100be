"""The send journal: the read API the digest uses, torn lines, corruption, compaction, lock."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedpub.errors import JournalError
from feedpub.send.journal import Journal, last_sent_at, read_state, scrub, sent_digests

AT = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def complete(j: Journal, digest: str, newest: str, subject: str = "S") -> None:
    j.complete(digest, date=AT, newest=datetime.fromisoformat(newest), post_ids=[f"{digest}-p"], subject=subject,
               provider="outbox", recipients=2, at=AT)


def test_missing_journal_means_nothing_sent(tmp_path):
    assert last_sent_at(tmp_path / "none.jsonl") is None
    assert sent_digests(tmp_path / "none.jsonl") == []


def test_last_sent_at_is_the_newest_post_of_the_last_completed_digest(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        complete(j, "a", "2026-11-01T10:00:00+00:00", "First")
        j.sending("c", "b1", "k", ["h1"], provider="outbox", at=AT)   # incomplete: does not count
        complete(j, "b", "2026-11-15T10:00:00-06:00", "Second")
    assert last_sent_at(path) == datetime(2026, 11, 15, 16, 0, tzinfo=timezone.utc)
    digests = sent_digests(path)
    assert [(d.digest_id, d.subject, d.post_ids) for d in digests] == [("a", "First", ("a-p",)), ("b", "Second", ("b-p",))]
    assert digests[0].date == AT


def test_an_unfinished_digest_does_not_count_as_sent(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.sending("a", "b1", "k", ["h1", "h2"], provider="outbox", at=AT)
        j.sent("a", "b1", ["id1", "id2"], at=AT)
    assert last_sent_at(path) is None and sent_digests(path) == []


def test_state_follows_the_last_event_per_recipient(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.sending("a", "b1", "k1", ["h1", "h2", "h3"], provider="smtp", at=AT)
        j.sent("a", "b1", ["x"], at=AT, hashes=["h1"])
        j.rejected("a", "b1", ["h2"], ["550 no such user bob@example.com"], at=AT)
        j.sending("a", "b2", "k2", ["h4"], provider="smtp", at=AT)
        j.failed("a", "b2", "timeout talking to mx for dan@example.com", at=AT)
    st = read_state(path, "a")
    assert [st.state_of(h) for h in ("h1", "h2", "h3", "h4", "h5")] == ["sent", "rejected", "sending", "failed", None]
    assert st.unknown_batches() == {"b1": ("h3",)}
    text = path.read_text()
    assert "@example.com" not in text and "<address>" in text


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        complete(j, "a", "2026-11-01T10:00:00+00:00")
    with open(path, "ab") as fh:
        fh.write(b'{"event":"complete","digest":"b","newest":"2026-12')   # killed mid-write
    assert [d.digest_id for d in sent_digests(path)] == ["a"]
    with Journal(path) as j:
        j.sending("c", "b1", "k", ["h"], provider="outbox", at=AT)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x) for x in lines)


def test_a_corrupt_line_in_the_middle_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"event":"complete","digest":"a","date":"2026-11-01T00:00:00+00:00","newest":"2026-11-01T00:00:00+00:00"}\n'
                    "<<<<<<< HEAD\n"
                    '{"event":"complete","digest":"b","date":"2026-11-02T00:00:00+00:00","newest":"2026-11-02T00:00:00+00:00"}\n')
    with pytest.raises(JournalError) as info:
        last_sent_at(path)
    assert info.value.line == 2 and info.value.exit_code == 3 and "restore" in (info.value.hint or "")


def test_completion_compacts_only_that_digest(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.sending("other", "b9", "k9", ["h9"], provider="outbox", at=AT)
        j.sending("a", "b1", "k1", ["h1"], provider="outbox", at=AT)
        j.sent("a", "b1", ["id"], at=AT)
        complete(j, "a", "2026-11-01T10:00:00+00:00")
        j.sent("other", "b9", ["id9"], at=AT)   # appends still work after the rewrite
    events = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(e["event"], e["digest"]) for e in events] == [("sending", "other"), ("complete", "a"), ("sent", "other")]


def test_the_lock_is_released_when_the_holder_dies(tmp_path):
    path = tmp_path / "j.jsonl"
    code = f"import os; from feedpub.send.journal import Journal; j = Journal({str(path)!r}); j.open(); os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True)
    with Journal(path):
        pass


def test_scrub_removes_addresses():
    assert scrub("550 5.1.1 <bob.smith+x@mail.example.co.uk>: user unknown") == "550 5.1.1 <<address>>: user unknown"


def test_unfinished_digests_counts_sent_recipients_until_complete(tmp_path):
    from feedpub.send.journal import unfinished_digests

    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.sending("a", "b1", "k1", ["h1", "h2"], provider="smtp", at=AT)
        j.sent("a", "b1", ["x", "y"], at=AT)
        j.sending("a", "b2", "k2", ["h3"], provider="smtp", at=AT)
        j.sending("b", "b3", "k3", ["h4"], provider="smtp", at=AT)
        j.sent("b", "b3", ["z"], at=AT)
        complete(j, "b", "2026-11-01T10:00:00+00:00")
    assert unfinished_digests(path) == {"a": 2}
