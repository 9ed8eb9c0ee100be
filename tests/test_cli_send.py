"""feedpub send: dry run, sending into the outbox, --to, --json, exit codes, no secrets shown."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedpub.cli import main
from feedpub.send.journal import Journal, sent_digests
from feedpub.send.messages import recipient_hash

SECRET = "unsub-secret-0123456789"
NOW = "2026-11-23T12:00:00+00:00"


@pytest.fixture
def site(sample_site: Path, monkeypatch) -> Path:
    monkeypatch.chdir(sample_site)
    monkeypatch.setenv("FEEDPUB_NOW", NOW)
    monkeypatch.setenv("FEEDPUB_UNSUBSCRIBE_SECRET", SECRET)
    monkeypatch.delenv("CI", raising=False)
    return sample_site


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def eml_files(root: Path) -> list[Path]:
    return sorted((root / "outbox").rglob("*.eml")) if (root / "outbox").exists() else []


def set_send(root: Path, extra: str) -> None:
    text = (root / "feedpub.toml").read_text()
    head, _, _ = text.partition("[send]")
    (root / "feedpub.toml").write_text(head + "[send]\n" + extra)


def test_without_yes_it_is_a_dry_run(site, capsys):
    code, out, err = run(capsys, "send", "--last", "2")
    assert code == 0
    assert "Dry run" in out and "outbox" in out and "reader1@example.com, reader2@example.com" in out
    assert "Sales Engineering Notes: 2 new posts" in out and "2 to send in 1 batch" in out
    assert eml_files(site) == [] and not (site / ".feedpub" / "journal.jsonl").exists()


def test_yes_sends_each_reader_a_copy_into_the_outbox_and_journals_it(site, capsys):
    code, out, err = run(capsys, "send", "--last", "2", "--yes")
    assert code == 0, err
    files = eml_files(site)
    assert [f.name for f in files] == ["reader1@example.com.eml", "reader2@example.com.eml"]
    body = files[0].read_text()
    assert "To: reader1@example.com" in body and "reader2" not in body
    assert "List-Unsubscribe: <https://blog.example.com/unsubscribe?email=reader1%40example.com&token=" in body
    assert SECRET not in body
    assert "Sent 2 of 2 recipients" in out and "recorded as sent" in out
    digests = sent_digests(site / ".feedpub" / "journal.jsonl")
    assert len(digests) == 1 and digests[0].subject == "Sales Engineering Notes: 2 new posts"

    code, out, _ = run(capsys, "send", "--last", "2", "--yes")       # the same digest again
    assert code == 0 and "already sent" in out and len(eml_files(site)) == 2
    code, out, _ = run(capsys, "send", "--yes")                       # since the last digest: nothing new
    assert code == 0 and "nothing new" in out


def test_json_output(site, capsys):
    code, out, _ = run(capsys, "send", "--last", "1", "--json")
    plan = json.loads(out)
    assert plan["dry_run"] is True and plan["recipients"] == 2 and plan["to_send"] == 2 and plan["provider"] == "outbox"
    code, out, _ = run(capsys, "send", "--last", "1", "--json", "--yes")
    report = json.loads(out)
    assert code == 0 and report["sent"] == 2 and report["complete"] is True and report["failed"] == []


def test_to_sends_one_test_copy_without_the_journal(site, capsys):
    code, out, _ = run(capsys, "send", "--last", "2", "--to", "me@example.org")
    assert code == 0 and "would send one test copy" in out and eml_files(site) == []
    code, out, _ = run(capsys, "send", "--last", "2", "--to", "me@example.org", "--yes")
    assert code == 0 and [f.name for f in eml_files(site)] == ["me@example.org.eml"]
    assert not (site / ".feedpub" / "journal.jsonl").exists()
    code, _, err = run(capsys, "send", "--last", "2", "--to", "not-an-address", "--yes")
    assert code == 2 and "not an email address" in err


def test_recipients_csv_bad_rows_reported_once_with_line_numbers(site, capsys):
    (site / "subs.csv").write_text("email,name\nann@example.com,Ann\nbroken,Bob\nANN@example.com,dup\ncid@example.com,\n")
    code, out, err = run(capsys, "send", "--last", "1", "--recipients", "subs.csv", "--yes")
    assert code == 0, err
    assert err.count("subs.csv:3") == 1 and "'broken' is not a valid email address" in err
    assert sorted(f.name for f in eml_files(site)) == ["ann@example.com.eml", "cid@example.com.eml"]


def test_usage_errors_exit_2(site, capsys):
    assert run(capsys, "send", "--since", "2024-01-01", "--last", "2")[0] == 2
    assert run(capsys, "send", "--resume-unknown", "--skip-unknown")[0] == 2
    assert run(capsys, "send", "--provider", "carrier-pigeon")[0] == 2


def test_missing_unsubscribe_secret_is_named(site, capsys, monkeypatch):
    monkeypatch.delenv("FEEDPUB_UNSUBSCRIBE_SECRET")
    code, _, err = run(capsys, "send", "--last", "2")
    assert code == 2 and "FEEDPUB_UNSUBSCRIBE_SECRET" in err


def test_dry_run_without_the_unsubscribe_secret_still_shows_the_plan(site, capsys, monkeypatch):
    monkeypatch.delenv("FEEDPUB_UNSUBSCRIBE_SECRET")
    code, out, err = run(capsys, "send", "--last", "2")
    assert code == 2
    assert "Dry run" in out and "reader1@example.com" in out
    assert "FEEDPUB_UNSUBSCRIBE_SECRET" in err
    code, out, err = run(capsys, "send", "--last", "2", "--yes")
    assert code == 2 and "FEEDPUB_UNSUBSCRIBE_SECRET" in err
    assert eml_files(site) == []


def test_missing_provider_key_is_named_even_in_a_dry_run(site, capsys, monkeypatch):
    monkeypatch.delenv("POSTMARK_SERVER_TOKEN", raising=False)
    code, _, err = run(capsys, "send", "--last", "2", "--provider", "postmark")
    assert code == 2 and "POSTMARK_SERVER_TOKEN" in err


def test_a_locked_journal_exits_3(site, capsys):
    with Journal(site / ".feedpub" / "journal.jsonl"):
        code, _, err = run(capsys, "send", "--last", "2", "--yes")
    assert code == 3 and "another 'feedpub send' is running" in err


def test_an_unknown_batch_needs_a_decision(site, capsys):
    set_send(site, 'from = "Blog <news@example.com>"\nto = ["reader1@example.com", "reader2@example.com"]\n'
                   'provider = "smtp"\nsmtp_host = "127.0.0.1"\nsmtp_port = 9\nsmtp_security = "none"\nretries = 0\n')
    code, out, _ = run(capsys, "send", "--last", "2", "--json")
    digest = json.loads(out)["digest_id"]
    hs = [recipient_hash("reader1@example.com")]
    with Journal(site / ".feedpub" / "journal.jsonl") as j:      # what a killed run leaves
        from datetime import datetime, timezone
        j.sending(digest, "b1", "k1", hs, provider="smtp", at=datetime(2026, 11, 23, tzinfo=timezone.utc))
    code, out, err = run(capsys, "send", "--last", "2")
    assert code == 0 and "--resume-unknown or --skip-unknown" in err      # the dry run warns
    code, _, err = run(capsys, "send", "--last", "2", "--yes")
    assert code == 3 and "--skip-unknown" in err and "--resume-unknown" in err


def test_a_failed_batch_exits_1_and_says_what_to_do(site, capsys):
    # Nothing listens on port 9 of 127.0.0.1: a connection error, no retries configured.
    set_send(site, 'from = "Blog <news@example.com>"\nto = ["reader1@example.com"]\nprovider = "smtp"\n'
                   'smtp_host = "127.0.0.1"\nsmtp_port = 9\nsmtp_security = "none"\nretries = 0\n')
    code, out, err = run(capsys, "send", "--last", "2", "--yes")
    assert code == 1
    assert "cannot connect to 127.0.0.1:9" in err and "run the same command again" in err
    assert sent_digests(site / ".feedpub" / "journal.jsonl") == []


def test_keys_never_appear_in_output_logs_or_journal(site, capsys, monkeypatch, httpserver):
    token = "pm-server-token-6f1d2c3b4a59"
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", token)
    monkeypatch.setenv("FEEDPUB_BASE_URL", httpserver.url_for("/").rstrip("/"))
    # The provider echoes the key back in its error, as some do.
    httpserver.expect_request("/message-streams/broadcast/suppressions/dump").respond_with_json({"Suppressions": []})
    httpserver.expect_request("/email/batch", method="POST").respond_with_json(
        {"ErrorCode": 10, "Message": f"Bad or missing Server API token {token}"}, status=401)
    code, out, err = run(capsys, "-v", "send", "--last", "2", "--provider", "postmark", "--yes")
    assert code == 1
    assert "401" in err or "token" in err.lower()
    journal = (site / ".feedpub" / "journal.jsonl").read_text()
    for text in (out, err, journal):
        assert token not in text
    code, out, err = run(capsys, "-v", "send", "--last", "2", "--provider", "postmark", "--yes", "--json")
    assert token not in out + err


def test_a_partly_sent_other_digest_is_warned_about(site, capsys):
    from datetime import datetime, timezone

    with Journal(site / ".feedpub" / "journal.jsonl") as j:
        at = datetime(2026, 11, 20, tzinfo=timezone.utc)
        j.sending("olddigest", "b1", "k", ["h1", "h2"], provider="outbox", at=at)
        j.sent("olddigest", "b1", ["i1", "i2"], at=at)
    code, out, err = run(capsys, "send", "--last", "2")
    assert code == 0 and "digest olddigest was sent to only 2 recipient(s)" in err
