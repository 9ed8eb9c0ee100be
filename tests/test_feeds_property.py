"""Property: any Unicode title, category and body survives all three feeds.

Whatever the text (controls, surrogates, markup, RTL, emoji), the feeds stay
well-formed, feedparser reads them without bozo, json loads the JSON Feed, and the
text comes back as written, minus only the characters XML 1.0 cannot carry.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import feedparser
from lxml import etree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub.feeds import write_feeds
from feedpub.feeds.document import one_line, xml_clean

from test_feeds_support import Render, config, post, site

A = "{http://www.w3.org/2005/Atom}"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
text = st.text(st.characters(codec=None), max_size=40)


def _expected(value: str) -> str:
    return one_line(xml_clean(value)[0])


def _text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=text, category=text, body=text)
def test_any_text_round_trips_through_every_feed(tmp_path_factory, title: str, category: str, body: str) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    cfg = config(tmp, feeds={"categories": True})
    p = post(1, title=title, categories=(category,))
    out = tmp / "public"
    outputs = write_feeds(site(cfg, [p]), Render(bodies={p.id: body}), out)
    want_title = _expected(title) or p.slug
    want_category = _expected(category)
    want_body = xml_clean(body)[0]
    feeds = [o for o in outputs if o.kind != "xsl"]
    assert len(feeds) == (6 if want_category else 3)
    for o in feeds:
        data = o.path.read_bytes()
        if o.kind == "json":
            item = json.loads(data)["items"][0]
            assert item["title"] == want_title
            assert item.get("tags", []) == ([want_category] if want_category else [])
            assert _text_of(item["content_html"]).startswith(want_body)
            continue
        # Exactly what was written, as any XML parser reads it...
        root = etree.fromstring(data)
        if o.kind == "atom":
            entry = root.find(f"{A}entry")
            title, content = entry.findtext(f"{A}title"), entry.findtext(f"{A}content")
            terms = [c.get("term") for c in entry.findall(f"{A}category")]
        else:
            item = root.find("channel/item")
            title, content = item.findtext("title"), item.findtext(f"{{{CONTENT}}}encoded")
            terms = [c.text for c in item.findall("category")]
        assert title == want_title
        assert terms == ([want_category] if want_category else [])
        assert _text_of(content).startswith(want_body)
        # ...and as feedparser (what most Python readers use) reads it.
        d = feedparser.parse(data)
        assert not d.bozo, d.get("bozo_exception")
        assert d.entries[0].title in {want_title.strip(), _feedparser_view(want_title).strip()}
        terms = [t.term for t in d.entries[0].get("tags", [])]
        assert terms in ([[want_category], [_feedparser_view(want_category)]] if want_category else [[]])


def _feedparser_view(value: str) -> str:
    """feedparser "repairs" some text that looks like doubly encoded UTF-8 ('Â¡' -> '¡');
    the exact text is checked with lxml above."""
    try:
        return value.encode("iso-8859-1").decode("utf-8")
    except UnicodeError:
        return value


def test_a_very_long_category_name_still_gets_a_feed(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"categories": True})
    name = "ä" * 400
    p = post(1, categories=(name, name[:-1]))
    outputs = write_feeds(site(cfg, [p]), Render(), tmp_path / "public")
    folders = {o.path.parent.name for o in outputs if o.label}
    assert len(folders) == 2
    assert all(len(f.encode()) <= 120 for f in folders)
