"""Per-recipient unsubscribe URLs, tokens and List-Unsubscribe headers; message building."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest

from feedpub.config import SendConfig
from feedpub.errors import CredentialsError, SendError
from feedpub.model import Email
from feedpub.send.messages import build_message, to_email_message
from feedpub.send.recipients import Recipient
from feedpub.send.unsubscribe import Unsubscribe, make_token, verify_token

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
TEMPLATE = "https://example.com/unsubscribe?email={email}&token={token}"


def test_url_encodes_the_email_and_signs_the_lowercased_address():
    u = Unsubscribe.from_config(SendConfig(unsubscribe_url=TEMPLATE), {"FEEDPUB_UNSUBSCRIBE_SECRET": "s3cret-value"})
    url = u.url("Ann+news@Example.com")
    expected = hmac.new(b"s3cret-value", b"ann+news@example.com", hashlib.sha256).hexdigest()
    assert url == f"https://example.com/unsubscribe?email=Ann%2Bnews%40Example.com&token={expected}"
    assert verify_token("ann+NEWS@example.com", expected, "s3cret-value")
    assert not verify_token("bob@example.com", expected, "s3cret-value")
    assert make_token("a@b.co", "k") != make_token("a@b.co", "other")


def test_token_without_secret_is_an_error_naming_the_variable():
    with pytest.raises(CredentialsError) as info:
        Unsubscribe.from_config(SendConfig(unsubscribe_url=TEMPLATE), {})
    assert "FEEDPUB_UNSUBSCRIBE_SECRET" in str(info.value) and info.value.exit_code == 2


def test_no_secret_needed_without_token():
    u = Unsubscribe.from_config(SendConfig(unsubscribe_url="https://example.com/u/{email}"), {})
    assert u.url("a@b.co") == "https://example.com/u/a%40b.co"


def test_a_template_that_is_not_a_url_is_refused():
    with pytest.raises(SendError, match="http"):
        Unsubscribe.from_config(SendConfig(unsubscribe_url="example.com/u?e={email}"), {})


def test_headers_one_click_only_for_https_and_mailto_alternative():
    both = Unsubscribe.from_config(SendConfig(unsubscribe_url="https://x.test/u?e={email}", unsubscribe_mailto="mailto:leave@x.test"), {})
    h = both.headers("a@b.co")
    assert h["List-Unsubscribe"] == "<https://x.test/u?e=a%40b.co>, <mailto:leave@x.test?subject=unsubscribe%20a@b.co>"
    assert h["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = Unsubscribe(url_template="http://x.test/u?e={email}")
    assert "List-Unsubscribe-Post" not in plain.headers("a@b.co")
    only_mail = Unsubscribe(mailto="leave@x.test")
    assert only_mail.headers("a@b.co") == {"List-Unsubscribe": "<mailto:leave@x.test?subject=unsubscribe%20a@b.co>"}
    assert only_mail.link("a@b.co").startswith("mailto:")
    assert Unsubscribe().headers("a@b.co") == {}


def email(**kw) -> Email:
    base = dict(
        digest_id="d1", subject="Digest: ünïcode", from_addr="Blög <news@example.com>", date=NOW, post_ids=("p",),
        newest=NOW, reply_to="reply@example.com",
        html='<p>Hi</p><a href="%%UNSUBSCRIBE_URL%%">Unsubscribe</a>', text="Hi\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n",
        headers={"List-Unsubscribe": "<%%UNSUBSCRIBE_URL%%>", "X-Extra": "1"},
    )
    base.update(kw)
    return Email(**base)


def test_build_message_fills_the_placeholder_everywhere_per_recipient():
    u = Unsubscribe(url_template=TEMPLATE, secret="k")
    m = build_message(email(), Recipient("ann@example.com", "Ann"), u)
    url = u.url("ann@example.com")
    assert f'href="{url.replace("&", "&amp;")}"' in m.html
    assert f"Unsubscribe: {url}\n" in m.text
    assert m.headers["List-Unsubscribe"] == f"<{url}>" and m.headers["X-Extra"] == "1"
    assert m.to == "ann@example.com" and m.to_name == "Ann" and m.reply_to == "reply@example.com"
    assert m.digest_id == "d1" and m.date == NOW


def test_mime_copy_is_addressed_to_one_person_and_stable():
    u = Unsubscribe(url_template=TEMPLATE, secret="k")
    m = build_message(email(), Recipient("ann@example.com", "Ann Ö"), u)
    raw = to_email_message(m).as_bytes()
    assert raw == to_email_message(m).as_bytes()      # same copy, same bytes
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["To"].addresses[0].addr_spec == "ann@example.com" and parsed["To"].addresses[0].display_name == "Ann Ö"
    assert parsed["Subject"] == "Digest: ünïcode"
    assert parsed["Message-ID"] == f"<{m.message_id}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Date"] == "Mon, 23 Nov 2026 12:00:00 +0000"
    html = parsed.get_body(("html",)).get_content()
    assert u.url("ann@example.com").replace("&", "&amp;") in html and "%%" not in html
