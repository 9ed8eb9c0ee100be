"""Web copies of sent digests: public/digests/YYYY-MM-DD.html and an index page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lxml import html as lxml_html
from test_digest_support import NOW, MarkdownRender, make_config, make_site, sample_posts

from feedpub.digest import UNSUBSCRIBE_PLACEHOLDER, select, write_web_copies
from feedpub.digest.render import web_copy_url


@dataclass(frozen=True)
class Sent:  # the shape of feedpub.send.journal.SentDigest
    digest_id: str
    date: datetime
    post_ids: tuple[str, ...]
    subject: str


def setup(tmp_path, **sections):
    config = make_config(tmp_path, **sections)
    site = make_site(config, sample_posts(tmp_path))
    posts = site.posts
    sent = [
        Sent("a" * 24, NOW - timedelta(days=7), (posts[2].id,), "Test Blog: 1 new post"),
        Sent("b" * 24, NOW, (posts[0].id, posts[1].id), "Test Blog: 2 new posts"),
    ]
    return config, site, sent


def test_one_page_per_sent_digest_and_an_index(tmp_path):
    config, site, sent = setup(tmp_path)
    out = tmp_path / "public"
    outputs = write_web_copies(site, MarkdownRender(), config, out, sent)
    assert [(o.path.relative_to(out).as_posix(), o.kind, o.entries) for o in outputs] == [
        ("digests/2026-11-16.html", "digest-web", 1),
        ("digests/2026-11-23.html", "digest-web", 2),
        ("digests/index.html", "digest-index", 2),
    ]
    page = (out / "digests/2026-11-23.html").read_text("utf-8")
    tree = lxml_html.document_fromstring(page)
    assert tree.xpath("//title/text()") == ["Test Blog: 2 new posts"]
    assert [a.text for a in tree.xpath("//h2[contains(@class,'post-title')]/a")] == ["Third & <last> post", "Second post"]
    assert UNSUBSCRIBE_PLACEHOLDER not in page and "Unsubscribe" not in page and "View in browser" not in page
    index = lxml_html.document_fromstring((out / "digests/index.html").read_text("utf-8"))
    assert [(a.text, a.get("href")) for a in index.xpath("//li/a")] == [
        ("Test Blog: 2 new posts", "2026-11-23.html"),
        ("Test Blog: 1 new post", "2026-11-16.html"),
    ]


def test_the_email_links_to_its_web_copy(tmp_path):
    config, site, sent = setup(tmp_path)
    assert web_copy_url(config, sent[1].date) == "https://example.com/digests/2026-11-23.html"
    # in the site's time zone: 23:30 UTC is already the next day in Berlin
    berlin = make_config(tmp_path, site={"timezone": "Europe/Berlin"})
    assert web_copy_url(berlin, datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)).endswith("/2026-11-24.html")


def test_rebuilding_writes_the_same_bytes(tmp_path):
    config, site, sent = setup(tmp_path)
    out = tmp_path / "public"
    first = write_web_copies(site, MarkdownRender(), config, out, sent)
    before = {o.path: o.path.read_bytes() for o in first}
    again = write_web_copies(site, MarkdownRender(), config, out, sent)
    assert [o.changed for o in again] == [False, False, False]
    assert {o.path: o.path.read_bytes() for o in again} == before


def test_the_web_copy_matches_the_sent_email(tmp_path):
    """Re-rendered from the post ids, a copy shows what the email showed."""
    config, site, sent = setup(tmp_path)
    digest = select(site, now=NOW, last=2)
    out = tmp_path / "public"
    write_web_copies(site, MarkdownRender(), config, out, [Sent(digest.digest_id, NOW, digest.post_ids, "S")])
    page = (out / "digests/2026-11-23.html").read_text("utf-8")
    assert "The newest post, with a" in page and "excerpt: see" in page


def test_same_day_digests_get_numbered_pages(tmp_path):
    config, site, sent = setup(tmp_path)
    later = Sent("c" * 24, NOW + timedelta(hours=2), (site.posts[0].id,), "Extra")
    outputs = write_web_copies(site, MarkdownRender(), config, tmp_path / "p", sent + [later])
    assert [o.path.name for o in outputs] == ["2026-11-16.html", "2026-11-23.html", "2026-11-23-2.html", "index.html"]


def test_deleted_posts_are_left_out_and_empty_digests_skipped(tmp_path):
    config, site, sent = setup(tmp_path)
    gone = Sent("d" * 24, NOW - timedelta(days=30), ("https://example.com/deleted",), "Old")
    outputs = write_web_copies(site, MarkdownRender(), config, tmp_path / "p", [gone] + sent)
    assert [o.path.name for o in outputs] == ["2026-11-16.html", "2026-11-23.html", "index.html"]


def test_nothing_sent_writes_nothing(tmp_path):
    config, site, _ = setup(tmp_path)
    assert write_web_copies(site, MarkdownRender(), config, tmp_path / "p", []) == []
    assert not (tmp_path / "p").exists()


def test_archive_folder_is_configurable(tmp_path):
    config, site, sent = setup(tmp_path, digest={"archive": "newsletter/past"})
    outputs = write_web_copies(site, MarkdownRender(), config, tmp_path / "p", sent)
    assert outputs[0].path == tmp_path / "p" / "newsletter/past/2026-11-16.html"
