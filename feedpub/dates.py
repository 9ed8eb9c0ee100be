"""Post dates the way Jekyll blogs write them.

Front matter dates reach this module as the text written in the file (``feedpub.yamlsafe``
never lets PyYAML turn them into ``date``/``datetime`` objects), so every spelling goes
through one parser:

    2024-07-18 08:20:00 -0600     Jekyll's usual format (PyYAML leaves it a string)
    2024-07-18 08:20:00 +00:00    offset with a colon
    2024-07-18T08:20:00Z          ISO 8601 / RFC 3339
    2024-07-18 08:20              naive: takes the site's time zone
    2024-07-18                    bare date: midnight in the site's time zone
    2017-2-5                      unpadded, as in Jekyll file names
    2023-01-29 18:30:22 2023 -0800    the year repeated (Ruby's Time.parse accepts it)
    Thu, 18 Jul 2024 08:20:00 -0600   RFC 2822, as some importers write

Impossible dates (``2024-02-30``) are errors, never silently moved.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

_DATE = re.compile(
    r"""\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})
    (?:(?:[Tt]|[ \t]+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?)?
    (?:[ \t]+(?P<y2>\d{4})(?=[ \t]))?   # "18:30:22 2023 -0800" (the year again, as `date` prints it)
    [ \t]*(?P<tz>[Zz]|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?\s*\Z""",
    re.X,
)
_FILENAME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})-(.*)\Z", re.S)

EXPECTED = "a date like 2024-07-18, 2024-07-18 08:20:00 or 2024-07-18 08:20:00 -0600"


class DateError(ValueError):
    """The text is not a date, or names a day that does not exist."""


def parse_date(text: str, tz: tzinfo) -> datetime:
    """An aware datetime from ``text``; naive values are in ``tz``. Raises DateError."""
    m = _DATE.match(text)
    if m is None or (m["y2"] and m["y2"] != m["y"]):
        return _fallback(text, tz)
    try:
        value = datetime(
            int(m["y"]), int(m["m"]), int(m["d"]),
            int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0),
            int((m["f"] or "0")[:6].ljust(6, "0")),
        )
    except ValueError as exc:
        raise DateError(f"{exc}") from None
    offset = m["tz"]
    if not offset:
        return value.replace(tzinfo=tz)
    if offset in ("Z", "z", "UTC", "GMT"):
        return value.replace(tzinfo=timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 23 or minutes > 59:
        raise DateError(f"time zone offset {offset} is out of range")
    return value.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))


def in_zone(value: datetime, tz: tzinfo) -> datetime:
    """``value`` in ``tz`` (and checked to exist in UTC): DateError near year 1 or 9999."""
    try:
        value.astimezone(timezone.utc)
        return value if value.tzinfo is tz else value.astimezone(tz)
    except OverflowError:
        raise DateError(f"{value.isoformat()} is out of range (years 1 to 9999 in every time zone)") from None


def _fallback(text: str, tz: tzinfo) -> datetime:
    """RFC 2822 and whatever ``datetime.fromisoformat`` accepts."""
    stripped = text.strip()
    if stripped and not stripped[0].isdigit():
        try:
            value = parsedate_to_datetime(stripped)
        except (TypeError, ValueError, IndexError):
            value = None
        if value is not None:
            return value if value.tzinfo else value.replace(tzinfo=tz)
    try:
        value = datetime.fromisoformat(stripped)
    except ValueError:
        raise DateError(f"expected {EXPECTED}") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def filename_date(stem: str) -> tuple[date, str] | None:
    """``("2017-2-5-i-dont-like-zeroes")`` -> ``(date(2017, 2, 5), "i-dont-like-zeroes")``.

    None when the name does not start with a date; DateError when it starts with an
    impossible one (``2024-02-30-x``).
    """
    m = _FILENAME.match(stem)
    if m is None:
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise DateError(f"{exc}") from None
    return day, m[4]


def at_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)
