"""Issue 8: stylesheet, RFC 5005 archives, images, enclosures, icon/logo, per-post control."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from feedpub.errors import ConfigError
from feedpub.feeds import write_feeds
from feedpub.model import Enclosure, Image

from test_feeds_support import Render, by_name, config, parse_all, post, site

A = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
MEDIA = "{http://search.yahoo.com/mrss/}"


def _pi(path: Path) -> str | None:
    pi = etree.parse(str(path)).getroot().getprevious()
    return pi.text if pi is not None else None


def test_stylesheet_linked_relative_from_every_xml_feed(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"categories": True})
    out = tmp_path / "public"
    outputs = by_name(write_feeds(site(cfg, [post(1, categories=("a b",))]), Render(), out), out)
    assert outputs["feed.xsl"].kind == "xsl"
    assert _pi(out / "feed.xml") == 'type="text/xsl" href="feed.xsl"'
    assert _pi(out / "rss.xml") == 'type="text/xsl" href="feed.xsl"'
    assert _pi(out / "categories/a-b/feed.xml") == 'type="text/xsl" href="../../feed.xsl"'
    assert (out / "feed.xsl").read_bytes().startswith(b"<?xml")
    etree.XSLT(etree.parse(str(out / "feed.xsl")))          # a valid XSLT 1.0 stylesheet


def test_stylesheet_turns_an_atom_and_an_rss_feed_into_a_page(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    out = tmp_path / "public"
    write_feeds(site(cfg, [post(1), post(2)]), Render(), out)
    transform = etree.XSLT(etree.parse(str(out / "feed.xsl")))
    for name in ("feed.xml", "rss.xml"):
        page = str(transform(etree.parse(str(out / name))))
        assert "This is a web feed" in page
        assert "https://blog.example.com/" + name in page
        assert '<a href="https://blog.example.com/2024/07/03/post-2.html">Post number 2</a>' in page


def test_stylesheet_off_and_overridden(tmp_path: Path) -> None:
    out = tmp_path / "off"
    outputs = write_feeds(site(config(tmp_path, feeds={"stylesheet": False}), [post(1)]), Render(), out)
    assert "feed.xsl" not in by_name(outputs, out) and _pi(out / "feed.xml") is None
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/feed.xsl").write_text("<?xml version='1.0'?><!-- mine --><x/>")
    out = tmp_path / "theirs"
    write_feeds(site(config(tmp_path), [post(1)]), Render(), out)
    assert "mine" in (out / "feed.xsl").read_text()
    (tmp_path / "own.xsl").write_text("<?xml version='1.0'?><!-- own --><x/>")
    out = tmp_path / "own"
    write_feeds(site(config(tmp_path, feeds={"stylesheet": "own.xsl"}), [post(1)]), Render(), out)
    assert "own" in (out / "feed.xsl").read_text()
    with pytest.raises(ConfigError, match="feeds.stylesheet"):
        write_feeds(site(config(tmp_path, feeds={"stylesheet": "missing.xsl"}), [post(1)]), Render(), out)


def test_archives_rfc5005(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"limit": 3, "archive": True})
    posts = [post(i) for i in range(10)]          # 0 oldest .. 9 newest
    out = tmp_path / "public"
    render = Render()
    outputs = by_name(write_feeds(site(cfg, posts), render, out), out)
    assert sorted(render.calls) == sorted(p.id for p in posts)     # archives contain every post
    assert {k: o.entries for k, o in outputs.items() if "archive" in k and k.endswith(".xml")} == {
        "feed-archive-1.xml": 3, "feed-archive-2.xml": 3, "feed-archive-3.xml": 1,
        "rss-archive-1.xml": 3, "rss-archive-2.xml": 3, "rss-archive-3.xml": 1}
    parsed = parse_all(list(outputs.values()))

    def ids(name: str) -> list[str]:
        return [e.id for e in parsed[out / name].entries]

    assert ids("feed.xml") == [p.id for p in posts[9:6:-1]]
    assert ids("feed-archive-1.xml") == [p.id for p in posts[2::-1]]     # the oldest, full
    assert ids("feed-archive-3.xml") == [posts[6].id]                   # the newest, still filling

    def rels(name: str) -> dict[str, str]:
        root = etree.parse(str(out / name)).getroot()
        return {l.get("rel"): l.get("href") for l in root.iter(f"{A}link") if l.getparent() is root
                or l.getparent().tag == "channel"}

    base = "https://blog.example.com/"
    assert rels("feed.xml")["prev-archive"] == base + "feed-archive-3.xml"
    assert rels("feed-archive-2.xml") == {"self": base + "feed-archive-2.xml", "alternate": base,
                                          "current": base + "feed.xml",
                                          "prev-archive": base + "feed-archive-1.xml",
                                          "next-archive": base + "feed-archive-3.xml"}
    assert "prev-archive" not in rels("feed-archive-1.xml")
    assert rels("rss-archive-1.xml")["current"] == base + "rss.xml"
    for name in ("feed-archive-1.xml", "rss-archive-3.xml"):
        assert etree.parse(str(out / name)).getroot().find(f".//{FH}archive") is not None
    assert etree.parse(str(out / "feed.xml")).getroot().find(f".//{FH}archive") is None
    assert json.loads((out / "feed.json").read_text())["next_url"] == base + "feed-archive-3.json"
    assert json.loads((out / "feed-archive-2.json").read_text())["next_url"] == base + "feed-archive-1.json"
    assert "next_url" not in json.loads((out / "feed-archive-1.json").read_text())


def test_full_archive_pages_never_change(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"limit": 3, "archive": True})
    out = tmp_path / "public"
    posts = [post(i) for i in range(9)]
    write_feeds(site(cfg, posts), Render(), out)
    page1 = (out / "feed-archive-1.xml").read_bytes()
    outputs = by_name(write_feeds(site(cfg, [*posts, post(9), post(10)]), Render(), out), out)
    assert outputs["feed-archive-1.xml"].changed is False
    assert (out / "feed-archive-1.xml").read_bytes() == page1
    assert outputs["feed-archive-2.xml"].changed is True           # was 2 posts, now full


def test_images_enclosures_icon_and_logo(tmp_path: Path) -> None:
    cfg = config(tmp_path, site={"icon": "/img/icon.png", "logo": "https://cdn.example.com/logo.png"})
    p = post(1, image=Image("https://blog.example.com/img/cover.jpg", "A cover"),
             enclosure=Enclosure("https://blog.example.com/ep1.mp3", "audio/mpeg", 12345))
    out = tmp_path / "public"
    parsed = parse_all(write_feeds(site(cfg, [p]), Render(), out))
    atom = parsed[out / "feed.xml"]
    assert atom.feed.icon == "https://blog.example.com/img/icon.png"
    assert atom.feed.logo == "https://cdn.example.com/logo.png"
    e = atom.entries[0]
    assert e.media_thumbnail[0]["url"] == "https://blog.example.com/img/cover.jpg"
    assert e.enclosures[0] == {"href": "https://blog.example.com/ep1.mp3", "type": "audio/mpeg",
                               "length": "12345"}
    assert e.link == p.url                                   # enclosure is not the alternate link
    rss = parsed[out / "rss.xml"]
    assert rss.feed.image.href == "https://cdn.example.com/logo.png"
    e = rss.entries[0]
    assert e.media_thumbnail[0]["url"] == "https://blog.example.com/img/cover.jpg"
    assert [(x.href, x.type, x.length) for x in e.enclosures] == [
        ("https://blog.example.com/ep1.mp3", "audio/mpeg", "12345")]
    assert len(etree.parse(str(out / "rss.xml")).getroot().findall("channel/item/enclosure")) == 1
    j = parsed[out / "feed.json"]
    assert j["icon"] == "https://blog.example.com/img/icon.png" and j["favicon"] == j["icon"]
    item = j["items"][0]
    assert item["image"] == item["banner_image"] == "https://blog.example.com/img/cover.jpg"
    assert item["attachments"] == [{"url": "https://blog.example.com/ep1.mp3", "mime_type": "audio/mpeg",
                                    "size_in_bytes": 12345}]
    media = etree.parse(str(out / "feed.xml")).getroot().find(f"{A}entry/{MEDIA}content")
    assert media.get("medium") == "image" and media.findtext(f"{MEDIA}description") == "A cover"
