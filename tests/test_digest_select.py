"""Which posts a digest holds: --since, --last, since the last sent digest, first run."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from test_digest_support import NOW, days_ago, make_config, make_site, sample_posts, write_post

from feedpub.digest import digest_id, parse_since, select
from feedpub.errors import DigestError


@pytest.fixture
def site(tmp_path):
    config = make_config(tmp_path)
    old = write_post(tmp_path, "old", "Old post", "Old.\n", date=days_ago(40))
    return make_site(config, sample_posts(tmp_path) + [old])


def titles(digest):
    return [p.title for p in digest.all_posts]


def test_first_run_takes_the_window_and_says_so(site):
    digest = select(site, now=NOW)
    assert titles(digest) == ["Third & <last> post", "Second post", "First post"]
    assert "last 7 days" in digest.reason and "no digest has been sent" in digest.reason


def test_first_run_window_is_configurable(tmp_path, site):
    config = make_config(tmp_path, digest={"window": 2})
    digest = select(make_site(config, list(site.posts)), now=NOW)
    assert titles(digest) == ["Third & <last> post"]
    assert "last 2 days" in digest.reason


def test_since_the_last_sent_digest_is_strictly_newer(site):
    second = next(p for p in site.posts if p.title == "Second post")
    digest = select(site, now=NOW, last_sent=second.date)
    assert titles(digest) == ["Third & <last> post"]
    assert "since the last digest" in digest.reason


def test_since_date_includes_posts_of_that_day(site):
    since = parse_since(days_ago(3).date().isoformat(), timezone.utc)
    digest = select(site, now=NOW, since=since)
    assert titles(digest) == ["Third & <last> post", "Second post"]
    assert digest.reason.startswith("posts since ")


def test_since_overrides_the_journal_and_can_reach_the_archive(site):
    digest = select(site, now=NOW, since=days_ago(100), last_sent=days_ago(2))
    assert len(digest.all_posts) == 4


def test_last_n_ignores_dates(site):
    digest = select(site, now=NOW, last=4, last_sent=NOW)
    assert titles(digest)[-1] == "Old post"
    assert digest.reason == "the last 4 posts"
    assert select(site, now=NOW, last=1).reason == "the last 1 post"


def test_nothing_new_gives_none(site):
    assert select(site, now=NOW, last_sent=NOW - timedelta(hours=1)) is None
    assert select(site, now=NOW + timedelta(days=30)) is None
    assert select(site, now=NOW, since=NOW) is None


def test_max_posts_caps_the_main_list_the_rest_are_more(tmp_path, site):
    config = make_config(tmp_path, digest={"max_posts": 2})
    digest = select(make_site(config, list(site.posts)), now=NOW)
    assert [p.title for p in digest.posts] == ["Third & <last> post", "Second post"]
    assert [p.title for p in digest.more] == ["First post"]
    assert digest.count == 3
    assert len(digest.post_ids) == 3


def test_future_posts_and_feed_false_posts_are_never_sent(tmp_path):
    config = make_config(tmp_path)
    posts = [
        write_post(tmp_path, "future", "Future", "Later.\n", date=NOW + timedelta(hours=1)),
        write_post(tmp_path, "hidden", "Hidden", "Not in feeds.\n", date=days_ago(1), in_feeds=False),
        write_post(tmp_path, "shown", "Shown", "Yes.\n", date=days_ago(2)),
    ]
    digest = select(make_site(config, posts), now=NOW)
    assert titles(digest) == ["Shown"]


def test_digest_id_comes_from_post_ids_not_time(site):
    a = select(site, now=NOW)
    b = select(site, now=NOW + timedelta(hours=5), since=days_ago(7))
    assert a.digest_id == b.digest_id == digest_id(list(reversed(a.post_ids)))
    c = select(site, now=NOW, last=2)
    assert c.digest_id != a.digest_id
    assert len(a.digest_id) == 24 and int(a.digest_id, 16) >= 0


def test_since_and_last_together_are_refused(site):
    with pytest.raises(DigestError, match="--since and --last"):
        select(site, now=NOW, since=days_ago(1), last=2)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-07-18", datetime(2024, 7, 18, tzinfo=timezone(timedelta(hours=-6)))),
    ("2024-07-18T08:20:00+02:00", datetime(2024, 7, 18, 8, 20, tzinfo=timezone(timedelta(hours=2)))),
    ("2024-07-18 08:20", datetime(2024, 7, 18, 8, 20, tzinfo=timezone(timedelta(hours=-6)))),
    ("2024-07-18T08:20:00Z", datetime(2024, 7, 18, 8, 20, tzinfo=timezone.utc)),
])
def test_parse_since(text, expected):
    assert parse_since(text, timezone(timedelta(hours=-6))) == expected


def test_parse_since_rejects_nonsense():
    with pytest.raises(DigestError, match="expected a date like 2024-07-18"):
        parse_since("last tuesday", timezone.utc)
