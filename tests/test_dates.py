"""Post dates in the spellings Jekyll blogs use."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feedpub.dates import DateError, filename_date, parse_date

DENVER = ZoneInfo("America/Denver")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-18 08:20:00 -0600", datetime(2024, 7, 18, 14, 20, tzinfo=timezone.utc)),
        ("2010-01-10 13:07:09 +00:00", datetime(2010, 1, 10, 13, 7, 9, tzinfo=timezone.utc)),
        ("2024-07-18T08:20:00Z", datetime(2024, 7, 18, 8, 20, tzinfo=timezone.utc)),
        ("2015-05-12T13:27:59+00:00", datetime(2015, 5, 12, 13, 27, 59, tzinfo=timezone.utc)),
        ("2024-07-18 08:20:00.5 +0530", datetime(2024, 7, 18, 2, 50, 0, 500000, tzinfo=timezone.utc)),
        ("2024-07-18 08:20 UTC", datetime(2024, 7, 18, 8, 20, tzinfo=timezone.utc)),
        ("Thu, 18 Jul 2024 08:20:00 -0600", datetime(2024, 7, 18, 14, 20, tzinfo=timezone.utc)),
        ("2023-01-29 18:30:22 2023 -0800", datetime(2023, 1, 30, 2, 30, 22, tzinfo=timezone.utc)),
    ],
)
def test_dates_with_offsets(text, expected):
    value = parse_date(text, DENVER)
    assert value == expected
    assert value.utcoffset() is not None


def test_offset_kept_as_written():
    value = parse_date("2024-07-18 08:20:00 -0600", timezone.utc)
    assert value.utcoffset() == timedelta(hours=-6)
    assert (value.hour, value.minute) == (8, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2010-01-10 13:07:09", datetime(2010, 1, 10, 13, 7, 9)),
        ("2010-01-10", datetime(2010, 1, 10)),
        ("2017-2-5", datetime(2017, 2, 5)),
        ("2024-07-18 8:05", datetime(2024, 7, 18, 8, 5)),
    ],
)
def test_naive_dates_take_the_site_timezone(text, expected):
    value = parse_date(text, DENVER)
    assert value.tzinfo is DENVER
    assert value.replace(tzinfo=None) == expected
    # January in Denver is UTC-7, July is UTC-6 (the zone, not a fixed offset)
    assert value.utcoffset() == (timedelta(hours=-6) if expected.month == 7 else timedelta(hours=-7))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2024-02-30", "day is out of range for month"),
        ("2023-02-29 10:00:00", "day is out of range"),
        ("2024-13-01", "month must be in 1..12"),
        ("2024-01-01 25:00:00", "hour must be in 0..23"),
        ("2024-01-01 10:00:00 +2500", "offset +2500 is out of range"),
        ("next tuesday", "expected a date like"),
        ("", "expected a date like"),
        ("2024", "expected a date like"),
        ("2023-01-29 18:30:22 2022 -0800", "expected a date like"),
    ],
)
def test_impossible_and_unparseable_dates(text, fragment):
    with pytest.raises(DateError) as info:
        parse_date(text, DENVER)
    assert fragment in str(info.value)


def test_filename_dates():
    assert filename_date("2017-2-5-i-dont-like-zeroes") == (date(2017, 2, 5), "i-dont-like-zeroes")
    assert filename_date("2024-07-18-sustaining-a-career") == (date(2024, 7, 18), "sustaining-a-career")
    assert filename_date("2018-10-12-trailing-dots..") == (date(2018, 10, 12), "trailing-dots..")
    assert filename_date("about") is None
    assert filename_date("2024-07-18") is None  # a date but no slug: not a post name
    with pytest.raises(DateError):
        filename_date("2024-02-30-leap")
