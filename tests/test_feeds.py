"""The feed writers: what a reader sees in feed.xml, rss.xml and feed.json."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from feedpub.errors import BuildError, ConfigError
from feedpub.feeds import plan_feeds, write_feeds, write_plan
from feedpub.model import Author, Post

from test_feeds_support import MDT, Render, by_name, config, parse_all, post, site

ATOM = "{http://www.w3.org/2005/Atom}"


def _posts(n: int) -> list[Post]:
    return [post(i) for i in range(n)]


def test_three_feeds_newest_first_with_limit(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"limit": 3})
    out = tmp_path / "public"
    outputs = write_feeds(site(cfg, _posts(5)), Render(), out)
    files = by_name(outputs, out)
    assert sorted(files) == ["feed.json", "feed.xml", "feed.xsl", "rss.xml"]
    parsed = parse_all(outputs)
    for name in ("feed.xml", "rss.xml"):
        d = parsed[out / name]
        assert [e.title for e in d.entries] == ["Post number 4", "Post number 3", "Post number 2"]
        assert files[name].entries == 3
    j = parsed[out / "feed.json"]
    assert [i["title"] for i in j["items"]] == ["Post number 4", "Post number 3", "Post number 2"]
    assert parsed[out / "feed.xml"].version == "atom10"
    assert parsed[out / "rss.xml"].version == "rss20"


def test_entry_fields_in_every_format(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    p = post(1, categories=("sales engineering", "career"), tags=("se",),
             author=Author("Bob Writer", "bob@example.com", "https://bob.example.com"),
             updated=datetime(2024, 8, 1, 9, 30, tzinfo=MDT))
    out = tmp_path / "public"
    outputs = write_feeds(site(cfg, [p]), Render(), out)
    parsed = parse_all(outputs)

    atom = parsed[out / "feed.xml"]
    e = atom.entries[0]
    assert e.id == p.id and e.link == p.url
    assert e.links[0].rel == "alternate" and e.links[0].type == "text/html"
    assert e.published == "2024-07-02T08:20:00-06:00"
    assert e.updated == "2024-08-01T09:30:00-06:00"
    assert e.author_detail == {"name": "Bob Writer", "email": "bob@example.com", "href": "https://bob.example.com"}
    assert e.content[0].value.startswith("<p>Body of Post number 1.</p>")
    assert e.summary == "<p>Summary of Post number 1.</p>"
    assert [t.term for t in e.tags] == ["sales engineering", "career", "se"]
    assert atom.feed.updated == "2024-08-01T09:30:00-06:00"   # newest entry's update
    assert atom.feed.language == "en"

    rss = parsed[out / "rss.xml"]
    e = rss.entries[0]
    assert e.id == p.id and e.guidislink is False and e.link == p.url
    assert e.author == "Bob Writer"                      # dc:creator
    assert e.summary == "<p>Summary of Post number 1.</p>"
    assert "Second paragraph" in e.content[0].value      # content:encoded
    assert e.published == "Tue, 02 Jul 2024 08:20:00 -0600"
    assert [t.term for t in e.tags] == ["sales engineering", "career", "se"]

    item = parsed[out / "feed.json"]["items"][0]
    assert item["id"] == p.id and item["url"] == p.url
    assert item["summary"] == "Summary of Post number 1."
    assert item["content_html"].startswith("<p>Body")
    assert item["date_published"] == "2024-07-02T08:20:00-06:00"
    assert item["date_modified"] == "2024-08-01T09:30:00-06:00"
    assert item["authors"] == [{"name": "Bob Writer", "url": "https://bob.example.com"}]
    assert item["tags"] == ["sales engineering", "career", "se"]


def test_feed_level_metadata_and_self_links(tmp_path: Path) -> None:
    cfg = config(tmp_path, site={"baseurl": "/blog", "lang": "de"})
    out = tmp_path / "public"
    outputs = write_feeds(site(cfg, _posts(2)), Render(), out)
    root = etree.parse(str(out / "feed.xml")).getroot()
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    links = {l.get("rel"): (l.get("href"), l.get("type")) for l in root.findall(f"{ATOM}link")}
    assert links == {"self": ("https://blog.example.com/blog/feed.xml", "application/atom+xml"),
                     "alternate": ("https://blog.example.com/blog/", "text/html")}
    assert root.findtext(f"{ATOM}id") == "https://blog.example.com/blog/feed.xml"
    generator = root.find(f"{ATOM}generator")
    assert generator.text == "feedpub" and "version" not in generator.attrib   # feedgen trap
    rss = etree.parse(str(out / "rss.xml")).getroot()
    self_link = rss.find("channel/{http://www.w3.org/2005/Atom}link")
    assert (self_link.get("href"), self_link.get("rel"), self_link.get("type")) == (
        "https://blog.example.com/blog/rss.xml", "self", "application/rss+xml")
    assert rss.findtext("channel/language") == "de"
    j = json.loads((out / "feed.json").read_text())
    assert j["version"] == "https://jsonfeed.org/version/1.1"
    assert list(j)[0] == "version"
    assert j["feed_url"] == "https://blog.example.com/blog/feed.json"
    assert j["home_page_url"] == "https://blog.example.com/blog/"
    assert j["language"] == "de"
    assert len(outputs) == 4   # and feed.xsl


def test_guid_is_permalink_only_when_the_id_is_the_url(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    a = post(1)
    b = post(2, id="https://blog.example.com/2024/07/03/post-2.html")
    out = tmp_path / "public"
    write_feeds(site(cfg, [a, b]), Render(), out)
    guids = {g.text: g.get("isPermaLink") for g in etree.parse(str(out / "rss.xml")).iter("guid")}
    assert guids == {a.id: "false", b.id: "true"}


def test_deterministic_bytes_and_unchanged_files_not_rewritten(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"categories": True})
    posts = [post(i, categories=("a b",)) for i in range(3)]
    out = tmp_path / "public"
    first = write_feeds(site(cfg, posts), Render(), out)
    data = {o.path: o.path.read_bytes() for o in first}
    old = time.time() - 1000
    for o in first:
        os.utime(o.path, (old, old))
    # A fresh build in a fresh process-state (new Render) gives the same bytes...
    second = write_feeds(site(cfg, posts), Render(), out)
    assert all(not o.changed for o in second)
    assert {o.path: o.path.read_bytes() for o in second} == data
    # ...and leaves the files alone (same mtime), so HTTP caches and rsync see no change.
    assert all(o.path.stat().st_mtime == pytest.approx(old) for o in second)
    # The feed's date is its newest entry's, not the build time.
    assert b"<updated>2024-07-03T08:20:00-06:00</updated>" in data[out / "feed.xml"]
    assert b"<lastBuildDate>Wed, 03 Jul 2024 08:20:00 -0600</lastBuildDate>" in data[out / "rss.xml"]


def test_a_changed_post_rewrites_only_the_feeds_it_is_in(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"categories": True})
    posts = [post(1, categories=("x",)), post(2, categories=("y",))]
    out = tmp_path / "public"
    write_feeds(site(cfg, posts), Render(), out)
    posts[1] = post(2, categories=("y",), title="Renamed")
    outputs = by_name(write_feeds(site(cfg, posts), Render(), out), out)
    assert outputs["categories/x/feed.xml"].changed is False
    assert outputs["categories/y/feed.xml"].changed is True
    assert outputs["feed.xml"].changed is True


def test_posts_out_of_feeds_and_excerpt_only(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    hidden = post(3, in_feeds=False)
    short = post(2, excerpt_only=True)
    full = post(1)
    out = tmp_path / "public"
    render = Render()
    outputs = write_feeds(site(cfg, [hidden, short, full]), render, out)
    assert hidden.id not in render.calls
    parsed = parse_all(outputs)
    atom = parsed[out / "feed.xml"]
    assert [e.id for e in atom.entries] == [short.id, full.id]
    assert "content" not in atom.entries[0] and atom.entries[0].summary.startswith("<p>Summary")
    assert "content" in atom.entries[1]
    rss = parsed[out / "rss.xml"]
    assert "content" not in rss.entries[0]
    j = parsed[out / "feed.json"]["items"]
    assert j[0]["content_html"] == "<p>Summary of Post number 2.</p>"


def test_site_wide_excerpt_only(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"excerpt_only": True})
    out = tmp_path / "public"
    parsed = parse_all(write_feeds(site(cfg, _posts(2)), Render(), out))
    assert all("content" not in e for e in parsed[out / "feed.xml"].entries)
    assert all("Second paragraph" not in i["content_html"] for i in parsed[out / "feed.json"]["items"])


def test_only_posts_some_feed_contains_are_rendered_once(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"limit": 2, "categories": True, "tags": True})
    posts = [post(i, categories=("c",), tags=("t",)) for i in range(10)]
    render = Render()
    write_feeds(site(cfg, posts), render, tmp_path / "public")
    assert sorted(render.calls) == sorted(p.id for p in posts[-2:])


def test_category_and_tag_feeds_any_name(tmp_path: Path) -> None:
    names = ["sales engineering", "Ünïcode Ωmega", "C++", "c", "日本語", "Career", "career"]
    cfg = config(tmp_path, feeds={"categories": True, "tags": ["python"], "limit": 2})
    posts = [post(i, categories=(names[i % len(names)],), tags=("python",) if i % 2 else ()) for i in range(14)]
    out = tmp_path / "public"
    outputs = write_feeds(site(cfg, posts), Render(), out)
    files = by_name(outputs, out)
    labels = {o.label for o in outputs if o.label}
    assert labels == {f"category {n}" for n in names} | {"tag python"}
    # Each name has its own folder: no name dropped, no two merged.
    folders = {Path(k).parent.as_posix() for k, o in files.items() if o.label.startswith("category")}
    assert len(folders) == len(names)
    assert "categories/sales-engineering" in folders
    assert "categories/ünïcode-ωmega" in folders
    assert "categories/日本語" in folders
    assert "tags/python/feed.xml" in files
    parsed = parse_all(outputs)
    for path, d in parsed.items():
        rel = path.relative_to(out).as_posix()
        if rel.startswith("categories/"):
            name = files[rel].label.removeprefix("category ")
            entries = d["items"] if rel.endswith(".json") else d.entries
            assert len(entries) == 2
            titles = d["title"] if rel.endswith(".json") else d.feed.title
            assert titles == f"Test Blog | {name}"
    tag_feed = parsed[out / "tags/python/feed.xml"]
    assert [e.id for e in tag_feed.entries] == [posts[13].id, posts[11].id]
    # The self link of a Unicode-named feed is a valid, percent-encoded URL of that file.
    jap = parsed[out / "categories/日本語/feed.json"]
    assert jap["feed_url"] == "https://blog.example.com/categories/%E6%97%A5%E6%9C%AC%E8%AA%9E/feed.json"


def test_listed_category_without_posts_is_an_empty_valid_feed_and_a_warning(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"categories": ["nothing here"]})
    plan = plan_feeds(site(cfg, _posts(2)), Render())
    assert [(p.message, p.severity, p.key) for p in plan.problems] == [
        ("no post has the category 'nothing here' listed in [feeds] categories; its feed is empty",
         "warning", "feeds.categories")
    ]
    outputs = write_plan(plan, tmp_path / "public")
    parsed = parse_all(outputs)
    empty = parsed[tmp_path / "public/categories/nothing-here/feed.xml"]
    assert empty.entries == [] and empty.feed.updated == "1970-01-01T00:00:00+00:00"


def test_configured_paths_and_formats(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"formats": ["atom", "json"], "atom": "atom.xml", "json": "feeds/all.json",
                                  "categories": True, "category_path": "c/{slug}.{file}"})
    out = tmp_path / "public"
    outputs = write_feeds(site(cfg, [post(1, categories=("x y",))]), Render(), out)
    assert sorted(by_name(outputs, out)) == ["atom.xml", "c/x-y.all.json", "c/x-y.atom.xml", "feed.xsl", "feeds/all.json"]
    j = json.loads((out / "feeds/all.json").read_text())
    assert j["feed_url"] == "https://blog.example.com/feeds/all.json"


@pytest.mark.parametrize("key,value", [("atom", "../outside.xml"), ("category_path", "../../{slug}/{file}"),
                                       ("category_path", "categories/{file}")])
def test_paths_that_escape_or_collide_are_config_errors(tmp_path: Path, key: str, value: str) -> None:
    cfg = config(tmp_path, feeds={key: value, "categories": True})
    posts = [post(1, categories=("a",)), post(2, categories=("b",))]
    with pytest.raises(ConfigError) as info:
        write_feeds(site(cfg, posts), Render(), tmp_path / "public")
    assert info.value.problems[0].key.startswith("feeds")
    assert not (tmp_path / "public").exists()


def test_render_error_writes_nothing(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    posts = _posts(3)
    out = tmp_path / "public"
    with pytest.raises(BuildError) as info:
        write_feeds(site(cfg, posts), Render(fail={posts[1].id}), out)
    assert str(info.value.problems[0]) == f"{posts[1].relpath}:7: Liquid syntax error: unexpected '%}}'"
    assert not out.exists()


def test_a_post_that_fails_to_render_is_replaced_by_the_next_older_one(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"limit": 2})
    posts = _posts(4)
    plan = plan_feeds(site(cfg, posts), Render(fail={posts[3].id}))
    assert [p.path for p in plan.errors] == [posts[3].relpath]
    outputs = write_plan(plan, tmp_path / "public")
    atom = parse_all(outputs)[tmp_path / "public/feed.xml"]
    assert [e.id for e in atom.entries] == [posts[2].id, posts[1].id]


def test_xml_illegal_characters_removed_with_a_warning(tmp_path: Path) -> None:
    cfg = config(tmp_path, site={"title": "Blog\x00 \x1b"})
    p = post(1, title="Bad\x0b title \ud800 here\uffff", categories=("ca\x01t",))
    render = Render(bodies={p.id: "body \x0c with form feed"})
    plan = plan_feeds(site(cfg, [p]), render)
    warned = {m.message for m in plan.problems}
    assert "removed 3 character(s) that XML cannot carry from the title" in warned
    assert "removed 1 character(s) that XML cannot carry from the content" in warned
    assert all(m.severity == "warning" and m.path == p.relpath for m in plan.problems)
    parsed = parse_all(write_plan(plan, tmp_path / "public"))
    atom = parsed[tmp_path / "public/feed.xml"]
    assert atom.entries[0].title == "Bad title here"
    assert atom.feed.title == "Blog"
    assert atom.entries[0].tags[0].term == "cat"
    assert parsed[tmp_path / "public/feed.json"]["items"][0]["title"] == "Bad title here"


def test_empty_site_gives_valid_empty_feeds(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    out = tmp_path / "public"
    parsed = parse_all(write_feeds(site(cfg, []), Render(), out))
    assert parsed[out / "feed.xml"].entries == []
    assert parsed[out / "feed.json"]["items"] == []
    assert b"lastBuildDate" not in (out / "rss.xml").read_bytes()


def test_no_site_author_uses_the_site_title_so_atom_stays_valid(tmp_path: Path) -> None:
    cfg = config(tmp_path, site={"author": ""})
    out = tmp_path / "public"
    parsed = parse_all(write_feeds(site(cfg, _posts(1)), Render(), out))
    assert parsed[out / "feed.xml"].feed.author == "Test Blog"


def test_invalid_author_email_and_uri_are_left_out(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    p = post(1, author=Author("Eve", "not an email", "javascript:alert(1)"))
    out = tmp_path / "public"
    write_feeds(site(cfg, [p]), Render(), out)
    data = (out / "feed.xml").read_text()
    assert "<name>Eve</name>" in data and "not an email" not in data and "javascript" not in data


def test_entries_with_the_same_date_keep_scan_order(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    same = datetime(2024, 1, 1, tzinfo=timezone.utc)
    a, b = post(1, day=same, slug="a"), post(2, day=same, slug="b")
    s = site(cfg, [a, b])
    out = tmp_path / "public"
    atom = parse_all(write_feeds(s, Render(), out))[out / "feed.xml"]
    assert [e.id for e in atom.entries] == [p.id for p in s.posts]


def test_updated_never_before_published(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    p = post(1, updated=datetime(2020, 1, 1, tzinfo=timezone.utc))
    out = tmp_path / "public"
    item = parse_all(write_feeds(site(cfg, [p]), Render(), out))[out / "feed.json"]["items"][0]
    assert item["date_modified"] == item["date_published"]


def test_feedparser_sees_time_of_day_in_every_format(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    p = post(1, day=datetime(2024, 7, 18, 8, 20, 5, 123456, tzinfo=MDT))
    out = tmp_path / "public"
    parsed = parse_all(write_feeds(site(cfg, [p]), Render(), out))
    for name in ("feed.xml", "rss.xml"):
        assert parsed[out / name].entries[0].published_parsed[:6] == (2024, 7, 18, 14, 20, 5)
    assert parsed[out / "feed.json"]["items"][0]["date_published"] == "2024-07-18T08:20:05-06:00"
