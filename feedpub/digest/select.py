"""Choosing the posts of a digest.

Rules, first that applies wins:

1. ``since``: the posts dated at or after that moment (``--since DATE``);
2. ``last``: the newest ``last`` posts (``--last N``);
3. ``last_sent``: the posts newer than the newest post of the last digest that was sent
   completely (the send journal);
4. nothing sent yet: the posts of the last ``[digest] window`` days, so a first run
   never mails the whole archive; the digest's ``reason`` says so.

Nothing new gives ``None``: callers say so and send nothing. Posts dated after ``now``
and posts with ``feed: false`` are never included. The first ``[digest] max_posts``
posts are shown in full; the rest are listed as links under "More posts".
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from ..errors import DigestError
from ..model import Post, Site


@dataclass(frozen=True, slots=True)
class Digest:
    """The posts of one digest, newest first, and why these were chosen."""

    digest_id: str
    posts: tuple[Post, ...]      # shown with their excerpt or content
    more: tuple[Post, ...]       # beyond [digest] max_posts: listed as links
    date: datetime               # the `now` it was selected for
    reason: str                  # e.g. "posts of the last 7 days (no digest sent yet)"
    since: datetime | None = None

    @property
    def all_posts(self) -> tuple[Post, ...]:
        return self.posts + self.more

    @property
    def post_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.all_posts)

    @property
    def newest(self) -> datetime:
        return max(p.date for p in self.all_posts)

    @property
    def count(self) -> int:
        return len(self.posts) + len(self.more)


def digest_id(post_ids: tuple[str, ...] | list[str]) -> str:
    """A stable id for a set of posts: the same posts give the same id on any day."""
    joined = "\n".join(sorted(post_ids)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:24]


def select(
    site: Site,
    *,
    now: datetime,
    since: datetime | None = None,
    last: int | None = None,
    last_sent: datetime | None = None,
) -> Digest | None:
    """The digest of ``site``'s posts for ``now`` (see the module docstring), or None."""
    if since is not None and last is not None:
        raise DigestError("--since and --last cannot be used together", hint="choose one of them")
    if last is not None and last < 1:
        raise DigestError(f"--last must be at least 1, got {last}")
    candidates = [p for p in site.posts if p.in_feeds and p.date <= now]
    candidates.sort(key=lambda p: p.sort_key, reverse=True)
    config = site.config
    tz = config.tz
    cutoff: datetime | None
    if since is not None:
        cutoff = since
        chosen = [p for p in candidates if p.date >= since]
        reason = f"posts since {_day(since, tz)}"
    elif last is not None:
        cutoff = None
        chosen = candidates[:last]
        reason = f"the last {len(chosen)} {'post' if len(chosen) == 1 else 'posts'}"
    elif last_sent is not None:
        cutoff = last_sent
        chosen = [p for p in candidates if p.date > last_sent]
        reason = f"posts since the last digest (its newest post: {_day(last_sent, tz)})"
    else:
        days = config.digest.window
        cutoff = now - timedelta(days=days)
        chosen = [p for p in candidates if p.date > cutoff]
        reason = f"posts of the last {days} {'day' if days == 1 else 'days'} (no digest has been sent yet)"
    if not chosen:
        return None
    cap = config.digest.max_posts
    return Digest(
        digest_id=digest_id([p.id for p in chosen]),
        posts=tuple(chosen[:cap]),
        more=tuple(chosen[cap:]),
        date=now,
        reason=reason,
        since=cutoff,
    )


def parse_since(text: str, tz: tzinfo) -> datetime:
    """``2024-07-18`` (midnight in the site's zone) or an ISO 8601 date-time."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DigestError(
            f"--since: expected a date like 2024-07-18 or 2024-07-18T08:00:00+02:00, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _day(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    if local.time() == time(0):
        return local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")
