"""scan() and read_body(): what a user sees from a folder of posts."""
from __future__ import annotations

import os
import pickle
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub.config import load_config
from feedpub.errors import FeedpubError, PostError
from feedpub.model import Author, Enclosure, Image
from feedpub.posts import ParseContext, parse_file, read_body, scan

TOML = """\
[site]
title = "Test Blog"
url = "https://example.com"
author = "Ann Author"
author_email = "ann@example.com"
timezone = "UTC"
"""


def site_of(make_site, now, files, toml=TOML, **kw):
    root = make_site(files, toml=toml)
    return scan(load_config(root / "feedpub.toml", root=root), now, **kw)


def one(site):
    assert len(site.posts) == 1, [str(p) for p in site.problems]
    return site.posts[0]


def test_sample_blog(sample_site, now):
    site = scan(load_config(sample_site / "feedpub.toml", root=sample_site), now)
    assert site.problems == () and site.skipped == ()
    newest, oldest = site.posts
    assert newest.title == "Sustaining a career as a sales engineer for dev tools"
    assert newest.date == datetime(2024, 7, 18, 14, 20, tzinfo=timezone.utc)
    assert newest.categories == ("sales engineering", "career")
    # the URL Jekyll serves this post at (categories in the path, lower-cased, escaped)
    assert newest.url == (
        "https://blog.example.com/sales%20engineering/career/2024/07/18/"
        "sustaining-a-career-as-a-sales-engineer-for-dev-tools.html"
    )
    assert newest.id == newest.url.removesuffix(".html")
    assert newest.author == Author("Sample Author")
    assert newest.body_line == 7
    assert len(newest.content_hash) == 64
    # the comma rule: "sales engineering, support engineering," is two categories
    assert oldest.categories == ("sales engineering", "support engineering")
    # ... while the URL keeps Jekyll's own whitespace split, which the live site uses
    assert oldest.url.startswith("https://blog.example.com/sales/engineering,/support/2021/06/18/")
    assert read_body(newest).startswith("\nIn 2021 my career was a Toyota Camry.")


def test_title_and_date_from_the_file_name(make_site, now):
    post = one(site_of(make_site, now, {"posts/2017-2-5-i-dont-like-zeroes.md": "No front matter.\n"}))
    assert post.title == "I Dont Like Zeroes"
    assert post.slug == "i-dont-like-zeroes"
    assert post.date == datetime(2017, 2, 5, tzinfo=timezone.utc)
    assert post.url == "https://example.com/2017/02/05/i-dont-like-zeroes.html"
    assert post.body_line == 1


def test_dateless_name_with_a_date_key(make_site, now):
    post = one(site_of(make_site, now, {"posts/hello.md": "---\ndate: 2024-03-01 10:00\n---\nHi\n"}))
    assert post.slug == "hello" and post.title == "Hello"
    assert post.date == datetime(2024, 3, 1, 10, tzinfo=timezone.utc)


def test_naive_dates_take_the_site_zone(make_site, now):
    toml = TOML.replace('timezone = "UTC"', 'timezone = "America/Denver"')
    post = one(site_of(make_site, now, {"posts/2024-07-18-a.md": "---\ndate: 2024-07-18 23:30\n---\n"}, toml=toml))
    assert post.date.utcoffset() == timedelta(hours=-6)
    # the URL's day is the day in the site's zone, as in Jekyll
    assert "/2024/07/18/" in post.url


def test_dates_with_offsets_use_the_site_day_in_urls(make_site, now):
    post = one(site_of(make_site, now, {"posts/2024-07-18-a.md": "---\ndate: 2024-07-18 23:30:00 -0600\n---\n"}))
    assert post.date.utcoffset() == timedelta(hours=-6)
    assert "/2024/07/19/" in post.url  # 05:30 UTC on the 19th


def test_date_agreeing_with_the_file_name_as_written_gives_no_notice(make_site, now):
    # 23:30 -0600 is the 19th in the site's UTC zone, but it is the 18th as written.
    site = site_of(make_site, now, {"posts/2024-07-18-a.md": "---\ndate: 2024-07-18 23:30:00 -0600\n---\n"})
    assert [p for p in site.problems if "differs from the file name" in p.message] == []
    site = site_of(make_site, now, {"posts/2024-07-17-a.md": "---\ndate: 2024-07-18 10:00:00 -0600\n---\n"})
    assert [p.line for p in site.problems if "differs from the file name" in p.message] == [2]


def test_file_not_a_post_is_skipped_with_a_notice(make_site, now):
    site = site_of(make_site, now, {
        "posts/about.md": "---\ntitle: About\n---\n",
        "posts/2024-01-01-a.yml": "title: x\n",
        "posts/image.png": b"\x89PNG",
        "posts/2024-01-02-ok.md": "ok",
    })
    assert [p.slug for p in site.posts] == ["ok"]
    skipped = dict(site.skipped)
    assert "no date" in skipped["posts/about.md"]
    assert "not a Markdown post (.yml)" in skipped["posts/2024-01-01-a.yml"]
    assert "not a Markdown post (.png)" in skipped["posts/image.png"]
    assert all(p.severity == "notice" for p in site.problems)
    assert {p.path for p in site.problems} == set(skipped)


def test_hidden_and_editor_files_ignored(make_site, now):
    site = site_of(make_site, now, {
        "posts/2024-01-01-a.md": "a",
        "posts/.#2024-01-01-a.md": "lock",
        "posts/2024-01-01-a.md~": "backup",
        "posts/.DS_Store": b"\0\0",
        "posts/.git/2024-01-01-b.md": "hidden folder",
        "posts/#2024-01-01-a.md#": "emacs",
    })
    assert [p.relpath for p in site.posts] == ["posts/2024-01-01-a.md"]
    assert site.problems == () and site.skipped == ()


def test_subfolders_are_read_without_becoming_categories(make_site, now):
    post = one(site_of(make_site, now, {"posts/es/2008-11-21-nested.md": "---\ntitle: Nested\n---\n"}))
    assert post.relpath == "posts/es/2008-11-21-nested.md"
    assert post.categories == ()
    assert post.url == "https://example.com/2008/11/21/nested.html"


def test_jekyll_posts_folder_and_configured_folder(make_site, now, tmp_path):
    root = make_site({"_posts/2024-01-01-a.md": "a"})
    (root / "posts").rmdir()
    site = scan(load_config(root / "feedpub.toml", root=root), now)
    assert [p.relpath for p in site.posts] == ["_posts/2024-01-01-a.md"]
    root = make_site({"content/blog/2024-01-01-b.md": "b"}, toml=TOML + '[paths]\nposts = "content/blog"\n')
    site = scan(load_config(root / "feedpub.toml", root=root), now)
    assert [p.relpath for p in site.posts] == ["content/blog/2024-01-01-b.md"]


def test_missing_posts_folder_raises(make_site, now):
    root = make_site({})
    (root / "posts").rmdir()
    with pytest.raises(FeedpubError) as info:
        scan(load_config(root / "feedpub.toml", root=root), now)
    assert "posts folder posts not found" in str(info.value)


def test_symlinks_out_of_the_posts_folder_refused(make_site, now, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Secret\n---\nsecret")
    outside_dir = tmp_path / "elsewhere"
    outside_dir.mkdir()
    (outside_dir / "2024-01-03-x.md").write_text("x")
    root = make_site({"posts/2024-01-01-real.md": "---\ntitle: Real\n---\n"})
    os.symlink(secret, root / "posts" / "2024-01-02-link.md")
    os.symlink(outside_dir, root / "posts" / "linked-dir")
    os.symlink(root / "posts" / "2024-01-01-real.md", root / "posts" / "2024-01-04-inside.md")
    site = scan(load_config(root / "feedpub.toml", root=root), now)
    assert sorted(p.relpath for p in site.posts) == ["posts/2024-01-01-real.md", "posts/2024-01-04-inside.md"]
    refused = {p.path: p.message for p in site.errors}
    assert "symlink points outside the posts folder" in refused["posts/2024-01-02-link.md"]
    assert "symlink points outside the posts folder" in refused["posts/linked-dir"]


def test_drafts_unpublished_and_future(make_site, now):
    files = {
        "posts/2024-01-01-draft.md": "---\ndraft: true\n---\n",
        "posts/2024-01-02-unpublished.md": "---\npublished: false\n---\n",
        "posts/2030-01-01-future.md": "future",
        "posts/2024-01-03-ok.md": "ok",
    }
    site = site_of(make_site, now, files)
    assert [p.slug for p in site.posts] == ["ok"]
    reasons = dict(site.skipped)
    assert "--drafts" in reasons["posts/2024-01-01-draft.md"]
    assert reasons["posts/2024-01-02-unpublished.md"] == "published: false"
    assert "--future" in reasons["posts/2030-01-01-future.md"]
    both = site_of(make_site, now, files, drafts=True, future=True)
    assert [p.slug for p in both.posts] == ["future", "ok", "draft"]
    assert [p.draft for p in both.posts] == [False, False, True]
    toml = TOML + "[build]\nfuture = true\ndrafts = true\n"
    assert len(site_of(make_site, now, files, toml=toml).posts) == 3
    assert len(site_of(make_site, now, files, toml=toml, future=False, drafts=False).posts) == 1


def test_newest_first_with_path_tie_break(make_site, now):
    site = site_of(make_site, now, {
        "posts/2024-01-01-b.md": "b", "posts/2024-01-01-a.md": "a", "posts/2024-02-01-c.md": "c",
    })
    assert [p.slug for p in site.posts] == ["c", "b", "a"]


def test_same_url_or_id_is_an_error_naming_both_files(make_site, now):
    site = site_of(make_site, now, {
        "posts/2024-01-01-a.md": "---\npermalink: /same/\n---\n",
        "posts/2024-01-02-b.md": "---\npermalink: /same/\n---\n",
        "posts/2024-01-03-c.md": "---\nslug: d\npermalink: /x/c.html\n---\n",
        "posts/2024-01-04-d.md": "---\npermalink: /x/d.html\n---\n",
    })
    (error_url,) = [p for p in site.errors if "same URL" in p.message]
    assert error_url.path == "posts/2024-01-02-b.md" and "posts/2024-01-01-a.md" in error_url.message
    (error_id,) = [p for p in site.errors if "same id" in p.message]
    assert error_id.path == "posts/2024-01-04-d.md" and "posts/2024-01-03-c.md" in error_id.message
    assert sorted(p.relpath for p in site.posts) == ["posts/2024-01-01-a.md", "posts/2024-01-03-c.md"]


@pytest.mark.parametrize(
    ("front", "categories", "tags"),
    [
        ("categories: sales engineering, support engineering,", ("sales engineering", "support engineering"), ()),
        ("categories: foo bar baz", ("foo", "bar", "baz"), ()),
        ("categories: [foo, bar, foo]", ("foo", "bar"), ()),
        ("categories:", (), ()),
        ("category: 2013", ("2013",), ()),
        ("category: release notes", ("release notes",), ()),
        ("categories: [a]\ncategory: b", ("a", "b"), ()),
        ("tags: A string", (), ("A", "string")),
        ("tag: code\ntags: [x, code]", (), ("x", "code")),
        ("tags:\n - '\"/><VADER>'\n - test", (), ('"/><VADER>', "test")),
        ("tags: [[a, b], c, ~, '']", (), ("a", "b", "c")),
    ],
)
def test_categories_and_tags(make_site, now, front, categories, tags):
    post = one(site_of(make_site, now, {"posts/2024-01-01-a.md": f"---\n{front}\n---\n"}))
    assert post.categories == categories
    assert post.tags == tags


def test_categories_as_mapping_is_an_error(make_site, now):
    site = site_of(make_site, now, {"posts/2024-01-01-a.md": "---\ntitle: x\ncategories: {a: 1}\n---\n"})
    (error,) = site.errors
    assert (error.line, error.message) == (3, "'categories' must be a list or text, got a mapping")


def test_metadata_fields(make_site, now):
    post = one(site_of(make_site, now, {"posts/2024-01-01-a.md": """---
title: "  A   <b>bold</b>\\n title "
author:
  name: Ben
  uri: "http://ben.example"
  email: ben@example.com
description: "  cool post "
excerpt: ignored
last_modified_at: 2024-02-01T10:00:00+00:00
image:
  path: /img/a b.png
  alt: An image
enclosure:
  url: media/ep1.mp3
  length: "1234"
feed:
  excerpt_only: true
custom: [1, 2]
---
Body
"""}))
    assert post.title == "A <b>bold</b> title"
    assert post.author == Author("Ben", "ben@example.com", "http://ben.example")
    assert post.summary == "cool post"
    assert post.updated == datetime(2024, 2, 1, 10, tzinfo=timezone.utc)
    assert post.image == Image("https://example.com/img/a%20b.png", "An image")
    assert post.enclosure == Enclosure("https://example.com/media/ep1.mp3", "audio/mpeg", 1234)
    assert post.in_feeds is True and post.excerpt_only is True
    fm = post.front_matter
    assert fm["custom"] == [1, 2] and fm["title"] == post.title and fm["date"] == post.date
    assert fm["url"] == "/2024/01/01/a.html" and fm["id"] == "/2024/01/01/a"
    pickle.dumps(post)  # a process pool can send it back


def test_author_forms(make_site, now):
    site = site_of(make_site, now, {
        "posts/2024-01-01-a.md": "---\nauthor: garthdb\n---\n",
        "posts/2024-01-02-b.md": "b",
        "posts/2024-01-03-c.md": "---\nauthor: [x, y]\n---\n",
        "posts/2024-01-04-d.md": "---\nauthors: [Dee, Eve]\n---\n",
        "posts/2024-01-05-e.md": "---\nauthors:\n  - {name: Eve, email: eve@example.com}\n---\n",
    })
    by = {p.slug: p for p in site.posts}
    assert by["a"].author == Author("garthdb")
    assert by["b"].author == Author("Ann Author", "ann@example.com")
    assert by["c"].author == Author("Ann Author", "ann@example.com")
    assert by["d"].author == Author("Dee")       # jekyll-feed: post.authors[0]
    assert by["e"].author == Author("Eve", "eve@example.com")
    (warning,) = [p for p in site.problems if p.severity == "warning"]
    assert warning.path == "posts/2024-01-03-c.md" and "'author' ignored" in warning.message


def test_images_absolute_and_unsafe_schemes_dropped(make_site, now):
    site = site_of(make_site, now, {
        "posts/2024-01-01-a.md": "---\nimage: https://cdn.example.org/a.png?h=1&w=2\n---\n",
        "posts/2024-01-02-b.md": "---\nimage: javascript:alert(1)\n---\n",
        "posts/2024-01-03-c.md": "---\nimage: //cdn.example.org/c.png\nfeed: false\n---\n",
    })
    by = {p.slug: p for p in site.posts}
    assert by["a"].image == Image("https://cdn.example.org/a.png?h=1&w=2")
    assert by["b"].image is None
    assert by["c"].image == Image("https://cdn.example.org/c.png")
    assert by["c"].in_feeds is False
    assert any("'image' ignored" in p.message for p in site.problems)


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("enclosure: {url: a.mp3, length: lots}", "'enclosure.length' must be a whole number of bytes"),
        ("feed: sometimes", "'feed' must be true or false"),
        ("feed: {excerpt_only: 2}", "'feed.excerpt_only' must be true or false"),
        ("last_modified_at: yesterday", "invalid date 'yesterday' in 'last_modified_at'"),
        ("title: {a: 1}", "'title' must be text, got a mapping"),
        ("permalink: /:nope/", "unknown placeholder ':nope'"),
        ("date: 9999-12-31 23:00:00 -0500", "is out of range"),
        ("date: 0001-01-01 00:00:00 +0100", "is out of range"),
        ("updated: 9999-12-31 23:00:00 -0500", "is out of range"),
    ],
)
def test_field_errors_name_file_line_and_key(make_site, now, front, message):
    site = site_of(make_site, now, {"posts/2024-01-01-a.md": f"---\ntitle: ok\n{front}\n---\n".replace("title: ok\ntitle", "title")})
    assert site.posts == ()
    (error,) = site.errors
    assert message in error.message
    assert error.path == "posts/2024-01-01-a.md" and error.line in (2, 3)


def test_bad_config_permalink_is_an_error_per_post(make_site, now):
    toml = TOML + '\n'
    toml = toml.replace('timezone = "UTC"', 'timezone = "UTC"\npermalink = "/:bogus/"')
    site = site_of(make_site, now, {"posts/2024-01-01-a.md": "a"}, toml=toml)
    (error,) = site.errors
    assert "unknown placeholder ':bogus'" in error.message


def test_baseurl(make_site, now):
    toml = TOML.replace('url = "https://example.com"', 'url = "https://example.com/"\nbaseurl = "/blog/"')
    post = one(site_of(make_site, now, {"posts/2024-01-01-a.md": "---\nimage: pic.png\n---\n"}, toml=toml))
    assert post.url == "https://example.com/blog/2024/01/01/a.html"
    assert post.id == "https://example.com/blog/2024/01/01/a"
    assert post.image.url == "https://example.com/blog/pic.png"


def test_permalink_styles_from_config(make_site, now):
    for style, expected in [("pretty", "/2024/01/01/a/"), ("none", "/a.html"), ("/:year/:slug", "/2024/a")]:
        toml = TOML.replace('timezone = "UTC"', f'timezone = "UTC"\npermalink = "{style}"')
        post = one(site_of(make_site, now, {"posts/2024-01-01-a.md": "a"}, toml=toml))
        assert post.url == "https://example.com" + expected


def test_size_cap_from_config(make_site, now):
    toml = TOML + "[build]\nmax_post_bytes = 100\n"
    site = site_of(make_site, now, {"posts/2024-01-01-a.md": "x" * 101, "posts/2024-01-02-b.md": "ok"}, toml=toml)
    assert [p.slug for p in site.posts] == ["b"]
    (error,) = site.errors
    assert error.path == "posts/2024-01-01-a.md" and "larger than 100 bytes" in error.message


def test_read_body(make_site, now):
    root = make_site({"posts/2024-01-01-a.md": b"\xef\xbb\xbf---\r\ntitle: A\r\n---\r\nline 1\r\nline 2\r\n"})
    config = load_config(root / "feedpub.toml", root=root)
    post = one(scan(config, now))
    assert read_body(post) == "line 1\nline 2\n"
    assert post.body_line == 4
    (root / "posts/2024-01-01-a.md").write_text("---\ntitle: A\n---\nchanged\n")
    with pytest.raises(PostError, match="changed since it was scanned") as info:
        read_body(post)
    assert info.value.path == "posts/2024-01-01-a.md"
    (root / "posts/2024-01-01-a.md").unlink()
    with pytest.raises(PostError, match="vanished"):
        read_body(post)


def test_parse_file_is_pure_and_picklable(make_site, now):
    root = make_site({"posts/2024-01-01-a.md": "---\ntitle: A\n---\n"})
    config = load_config(root / "feedpub.toml", root=root)
    context = ParseContext.from_config(config)
    context = pickle.loads(pickle.dumps(context))
    first = parse_file(root / "posts/2024-01-01-a.md", "posts/2024-01-01-a.md", context)
    second = parse_file(root / "posts/2024-01-01-a.md", "posts/2024-01-01-a.md", context)
    assert first == second and first.post.title == "A"
    assert context.key() == ParseContext.from_config(config).key()
    other = ParseContext.from_config(config.replace(site={"permalink": "pretty"}))
    assert other.key() != context.key()
    assert pickle.loads(pickle.dumps(first)) == first


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda fm, body: b"---\n" + fm + b"\n---\n" + body, st.binary(max_size=300), st.binary(max_size=200)),
    st.builds(lambda fm: ("---\n" + fm + "\n---\nbody").encode("utf-8", "surrogatepass"), st.text(max_size=300)),
))
def test_any_bytes_parse_or_fail_with_a_feedpub_error_naming_the_path(tmp_path_factory, data):
    """Issue 3: any byte string as a post file parses, or is a PostError naming the path, within 2 s."""
    root = tmp_path_factory.mktemp("anybytes")
    (root / "posts").mkdir()
    path = root / "posts" / "2024-01-01-fuzz.md"
    path.write_bytes(data)
    context = ParseContext(
        posts_dir=root / "posts", posts_root=(root / "posts").resolve(), site_url="https://example.com",
        timezone="UTC", permalink="/:categories/:year/:month/:day/:title:output_ext", max_bytes=1 << 20, author=None,
    )
    result = parse_file(path, "posts/2024-01-01-fuzz.md", context)
    if result.post is None:
        assert result.skipped or any(p.severity == "error" for p in result.problems)
    for problem in result.problems:
        assert problem.path == "posts/2024-01-01-fuzz.md"
    if result.post is not None:
        try:
            read_body(result.post)
        except PostError as exc:  # only if the body itself cannot be decoded
            assert exc.path == "posts/2024-01-01-fuzz.md"


def test_file_name_date_out_of_range_in_the_site_zone(make_site, now):
    toml = TOML.replace('timezone = "UTC"', 'timezone = "Etc/GMT-14"')
    site = site_of(make_site, now, {"posts/0001-01-01-a.md": "a", "posts/2024-01-01-b.md": "b"}, toml=toml)
    assert [p.slug for p in site.posts] == ["b"]
    (error,) = site.errors
    assert error.path == "posts/0001-01-01-a.md" and "out of range" in error.message


def test_file_names_with_control_characters_and_undecodable_bytes(make_site, now):
    root = make_site({"posts/2024-01-02-ok.md": "ok"})
    (root / "posts" / "2024-01-01-bell\x07ring.md").write_text("---\ntitle: Bell\n---\n")
    os.close(os.open(os.path.join(os.fsencode(root / "posts"), b"2024-01-03-caf\xe9.md"), os.O_CREAT | os.O_WRONLY))
    site = scan(load_config(root / "feedpub.toml", root=root), now)
    by = {p.date.day: p for p in site.posts}
    assert by[1].slug == "bellring" and by[1].title == "Bell"
    assert by[3].slug == "caf" and by[3].title == "Caf"
    assert by[3].relpath == "posts/2024-01-03-caf\ufffd.md"
    str(site.problems).encode("utf-8")          # every message prints
    for post in site.posts:
        post.url.encode("ascii")
    warnings = sorted(p.path for p in site.problems if p.severity == "warning")
    assert warnings == ["posts/2024-01-01-bell\x07ring.md", "posts/2024-01-03-caf\ufffd.md"]


def test_warnings_found_before_an_error_are_kept(make_site, now):
    site = site_of(make_site, now, {"posts/2024-01-01-a.md": "---\ntitle: A\ntitle: B\ndate: 2024-02-30\n---\n"})
    assert [(p.severity, p.line) for p in site.problems] == [("warning", 3), ("error", 4)]


def test_odd_filesystem_entries_never_crash_or_hang(make_site, now, tmp_path):
    root = make_site({"posts/2024-01-01-ok.md": "ok"})
    posts = root / "posts"
    os.mkfifo(posts / "2024-01-02-fifo.md")              # reading it would block forever
    os.symlink(posts / "missing.md", posts / "2024-01-03-broken.md")
    os.symlink("/dev/zero", posts / "2024-01-04-zero.md")   # endless, and outside the site
    os.symlink(posts, posts / "loop")                       # a folder that contains itself
    (posts / "2024-01-05-folder.md").mkdir()                 # a folder named like a post
    site = scan(load_config(root / "feedpub.toml", root=root), now)
    assert [p.slug for p in site.posts] == ["ok"]
    skipped = dict(site.skipped)
    assert skipped["posts/2024-01-02-fifo.md"] == "not a regular file"
    assert skipped["posts/2024-01-03-broken.md"] == "not a regular file"
    (refused,) = site.errors
    assert refused.path == "posts/2024-01-04-zero.md" and "outside the posts folder" in refused.message


def test_relative_site_root_gives_absolute_sources(make_site, now, monkeypatch):
    from pathlib import Path

    from feedpub.config import build_config

    root = make_site({"posts/2024-01-01-a.md": "a"})
    monkeypatch.chdir(root)
    config = build_config({"site": {"title": "T", "url": "https://example.com"}}, root=Path("."))
    post = one(scan(config, now))
    assert post.source.is_absolute() and post.relpath == "posts/2024-01-01-a.md"
    assert read_body(post) == "a"
