"""The outbox provider: one readable .eml per recipient, stable names, idempotent rewrites."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from feedpub.config import SendConfig
from feedpub.errors import ProviderError, SendError
from feedpub.model import Email
from feedpub.send import deliver
from feedpub.send.journal import Journal
from feedpub.send.messages import build_message
from feedpub.send.outbox import OutboxSender, factory, file_name
from feedpub.send.recipients import Recipient
from feedpub.send.registry import make_sender
from feedpub.send.unsubscribe import Unsubscribe

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
EMAIL = Email(digest_id="abc", subject="Weekly", html='<p>Hello <a href="%%UNSUBSCRIBE_URL%%">unsubscribe</a></p>',
              text="Hello\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n", from_addr="Blog <news@example.com>", date=NOW,
              post_ids=("p",), newest=NOW, headers={"List-Unsubscribe": "<%%UNSUBSCRIBE_URL%%>"})


def test_each_recipient_gets_a_file_that_mail_clients_can_read(tmp_path):
    unsub = Unsubscribe("https://example.com/u?e={email}")
    people = [Recipient("ann@example.com", "Ann"), Recipient("Bob@Example.com")]
    report = deliver(EMAIL, people, OutboxSender(tmp_path / "outbox"), Journal(tmp_path / "j.jsonl"), now=NOW, unsubscribe=unsub)
    assert report.complete
    files = sorted(p.name for p in (tmp_path / "outbox" / "abc").iterdir())
    assert files == ["ann@example.com.eml", "bob@example.com.eml"]
    msg = message_from_bytes((tmp_path / "outbox" / "abc" / "bob@example.com.eml").read_bytes(), policy=policy.default)
    assert str(msg["To"]) == "Bob@Example.com" and msg["Subject"] == "Weekly"
    assert msg["List-Unsubscribe"] == "<https://example.com/u?e=Bob%40Example.com>"
    assert "https://example.com/u?e=Bob%40Example.com" in msg.get_body(("plain",)).get_content()
    assert "ann" not in msg.as_string().lower()


def test_writing_again_gives_the_same_file_and_bytes(tmp_path):
    sender = OutboxSender(tmp_path)
    m = build_message(EMAIL, Recipient("ann@example.com"))
    sender.send_batch([m], idempotency_key="k")
    path = sender.path_for(m)
    first = path.read_bytes()
    sender.send_batch([m], idempotency_key="k")
    assert path.read_bytes() == first and len(list(path.parent.iterdir())) == 1


@pytest.mark.parametrize("address", ["a/b@example.com", "../x@example.com", "a b@example.com", "ü@example.com"])
def test_file_names_are_safe_and_distinct(address):
    name = file_name(address)
    assert "/" not in name and not name.startswith(".") and name.endswith(".eml") and " " not in name
    assert file_name(address) == name and file_name(address.upper()) == name   # stable, case-insensitive
    assert name != file_name("ab@example.com")


def test_unwritable_outbox_is_a_provider_error(tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("x")
        folder = blocker / "outbox"          # a folder under a file cannot be created, even by root
    else:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o500)
    with pytest.raises(ProviderError, match="cannot write"):
        OutboxSender(folder).send_batch([build_message(EMAIL, Recipient("a@example.com"))], idempotency_key="k")


def test_outbox_is_the_default_provider_and_idempotent(tmp_path):
    assert SendConfig().provider == "outbox"
    sender = make_sender(SendConfig(outbox=str(tmp_path / "o")), {})
    assert isinstance(sender, OutboxSender) and sender.idempotent and sender.folder == tmp_path / "o"
    with pytest.raises(SendError):
        factory(SendConfig(outbox=""), {})
