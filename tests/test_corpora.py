"""Real Jekyll posts (../shared/corpora): every file published or skipped with a reason.

Expected values are what Jekyll itself does with these fixtures (its test suite and
source), so a Jekyll blog moving its feed to feedpub keeps its links.
"""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import shared_path
from feedpub.config import build_config
from feedpub.posts import read_body, scan

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
CORPORA = ("jekyll-docs", "jekyll-test", "jekyll-feed-fixtures")


def scan_corpus(name: str, tmp_path: Path, **site):
    source = shared_path("corpora", name)
    root = tmp_path / name
    root.mkdir()
    shutil.copytree(source, root / "_posts", symlinks=True)
    config = build_config({"site": {"title": "T", "url": "https://example.com", "timezone": "UTC", **site}}, root=root)
    return scan(config, NOW)


@pytest.mark.parametrize("name", CORPORA)
def test_every_file_is_published_or_reported(name, tmp_path):
    site = scan_corpus(name, tmp_path)
    files = {
        f"_posts/{p.relative_to(shared_path('corpora', name)).as_posix()}"
        for p in shared_path("corpora", name).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    published = {p.relpath for p in site.posts}
    skipped = {path for path, reason in site.skipped if reason}
    errors = {p.path for p in site.errors}
    assert files == published | skipped | errors
    assert not published & (skipped | errors)
    for problem in site.problems:
        assert problem.path in files and problem.message
    for post in site.posts:
        read_body(post)
        assert post.url.startswith("https://example.com/") and post.id.startswith("https://example.com/")


def test_jekyll_docs_all_published(tmp_path):
    site = scan_corpus("jekyll-docs", tmp_path)
    assert site.errors == ()
    assert len(site.posts) == 102
    by = {p.relpath.rsplit("/", 1)[1]: p for p in site.posts}
    post = by["2016-08-24-jekyll-admin-initial-release.markdown"]
    assert post.categories and all(c == c.strip() for c in post.categories)


def test_jekyll_test_fixtures_match_jekyll(tmp_path):
    site = scan_corpus("jekyll-test", tmp_path)
    by = {p.relpath.removeprefix("_posts/"): p for p in site.posts}
    skipped = {k.removeprefix("_posts/"): v for k, v in site.skipped}
    errors = {p.path.removeprefix("_posts/"): p for p in site.errors}

    # published: false and a .yml file are what Jekyll's test_post_reader.rb skips
    assert skipped["2008-02-02-not-published.markdown"] == "published: false"
    assert "not a Markdown post (.yml)" in skipped["2008-02-03-wrong-extension.yml"]
    assert "2008-02-02-published.markdown" in by
    # a folder named like a post holds no post; a dateless file in it is reported
    assert "no date" in skipped["2013-03-19-not-a-post/dubious.markdown"]
    # the traversal fixture is refused
    assert "climbs out of the site" in errors["2014-01-06-permalink-traversal.md"].message

    # dates: front matter overrides the file name (date, time, time zone)
    assert by["2010-01-09-date-override.markdown"].date == datetime(2010, 1, 10, tzinfo=timezone.utc)
    assert by["2010-01-09-time-override.markdown"].date == datetime(2010, 1, 10, 13, 7, 9, tzinfo=timezone.utc)
    assert by["2010-01-09-timezone-override.markdown"].date == datetime(2010, 1, 10, 13, 7, 9, tzinfo=timezone.utc)
    assert by["2017-2-5-i-dont-like-zeroes.md"].date == datetime(2017, 2, 5, tzinfo=timezone.utc)

    # categories and tags in every form
    assert by["2009-01-27-array-categories.markdown"].categories == ("foo", "bar", "baz")
    assert by["2009-01-27-categories.markdown"].categories == ("foo", "bar", "baz")
    assert by["2009-01-27-category.markdown"].categories == ("foo",)
    assert by["2009-01-27-empty-categories.markdown"].categories == ()
    assert by["2009-01-27-empty-category.markdown"].categories == ()
    assert by["2013-05-10-number-category.markdown"].categories == ("2013",)
    assert by["2009-05-18-tag.markdown"].tags == ("code",)
    assert by["2009-05-18-tags.markdown"].tags == ("food", "cooking", "pizza")
    assert by["2009-05-18-empty-tags.markdown"].tags == ()
    assert by["2010-01-16-override-data.markdown"].tags == ("A", "string")

    # titles from the slug when the front matter has none; YAML that ends in "..."
    assert by["2009-06-22-no-yaml.markdown"].title == "No Yaml"
    assert by["2009-06-22-empty-yaml.markdown"].title == "Empty Yaml"
    assert by["2014-03-03-yaml-with-dots.md"].title == "Test Post Where YAML Ends in Dots"
    assert by["2015-12-27-extra-spaces.markdown"].front_matter["extra"] == "spaces"

    # URLs as Jekyll builds them (test_document.rb, test_url.rb, the fixtures' permalinks)
    base = "https://example.com"
    assert by["2018-10-12-trailing-dots...markdown"].url == base + "/2018/10/12/trailing-dots.html"
    assert by["2008-12-03-permalinked-post.markdown"].url == base + "/my_category/permalinked-post"
    assert by["2015-02-20-extensionless-permalink.markdown"].url == base + "/extensionless-permalink"
    assert by["2014-03-22-escape-+ %20[].markdown"].url == base + "/2014/03/22/escape-+-20.html"
    assert by["2009-01-27-categories.markdown"].url == base + "/foo/bar/baz/2009/01/27/categories.html"
    assert by["2014-07-05-mixed-case-category.markdown"].url == base + "/mixedcase/2014/07/05/mixed-case-category.html"
    assert by["2013-05-10-number-category.markdown"].url == base + "/2013/2013/05/10/number-category.html"
    # ids as jekyll-feed writes them (post.id | absolute_url)
    assert by["2008-11-21-complex.markdown"].id == base + "/2008/11/21/complex"
    assert by["2009-03-12-hash-#1.markdown"].id == base + "/2009/03/12/hash-#1"


def test_jekyll_feed_fixtures(tmp_path):
    site = scan_corpus("jekyll-feed-fixtures", tmp_path)
    by = {p.relpath.removeprefix("_posts/"): p for p in site.posts}
    detail = by["2015-05-18-author-detail.md"]
    assert (detail.author.name, detail.author.email, detail.author.uri) == ("Ben", "ben@example.com", "http://ben.balter.com")
    assert by["2016-04-25-author-reference.md"].author.name == "garthdb"
    assert by["2015-01-18-jekyll-last-modified-at.md"].updated == datetime(2015, 5, 12, 13, 27, 59, tzinfo=timezone.utc)
    assert by["2015-02-12-strip-newlines.md"].title == "The plugin will properly strip newlines."
    assert by["2014-03-02-march-the-second.md"].summary == "cool post"  # description wins, as in jekyll-feed
    assert by["2014-03-02-march-the-second.md"].image.url == "https://cdn.example.org/absolute.png?h=188&w=250"
    fourth = by["2014-03-04-march-the-fourth.md"]
    assert fourth.title == '<span class="highlight">Sparkling</span> Title'
    assert fourth.image.url == "https://example.com/object-image.png"
    assert fourth.categories == ("updates", "jekyll")
    assert by["2013-12-12-dec-the-second.md"].image.url == "https://example.com/image.png"
    assert by["2013-12-12-dec-the-second.md"].summary == "Foo"
    # Jekyll also publishes .html posts; feedpub reads Markdown only and says so
    skipped = dict(site.skipped)
    assert "not a Markdown post (.html)" in skipped["_posts/2015-08-08-stuck-in-the-middle.html"]
