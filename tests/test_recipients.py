"""Recipients: [send] to, CSV with line numbers, duplicates, suppression, streaming."""
from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from feedpub.errors import SendError
from feedpub.send.recipients import (
    Recipient, RecipientSource, from_list, is_valid_email, parse_recipient, read_csv, unique,
)


@pytest.mark.parametrize("address, ok", [
    ("ann@example.com", True), ("first.last+tag@sub.example.co.uk", True), ("o'brien@example.ie", True),
    ("", False), ("ann", False), ("ann@", False), ("@example.com", False), ("ann@example", False),
    ("ann@@example.com", False), ("ann example@example.com", False), ("ann..b@example.com", False),
    (".ann@example.com", False), ("ann@-example.com", False), ("<ann@example.com>", False),
    ("a" * 65 + "@example.com", False),
])
def test_address_validation(address, ok):
    assert is_valid_email(address) is ok


def test_to_entries_may_carry_names_and_bad_ones_are_reported():
    problems = []
    got = list(from_list(["Ann Author <ann@example.com>", "bob@example.com", "not an address"], on_problem=problems.append))
    assert got == [Recipient("ann@example.com", "Ann Author"), Recipient("bob@example.com")]
    assert "entry 3" in problems[0].message and problems[0].severity == "warning"
    assert parse_recipient("  x@example.com ") == Recipient("x@example.com")


def test_csv_with_header_any_order_bad_rows_reported_with_line_numbers(tmp_path):
    path = tmp_path / "subs.csv"
    path.write_text(
        "Name,EMAIL,plan\n"
        "Ann,ann@example.com,free\n"
        "\"Bob, Jr.\nthe second\",bob@example.com,paid\n"   # a quoted name spanning two lines
        "Carl,carl(at)example.com,free\n"
        ",,\n"
        "Dee,,free\n"
        "Eve,eve@example.com\n",
        "utf-8",
    )
    problems = []
    got = list(read_csv(path, on_problem=problems.append))
    assert [r.email for r in got] == ["ann@example.com", "bob@example.com", "eve@example.com"]
    assert got[1].name == "Bob, Jr.\nthe second"
    assert [(p.line, p.path) for p in problems] == [(5, str(path)), (7, str(path))]
    assert "carl(at)example.com" in problems[0].message and "(empty)" in problems[1].message


def test_csv_with_bom_and_only_an_email_column(tmp_path):
    path = tmp_path / "subs.csv"
    path.write_bytes("\ufeffemail\nann@example.com\n".encode("utf-8"))
    assert list(read_csv(path)) == [Recipient("ann@example.com")]


def test_csv_without_email_column_is_an_error_on_line_1(tmp_path):
    path = tmp_path / "subs.csv"
    path.write_text("address,name\nann@example.com,Ann\n")
    with pytest.raises(SendError) as info:
        list(read_csv(path))
    assert info.value.line == 1 and "email" in info.value.message


def test_missing_csv_is_an_error_naming_it(tmp_path):
    with pytest.raises(SendError, match="not found"):
        list(read_csv(tmp_path / "nope.csv"))


def test_duplicates_are_sent_once_case_insensitively():
    rs = [Recipient("Ann@Example.com", "Ann"), Recipient("ann@example.com"), Recipient("bob@example.com")]
    assert list(unique(rs)) == [Recipient("Ann@Example.com", "Ann"), Recipient("bob@example.com")]


def test_suppressed_addresses_are_left_out(tmp_path):
    (tmp_path / "subs.csv").write_text("email\nann@example.com\nbob@example.com\n")
    (tmp_path / "suppress.csv").write_text("email\nBOB@example.com\n")
    source = RecipientSource(csv_path=tmp_path / "subs.csv", suppress=tmp_path / "suppress.csv")
    assert [r.email for r in source] == ["ann@example.com"]
    assert [r.email for r in source] == ["ann@example.com"]   # re-iterable: streams the file again


def test_100k_rows_are_streamed(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("email,name\n")
        for i in range(100_000):
            fh.write(f"user{i}@example.com,User {i}\n")
    source = RecipientSource(csv_path=path)
    it = iter(source)
    assert next(it).email == "user0@example.com"   # the first row comes before the file is read
    tracemalloc.start()
    try:
        count = 1 + sum(1 for _ in it)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    # Only the set of seen addresses grows (about 100 bytes each); the rows themselves are
    # never all in memory (that would be several times more as Recipient objects).
    assert peak < 16 * 1024 * 1024, peak
