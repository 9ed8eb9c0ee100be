"""digest.eml: the MIME message parsed back with the standard library's email package."""
from __future__ import annotations

import dataclasses
import email
import email.policy
from email.utils import parsedate_to_datetime

import pytest
from test_digest_support import NOW, MarkdownRender, make_config, make_site, sample_posts

from feedpub.digest import UNSUBSCRIBE_PLACEHOLDER, message_id, render_digest, select, to_mime
from feedpub.errors import DigestError

URL = "https://example.com/unsub?e=ann%40example.com&t=abc"


@pytest.fixture
def rendered(tmp_path):
    config = make_config(tmp_path, send={"reply_to": "Editor <editor@example.com>"})
    site = make_site(config, sample_posts(tmp_path))
    return render_digest(select(site, now=NOW), MarkdownRender(), config, NOW)


def parse(msg):
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_multipart_alternative_utf8_text_then_html(rendered):
    parsed = parse(to_mime(rendered, to="Ann <ann@example.com>", unsubscribe_url=URL))
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    text, html = (p.get_content() for p in parts)
    assert text == rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, URL)
    assert "Unsubscribe: " + URL in text
    assert 'href="https://example.com/unsub?e=ann%40example.com&amp;t=abc"' in html
    assert UNSUBSCRIBE_PLACEHOLDER not in html
    for line in parsed.as_bytes().split(b"\n"):
        assert len(line) <= 998


def test_headers(rendered):
    parsed = parse(to_mime(rendered, to="Ann <ann@example.com>", unsubscribe_url=URL))
    assert parsed["From"] == "Test Blog <news@example.com>"
    assert parsed["To"] == "Ann <ann@example.com>"
    assert parsed["Reply-To"] == "Editor <editor@example.com>"
    assert parsed["Subject"] == "Test Blog: 3 new posts"
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed["Message-ID"] == message_id(rendered.digest_id, "ann@example.com", rendered.from_addr)
    assert parsed["Message-ID"].startswith(f"<{rendered.digest_id}.") and parsed["Message-ID"].endswith("@example.com>")
    assert parsed["List-Unsubscribe"] == f"<{URL}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["MIME-Version"] == "1.0"


def test_message_id_is_stable_per_digest_and_recipient(rendered):
    a = to_mime(rendered, to="ann@example.com")["Message-ID"]
    assert a == to_mime(rendered, to="Ann <ANN@example.com>")["Message-ID"]
    assert a != to_mime(rendered, to="bo@example.com")["Message-ID"]
    other = dataclasses.replace(rendered, digest_id="0" * 24)
    assert a != to_mime(other, to="ann@example.com")["Message-ID"]


def test_without_recipient_the_to_header_is_a_placeholder(rendered):
    parsed = parse(to_mime(rendered))
    assert parsed["To"] == "undisclosed-recipients:;"


def test_unfilled_unsubscribe_header_is_left_out(rendered):
    parsed = parse(to_mime(rendered, to="ann@example.com"))
    assert parsed["List-Unsubscribe"] is None


def test_non_ascii_subject_and_body_round_trip(rendered):
    fancy = dataclasses.replace(rendered, subject="Café ☕: 3 neue Beiträge", text="Grüße — ☕\n")
    parsed = parse(to_mime(fancy, to="ann@example.com"))
    assert parsed["Subject"] == "Café ☕: 3 neue Beiträge"
    assert parsed.get_body(("plain",)).get_content() == "Grüße — ☕\n"


def test_extra_headers_replace_and_cannot_inject(rendered):
    parsed = parse(to_mime(rendered, to="ann@example.com", extra_headers={"X-Campaign": "weekly", "Reply-To": "x@example.com"}))
    assert parsed["X-Campaign"] == "weekly"
    assert parsed.get_all("Reply-To") == ["x@example.com"]
    with pytest.raises(DigestError, match="invalid email header"):
        to_mime(rendered, to="ann@example.com", extra_headers={"X-Bad": "a\r\nBcc: victim@example.com"})


def test_a_digest_without_sender_is_refused(rendered):
    with pytest.raises(DigestError, match="no sender") as info:
        to_mime(dataclasses.replace(rendered, from_addr=""))
    assert "[send] from" in info.value.hint
