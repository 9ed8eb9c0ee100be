"""feedpub snippet: one <link rel="alternate"> per feed file the build writes, titled as the
feed itself, with URLs that resolve to those files."""
from __future__ import annotations

import json
from urllib.parse import unquote

import feedparser
import pytest
from lxml import html as lxml_html

from feedpub.cli import main

TOML = """\
[site]
title = "Snip & \\"Quotes\\""
url = "https://snip.example"
baseurl = "/blog"

[feeds]
categories = true
tags = ["howto"]
"""

POSTS = {
    "posts/2026-11-20-a.md": "---\ntitle: A\ncategories: [Python, Ünïcode Ωmega]\ntags: [howto]\n---\nA.\n",
    "posts/2026-11-21-b.md": "---\ntitle: B\ncategories: [Sales Engineering]\n---\nB.\n",
}
TYPES = {"application/atom+xml", "application/rss+xml", "application/feed+json"}


@pytest.fixture
def site(make_site, monkeypatch, now):
    root = make_site(POSTS, toml=TOML)
    monkeypatch.chdir(root)
    monkeypatch.setenv("FEEDPUB_NOW", now.isoformat())
    return root


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_snippet_matches_the_built_feeds(site, capsys):
    code, out, err = run(capsys, "snippet")
    assert code == 0, err
    tags = lxml_html.fragment_fromstring(out, create_parent="div").xpath("//link")
    assert len(tags) == 3 * (1 + 3 + 1)         # site + 3 categories + 1 tag, 3 formats each
    assert all(t.get("rel") == "alternate" and t.get("type") in TYPES for t in tags)

    assert run(capsys, "build")[0] == 0
    public = site / "public"
    for tag in tags:
        href = tag.get("href")
        assert href.startswith("https://snip.example/blog/")
        path = public / unquote(href.removeprefix("https://snip.example/blog/"))
        assert path.is_file(), href
        if tag.get("type") == "application/feed+json":
            title = json.loads(path.read_text("utf-8"))["title"]
        else:
            title = feedparser.parse(path.read_bytes()).feed.title
        assert title == tag.get("title"), href
    titles = {t.get("title") for t in tags}
    assert 'Snip & "Quotes" | Ünïcode Ωmega' in titles
    assert 'Snip & "Quotes" | howto' in titles


def test_snippet_escapes_attributes(site, capsys):
    _, out, _ = run(capsys, "snippet", "--main-only")
    assert out.splitlines() == [
        '<link rel="alternate" type="application/atom+xml" title="Snip &amp; &quot;Quotes&quot;" href="https://snip.example/blog/feed.xml">',
        '<link rel="alternate" type="application/rss+xml" title="Snip &amp; &quot;Quotes&quot;" href="https://snip.example/blog/rss.xml">',
        '<link rel="alternate" type="application/feed+json" title="Snip &amp; &quot;Quotes&quot;" href="https://snip.example/blog/feed.json">',
    ]


def test_snippet_without_config_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "snippet")
    assert code == 2 and "feedpub init" in err and out == ""
