"""The local suppression list: created on first use, whole-address case-insensitive
matching, atomic and serialized edits, and the send path never mails a listed address."""
from __future__ import annotations

import multiprocessing
import os
from datetime import date
from pathlib import Path

import pytest

from feedpub import atomicio
from feedpub.errors import SendError
from feedpub.send.recipients import RecipientSource, read_suppressed
from feedpub.send.suppress import SuppressionList, read_import

TODAY = date(2026, 11, 23)


def test_created_on_first_use_with_a_header(tmp_path):
    path = tmp_path / "lists" / "unsubscribed.csv"
    lst = SuppressionList(path)
    assert lst.addresses() == frozenset() and not path.exists()
    result = lst.add([("Ann@Example.org", "asked by email")], today=TODAY)
    assert result.added == ["Ann@Example.org"]
    assert path.read_text("utf-8") == "email,reason,date\nAnn@Example.org,asked by email,2026-11-23\n"


def test_matching_is_case_insensitive_on_the_whole_address(tmp_path):
    lst = SuppressionList(tmp_path / "s.csv")
    lst.add([("Ann@Example.org", "")], today=TODAY)
    assert "ann@example.org" in lst and "ANN@EXAMPLE.ORG" in lst
    assert "nn@example.org" not in lst and "ann@example.org.evil" not in lst and "joann@example.org" not in lst
    again = lst.add([("ann@EXAMPLE.org", "twice")], today=TODAY)
    assert again.added == [] and again.already == ["ann@EXAMPLE.org"]
    assert (tmp_path / "s.csv").read_text("utf-8").count("\n") == 2  # header + one row


def test_invalid_addresses_are_not_added(tmp_path):
    lst = SuppressionList(tmp_path / "s.csv")
    result = lst.add([("not an address", ""), ("ok@example.org", "")], today=TODAY)
    assert result.added == ["ok@example.org"] and "not a valid email address" in result.invalid[0][1]


def test_reasons_with_commas_quotes_and_newlines_round_trip(tmp_path):
    path = tmp_path / "s.csv"
    SuppressionList(path).add([("a@example.org", 'said "stop", twice\nplease')], today=TODAY)
    assert SuppressionList(path).addresses() == {"a@example.org"}
    assert '"said ""stop"", twice please"' in path.read_text("utf-8")


def test_hand_edited_file_is_kept(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Email,Note,Date\nold@example.org,by hand,2020-01-01", "utf-8")  # no final newline
    SuppressionList(path).add([("new@example.org", "x")], today=TODAY)
    assert path.read_text("utf-8").splitlines() == [
        "Email,Note,Date", "old@example.org,by hand,2020-01-01", "new@example.org,x,2026-11-23"]


def test_file_without_email_column_is_an_error(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("address\nx@example.org\n", "utf-8")
    with pytest.raises(SendError, match="no 'email' column"):
        SuppressionList(path).add([("y@example.org", "")], today=TODAY)
    assert path.read_text("utf-8") == "address\nx@example.org\n"


def test_a_failed_write_leaves_the_old_list(tmp_path, monkeypatch):
    path = tmp_path / "s.csv"
    SuppressionList(path).add([("a@example.org", "")], today=TODAY)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(Exception):
        SuppressionList(path).add([("b@example.org", "")], today=TODAY)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.csv.lock"]  # no temp file left


def _add_many(path: str, start: int) -> None:
    lst = SuppressionList(Path(path))
    for i in range(start, start + 10):
        lst.add([(f"user{i}@example.org", "")], today=TODAY)


def test_concurrent_edits_lose_nothing(tmp_path):
    path = tmp_path / "s.csv"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_add_many, args=(str(path), n * 100)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len(SuppressionList(path).addresses()) == 40
    assert path.read_text("utf-8").count("email,reason,date") == 1


def test_engine_reader_and_send_path_skip_listed_addresses(tmp_path):
    path = tmp_path / "s.csv"
    SuppressionList(path).add([("Gone@Example.org", "bounced")], today=TODAY)
    assert read_suppressed(path) == {"gone@example.org"}
    recipients = tmp_path / "r.csv"
    recipients.write_text("email,name\ngone@example.org,G\nstay@example.org,S\nGONE@EXAMPLE.ORG,G2\n", "utf-8")
    assert [r.email for r in RecipientSource(csv_path=recipients, suppress=path)] == ["stay@example.org"]


def test_read_import_plain_lines_and_csv(tmp_path):
    plain = tmp_path / "list.txt"
    plain.write_text("# exported\na@example.org\n\nBob <b@example.org>\nnope\n", "utf-8")
    assert list(read_import(plain)) == [
        (2, "a@example.org", "a@example.org"), (4, "b@example.org", "Bob <b@example.org>"),
        (5, None, "'nope' is not a valid email address")]
    table = tmp_path / "list.csv"
    table.write_text("name,EMAIL\nA,a@example.org\nB,bad\n", "utf-8")
    rows = list(read_import(table))
    assert rows[0] == (None, "a@example.org", "a@example.org")
    assert rows[1][0] == 3 and rows[1][1] is None and "'bad' is not a valid email address" in rows[1][2]
