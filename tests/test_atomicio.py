"""Atomic writes: a failure leaves the previous file(s) and no temp file behind."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedpub.atomicio import open_atomic, write_bytes, write_many
from feedpub.errors import OutputError


def temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


def test_write_bytes_reports_whether_the_file_changed(tmp_path: Path) -> None:
    target = tmp_path / "out" / "feed.xml"
    assert write_bytes(target, b"one") is True
    mtime = target.stat().st_mtime_ns
    assert write_bytes(target, b"one") is False
    assert target.stat().st_mtime_ns == mtime
    assert write_bytes(target, b"two") is True
    assert target.read_bytes() == b"two"
    assert temp_files(target.parent) == []


def test_an_exception_inside_open_atomic_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with open_atomic(target) as fh:
            fh.write(b"half of the new")
            raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert temp_files(tmp_path) == []


def test_write_many_renames_nothing_when_one_file_cannot_be_written(tmp_path: Path) -> None:
    good = tmp_path / "feed.xml"
    good.write_bytes(b"old atom")
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"a file where a folder should be")
    with pytest.raises(OutputError) as info:
        write_many({good: b"new atom", blocked / "rss.xml": b"new rss"})
    assert good.read_bytes() == b"old atom"
    assert "not-a-folder" in str(info.value) and "intact" in str(info.value)
    assert temp_files(tmp_path) == []


def test_write_many_skips_unchanged_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_bytes(b"same")
    assert write_many({a: b"same", b: b"new"}) == {a: False, b: True}


def test_single_file_writes_leave_other_temp_files_alone(tmp_path: Path) -> None:
    # The outbox writes thousands of files into one folder, one at a time: a single-file
    # write must not list the folder (that made sending quadratic in the readers).
    old_temp = tmp_path / ".a.eml.123.tmp"
    old_temp.write_bytes(b"left by a killed run")
    os.utime(old_temp, (0, 0))
    write_bytes(tmp_path / "a.eml", b"x")
    assert old_temp.exists()
    write_many({tmp_path / "a.eml": b"y"})
    assert not old_temp.exists()
