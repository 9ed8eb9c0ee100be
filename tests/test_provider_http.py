"""The shared HTTP layer: Retry-After, error summaries, the redacting --verbose dump, and
merge (rendered per-recipient messages back to one template + variables)."""
from __future__ import annotations

import json

import httpx
import pytest

from feedpub.errors import ProviderError
from feedpub.send.base import OutgoingMessage
from feedpub.send.http import check, dump_request, parse_retry_after, summarize_error
from feedpub.send.merge import merge

from specs.helpers import messages


def resp(status: int, body: str | bytes = "", **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body if isinstance(body, bytes) else body.encode(), headers=headers)


@pytest.mark.parametrize("value, date, expected", [
    ("120", None, 120.0),
    ("1.5", None, 1.5),
    ("-3", None, 0.0),
    ("Mon, 23 Nov 2026 12:01:00 GMT", "Mon, 23 Nov 2026 12:00:00 GMT", 60.0),
    ("Mon, 23 Nov 2026 11:59:00 GMT", "Mon, 23 Nov 2026 12:00:00 GMT", 0.0),
    ("Mon, 23 Nov 2026 12:01:00 GMT", None, None),  # no Date to measure from
    ("soon", None, None),
    ("", None, None),
])
def test_retry_after(value, date, expected):
    headers = {"Retry-After": value} if value else {}
    if date:
        headers["Date"] = date
    assert parse_retry_after(resp(429, **headers)) == expected


def test_summary_prefers_the_providers_message_and_is_short():
    body = json.dumps({"errors": [{"message": "x" * 1000, "field": "from"}]})
    text = summarize_error(resp(400, body, **{"content-type": "application/json"}))
    assert len(text) <= 300 and text.startswith("xxx")


def test_summary_of_html_error_page_is_empty_not_markup():
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    assert summarize_error(resp(502, page, **{"content-type": "text/html"})) == ""
    with pytest.raises(ProviderError) as info:
        check(resp(502, page, **{"content-type": "text/html"}), "postmark")
    assert "<html" not in str(info.value) and info.value.retryable


def test_summary_redacts_secrets_echoed_by_the_provider():
    text = summarize_error(resp(401, json.dumps({"message": "key abcd-SECRET-efgh is not valid"})), ["abcd-SECRET-efgh"])
    assert "SECRET" not in text and "[redacted]" in text


@pytest.mark.parametrize("status, retryable", [(200, None), (202, None), (400, False), (401, False), (403, False),
                                               (404, False), (408, True), (409, False), (413, False), (422, False),
                                               (429, True), (500, True), (502, True), (503, True), (504, True)])
def test_status_mapping(status, retryable):
    r = resp(status, json.dumps({"message": "m"}))
    if retryable is None:
        assert check(r, "p") is r
        return
    with pytest.raises(ProviderError) as info:
        check(r, "p")
    assert info.value.retryable is retryable and info.value.status == status
    assert str(info.value).startswith("p: ")


def test_verbose_dump_hides_auth_headers_and_secrets():
    req = httpx.Request(
        "POST", "https://api.example.com/send?key=SECRETVALUE",
        headers={"Authorization": "Bearer SECRETVALUE", "X-Postmark-Server-Token": "tok-123456",
                 "api-key": "xkeysib-1", "Content-Type": "application/json"},
        content=b'{"to":"a@example.org","note":"SECRETVALUE"}',
    )
    text = dump_request(req, ["SECRETVALUE", "tok-123456", "xkeysib-1"])
    assert "SECRETVALUE" not in text and "tok-123456" not in text and "xkeysib-1" not in text
    assert "> POST https://api.example.com/send" in text and "a@example.org" in text
    assert text.count("[redacted]") >= 4


def test_verbose_dump_of_multipart_body():
    req = httpx.Request("POST", "https://h/x", files=[("to", (None, "a@example.org"))])
    assert "a@example.org" in dump_request(req)


# ---- merge -------------------------------------------------------------------------------

def placeholder(k: str) -> str:
    return f"%recipient.{k}%"


def render(template: str, variables: dict[str, str]) -> str:
    for k, v in variables.items():
        template = template.replace(placeholder(k), v)
    return template


def test_merge_reproduces_every_copy():
    batch = messages(5)
    merged = merge(batch, placeholder)
    assert merged is not None
    assert "reader0" not in merged.html and "reader0" not in merged.text
    for m, v in zip(batch, merged.variables):
        assert render(merged.html, v) == m.html and render(merged.text, v) == m.text
        assert {n: render(t, v) for n, t in merged.headers.items()} == dict(m.headers)


def test_merge_single_message_needs_no_variables():
    merged = merge(messages(1), placeholder)
    assert merged is not None and merged.variables == ({},)
    assert merged.html == messages(1)[0].html


def _with(m: OutgoingMessage, **changes) -> OutgoingMessage:
    return OutgoingMessage(**{**{f: getattr(m, f) for f in m.__slots__}, **changes})


def test_merge_refuses_different_bodies_or_senders():
    a, b = messages(2)
    assert merge([a, _with(b, html=b.html + "<p>extra</p>")], placeholder) is None
    assert merge([a, _with(b, from_addr="Other <o@example.com>")], placeholder) is None
    assert merge([a, _with(b, headers={"X-Only": "b"})], placeholder) is None


def test_merge_handles_names_that_occur_inside_other_words():
    a, b = messages(2)
    a = _with(a, to_name="Ann", html="<p>Annual report</p>", text="Annual")
    b = _with(b, to_name="Bob", html="<p>Annual report</p>", text="Annual")
    merged = merge([a, b], placeholder)
    assert merged is not None
    assert merged.html == "<p>Annual report</p>"


def test_merge_personal_greeting():
    a, b = messages(2)
    a = _with(a, to_name="Ann Smith", html="<p>Hi Ann Smith</p>", text="Hi Ann Smith")
    b = _with(b, to_name="Bob Jones", html="<p>Hi Bob Jones</p>", text="Hi Bob Jones")
    merged = merge([a, b], placeholder)
    assert merged is not None and placeholder("name") in merged.html
    assert [render(merged.text, v) for v in merged.variables] == ["Hi Ann Smith", "Hi Bob Jones"]


@pytest.mark.parametrize("name", ["Ann", "Zoë Ümlaut", 'Smith, John "JJ"', "a\\b", "Dr. Who", "  spaced   out  "])
def test_display_address_round_trips(name):
    from email.utils import parseaddr

    from feedpub.send.http import display_address

    shown = display_address(name, "reader@example.org")
    assert parseaddr(shown) == (" ".join(name.split()), "reader@example.org")
    assert "=?" not in shown  # JSON APIs get UTF-8, not RFC 2047 words they would show raw


from hypothesis import given, settings, strategies as st  # noqa: E402

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    body=_text, tail=_text, names=st.lists(_text, min_size=1, max_size=4),
    tokens=st.lists(st.text(alphabet="abcdef0123456789%&=", min_size=0, max_size=12), min_size=1, max_size=4),
    placeholder_style=st.sampled_from(["%recipient.{}%", "%feedpub_{}%"]),
)
def test_merge_never_produces_a_wrong_copy(body, tail, names, tokens, placeholder_style):
    """Whatever the bodies and per-reader values: either every reader's copy renders back
    exactly, or merge refuses (None). It never returns a template that renders wrong."""
    n = min(len(names), len(tokens))
    batch = []
    for i in range(n):
        url = f"https://b.example/u?e=r{i}%40example.org&t={tokens[i]}"
        batch.append(OutgoingMessage(
            to=f"r{i}@example.org", to_name=names[i], from_addr="B <b@example.org>", subject=f"{body[:5]} {names[i]}",
            html=f"{body}<a href=\"{url.replace('&', '&amp;')}\">x</a>{names[i]}{tail}", text=f"{body}{url}{tail}",
            headers={"List-Unsubscribe": f"<{url}>"},
        ))
    ph = placeholder_style.format
    merged = merge(batch, ph)
    if merged is None:
        return
    for m, v in zip(batch, merged.variables):
        def r(t: str) -> str:
            for k, val in v.items():
                t = t.replace(ph(k), val)
            return t
        assert (r(merged.subject), r(merged.html), r(merged.text)) == (m.subject, m.html, m.text)
        assert {k: r(t) for k, t in merged.headers.items()} == dict(m.headers)


def test_merge_refuses_values_that_spell_a_placeholder():
    a, b = messages(2)
    a = _with(a, to_name="Eve %recipient.email%", html="<p>Hi Eve %recipient.email%</p>", text="Hi")
    b = _with(b, to_name="Bob Jones", html="<p>Hi Bob Jones</p>", text="Hi")
    assert merge([a, b], placeholder) is None
