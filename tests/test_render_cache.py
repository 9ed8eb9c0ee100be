"""The render cache: hits parse nothing, misses on every input that matters, never trusts junk."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedpub import render_cache
from feedpub.render import Renderer
from helpers.render_asserts import make_post, make_site

BODY = "Hello *cache* [x](x.html).\n\nSecond."


def renderer(site, bodies, cache_dir, *, forbid: bool = False):
    def read(post):
        if forbid:
            raise AssertionError(f"{post.relpath} was read although it should come from the cache")
        return bodies[post.relpath]

    return Renderer(site, cache_dir=cache_dir, read_body=read)


def one_post(body=BODY, **post_kw):
    post = make_post(body, **post_kw)
    return post, {post.relpath: body}


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "render").rglob("*.json"))


def test_second_build_hits_the_cache_and_reads_no_body(tmp_path):
    post, bodies = one_post()
    site = make_site([post])
    first = renderer(site, bodies, tmp_path).render(post)
    r2 = renderer(site, bodies, tmp_path, forbid=True)
    second = r2.render(post)
    assert second == first
    assert r2.stats == {"rendered": 0, "cache_hits": 1}
    assert len(entries(tmp_path)) == 1


def test_warnings_come_back_from_the_cache(tmp_path):
    post, bodies = one_post("a {% nosuchtag %} b")
    site = make_site([post])
    first = renderer(site, bodies, tmp_path).render(post)
    again = renderer(site, bodies, tmp_path, forbid=True).render(post)
    assert first.warnings and again.warnings == first.warnings


def test_changed_content_misses(tmp_path):
    post, bodies = one_post()
    renderer(make_site([post]), bodies, tmp_path).render(post)
    changed, bodies2 = one_post(BODY + " more")
    r = renderer(make_site([changed]), bodies2, tmp_path)
    assert "more" in r.render(changed).html and r.stats["rendered"] == 1


@pytest.mark.parametrize(
    "sections",
    [
        {"site": {"url": "https://other.example"}},
        {"site": {"baseurl": "/blog"}},
        {"site": {"excerpt_separator": "<!--cut-->"}},
        {"feeds": {"iframe_hosts": ["example.org"]}},
    ],
)
def test_changed_settings_miss(tmp_path, sections):
    post, bodies = one_post()
    renderer(make_site([post]), bodies, tmp_path).render(post)
    r = renderer(make_site([post], **sections), bodies, tmp_path)
    r.render(post)
    assert r.stats == {"rendered": 1, "cache_hits": 0}


def test_changed_post_url_misses(tmp_path):
    post, bodies = one_post()
    renderer(make_site([post]), bodies, tmp_path).render(post)
    moved, _ = one_post(url="https://example.com/new/place.html")
    r = renderer(make_site([moved]), bodies, tmp_path)
    assert 'href="https://example.com/new/x.html"' in r.render(moved).html


def test_a_new_feedpub_or_library_version_invalidates(tmp_path, monkeypatch):
    post, bodies = one_post()
    renderer(make_site([post]), bodies, tmp_path).render(post)
    monkeypatch.setattr(render_cache, "VERSIONS", render_cache.VERSIONS + ";feedpub-next")
    r = renderer(make_site([post]), bodies, tmp_path)
    r.render(post)
    assert r.stats["rendered"] == 1


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"\x00\xff not json",
        b'{"format": "feedpub-render/1", "key": "x"',
        b'["a", "list"]',
        b'{"format": "someone-else/9"}',
        "WRONG-KEY",
        "WRONG-TYPES",
    ],
)
def test_corrupt_or_foreign_entries_are_ignored_with_a_notice_and_rebuilt(tmp_path, junk):
    post, bodies = one_post()
    site = make_site([post])
    good = renderer(site, bodies, tmp_path).render(post)
    (path,) = entries(tmp_path)
    data = json.loads(path.read_text())
    if junk == "WRONG-KEY":
        junk = json.dumps({**data, "key": "0" * 64, "html": "<script>evil()</script>"}).encode()
    elif junk == "WRONG-TYPES":
        junk = json.dumps({**data, "html": ["<script>"], "warnings": "x"}).encode()
    path.write_bytes(junk)
    r = renderer(site, bodies, tmp_path)
    assert r.render(post) == good
    assert r.stats == {"rendered": 1, "cache_hits": 0}
    assert len(r.notices) == 1 and r.notices[0].severity == "notice" and "ignoring" in r.notices[0].message
    # ... and the entry was rewritten, valid again
    assert renderer(site, bodies, tmp_path, forbid=True).render(post) == good


def test_an_unwritable_cache_costs_speed_not_the_build(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    post, bodies = one_post()
    r = renderer(make_site([post]), bodies, blocker)
    assert "Hello" in r.render(post).html
    assert r.notices and "cannot write the render cache" in r.notices[0].message


def test_cache_folder_can_be_deleted_any_time(tmp_path):
    post, bodies = one_post()
    site = make_site([post])
    renderer(site, bodies, tmp_path / "c").render(post)
    import shutil

    shutil.rmtree(tmp_path / "c")
    r = renderer(site, bodies, tmp_path / "c")
    r.render(post)
    assert r.stats["rendered"] == 1 and entries(tmp_path / "c")


def test_entries_are_written_atomically_without_temp_leftovers(tmp_path):
    posts = [make_post(f"post {i}", relpath=f"posts/2024-01-0{i}-p.md") for i in range(1, 6)]
    bodies = {p.relpath: f"post {i}" for i, p in enumerate(posts, 1)}
    r = renderer(make_site(posts), bodies, tmp_path)
    for p in posts:
        r.render(p)
    files = [p for p in (tmp_path / "render").rglob("*") if p.is_file()]
    assert len(files) == 5 and all(f.suffix == ".json" and not f.name.startswith(".tmp") for f in files)


# ---- Liquid: the data a render used -----------------------------------------------------
def test_editing_an_include_rerenders_the_posts_that_used_it(tmp_path):
    root = tmp_path / "site"
    (root / "_includes").mkdir(parents=True)
    note = root / "_includes" / "note.html"
    note.write_text("version one")
    post, bodies = one_post("{% include note.html %}", root=root)
    site = make_site([post], root=root)
    cache = tmp_path / "cache"
    assert "version one" in renderer(site, bodies, cache).render(post).html
    assert "version one" in renderer(site, bodies, cache, forbid=True).render(post).html
    note.write_text("version two")
    r = renderer(site, bodies, cache)
    assert "version two" in r.render(post).html and r.stats["rendered"] == 1


def test_post_url_targets_are_part_of_the_key_only_for_posts_that_use_them(tmp_path):
    target = make_post("t", relpath="posts/2020-01-01-target.md", url="https://example.com/old.html")
    linking, bodies = one_post("[t]({% post_url 2020-01-01-target %})")
    plain, plain_bodies = one_post("{{ site.title }}", relpath="posts/2024-07-19-plain.md")
    bodies.update(plain_bodies)
    cache = tmp_path / "cache"
    first = renderer(make_site([target, linking, plain]), bodies, cache)
    first.render(linking), first.render(plain)

    moved = make_post("t", relpath="posts/2020-01-01-target.md", url="https://example.com/new.html")
    r = renderer(make_site([moved, linking, plain]), bodies, cache)
    assert 'href="https://example.com/new.html"' in r.render(linking).html
    r.render(plain)
    assert r.stats == {"rendered": 1, "cache_hits": 1}


def test_site_config_seen_by_liquid_is_part_of_the_key(tmp_path):
    post, bodies = one_post("{{ site.description }}")
    cache = tmp_path / "cache"
    renderer(make_site([post], site={"description": "old"}), bodies, cache).render(post)
    r = renderer(make_site([post], site={"description": "new"}), bodies, cache)
    assert r.render(post).html == "<p>new</p>"


def test_creating_a_missing_include_rerenders_the_post(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    post, bodies = one_post("{% include late.html %}", root=root)
    site = make_site([post], root=root)
    cache = tmp_path / "cache"
    assert renderer(site, bodies, cache).render(post).warnings
    assert renderer(site, bodies, cache, forbid=True).render(post).warnings  # still missing: a hit
    (root / "_includes").mkdir()
    (root / "_includes" / "late.html").write_text("arrived")
    r = renderer(site, bodies, cache)
    assert "arrived" in r.render(post).html and r.stats["rendered"] == 1


def test_a_new_post_does_not_invalidate_liquid_posts_that_cannot_see_it(tmp_path):
    post, bodies = one_post("{{ site.title }} {{ page.title }}")
    cache = tmp_path / "cache"
    renderer(make_site([post]), bodies, cache).render(post)
    newer = make_post("new", relpath="posts/2025-01-01-newer.md", date=datetime(2025, 1, 1, tzinfo=timezone.utc))
    r = renderer(make_site([post, newer]), bodies, cache, forbid=True)
    r.render(post)
    assert r.stats == {"rendered": 0, "cache_hits": 1}


def test_an_include_that_lists_posts_makes_the_post_depend_on_them(tmp_path):
    root = tmp_path / "site"
    (root / "_includes").mkdir(parents=True)
    (root / "_includes" / "recent.html").write_text("{% for p in site.posts %}<i>{{ p.title }}</i>{% endfor %}")
    post, bodies = one_post("{% include recent.html %}", root=root)
    cache = tmp_path / "cache"
    assert "<i>A Post</i>" in renderer(make_site([post], root=root), bodies, cache).render(post).html
    newer = make_post("n", root=root, relpath="posts/2025-01-01-n.md", title="Newer", date=datetime(2025, 1, 1, tzinfo=timezone.utc))
    r = renderer(make_site([post, newer], root=root), bodies, cache)
    assert "<i>Newer</i>" in r.render(post).html and r.stats["rendered"] == 1
