"""The scan cache and the parallel scan: same results as a plain scan, less work.

No timings here (those are in benchmarks/): these tests count parses and file reads.
"""
from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest

import feedpub.parallel
import feedpub.scan_cache
from feedpub.build import build
from feedpub.config import load_config
from feedpub.posts import ParseContext, discover, parse_file, scan
from feedpub.scan_cache import FILENAME, MAGIC, dumps

TOML = """\
[site]
title = "Cache Blog"
url = "https://example.com"
baseurl = "/blog"
author = "Ann Author"
timezone = "Europe/Berlin"

[feeds]
categories = true
tags = true
limit = 5
"""

HOUR_AGO = time.time_ns() - 3600 * 10**9


def corpus(n: int = 24) -> dict[str, str]:
    files = {}
    for i in range(n):
        day = 1 + i % 27
        date = ["date: 2024-03-%02d 08:20:00 -0600" % day, "date: 2024-03-%02d 10:00:00" % day, ""][i % 3]
        cats = ["categories: [python, \"release notes\"]", "category: Ünïcode", "categories: ops, python,"][i % 3]
        body = f"Intro {i} with [a link](other.html) and `code`.\n\n<!--more-->\n\n## Part\n\n- one\n- two\n\n```python\nx = {i}\n```\n"
        front = "\n".join(x for x in ("---", f'title: "Post {i} – café"', date, cats, f"tags: t{i % 4} news", "---") if x)
        files[f"posts/2024-03-{day:02d}-post-{i}.md"] = front + "\n" + body
    files["posts/2024-04-01-draft.md"] = "---\ntitle: Draft\ndraft: true\n---\nDraft body\n"
    files["posts/2024-04-02-hidden.md"] = "---\ntitle: Hidden\npublished: false\n---\nNo\n"
    files["posts/broken.md"] = "---\ntitle: [unclosed\n---\nBody\n"
    files["posts/notes.txt"] = "not a post"
    return files


def age(root: Path) -> None:
    """Give every post an mtime an hour ago: old enough to be trusted by its stat."""
    for path in (root / "posts").rglob("*"):
        if path.is_file():
            os.utime(path, ns=(HOUR_AGO, HOUR_AGO))


@pytest.fixture
def site(make_site) -> Path:
    root = make_site(corpus(), toml=TOML)
    age(root)
    return root


def config_of(root: Path):
    return load_config(root / "feedpub.toml", root=root)


def count_parses(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = feedpub.parallel.parse_file

    def counting(path, relpath, context):
        seen.append(relpath)
        return real(path, relpath, context)

    monkeypatch.setattr(feedpub.parallel, "parse_file", counting)
    return seen


def count_reads(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = feedpub.scan_cache.read_bytes

    def counting(path, relpath, **kw):
        seen.append(relpath)
        return real(path, relpath, **kw)

    monkeypatch.setattr(feedpub.scan_cache, "read_bytes", counting)
    return seen


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_cached_scan_equals_a_plain_scan(site: Path, now) -> None:
    config = config_of(site)
    plain = scan(config, now)
    first = scan(config, now, cache_dir=config.cache_dir)
    second = scan(config, now, cache_dir=config.cache_dir)
    assert (config.cache_dir / FILENAME).is_file()
    assert first == plain and second == plain
    assert len(plain.posts) == 24 and any(p.severity == "error" for p in plain.problems)


def test_unchanged_posts_are_only_statted(site: Path, now, monkeypatch) -> None:
    config = config_of(site)
    scan(config, now, cache_dir=config.cache_dir)
    parses, reads = count_parses(monkeypatch), count_reads(monkeypatch)
    scan(config, now, cache_dir=config.cache_dir)
    # the broken post is parsed again (errors are never cached), and so is the one with
    # published: false (no hash to check it by); nothing else is read
    assert sorted(parses) == ["posts/2024-04-02-hidden.md", "posts/broken.md"]
    assert reads == []


def test_a_touched_but_unchanged_post_is_hashed_not_parsed(site: Path, now, monkeypatch) -> None:
    config = config_of(site)
    before = scan(config, now, cache_dir=config.cache_dir)
    target = site / "posts" / "2024-03-05-post-4.md"
    os.utime(target, ns=(HOUR_AGO + 10**9, HOUR_AGO + 10**9))   # a fresh git clone does this
    parses, reads = count_parses(monkeypatch), count_reads(monkeypatch)
    after = scan(config, now, cache_dir=config.cache_dir)
    assert reads == ["posts/2024-03-05-post-4.md"]
    assert "posts/2024-03-05-post-4.md" not in parses
    assert after == before


def test_a_changed_post_is_parsed_again_and_rendered_again(site: Path, now) -> None:
    config = config_of(site)
    build(config, now, keep_going=True)
    target = site / "posts" / "2024-03-24-post-23.md"   # the newest post: in the main feed
    target.write_text(target.read_text("utf-8").replace("– café", "– changed"), "utf-8")
    report = build(config, now, keep_going=True)
    site_now = scan(config, now, cache_dir=config.cache_dir)
    post = next(p for p in site_now.posts if p.source == target)
    assert "changed" in post.title
    feed = (config.out_dir / "feed.xml").read_text("utf-8")
    assert post.title in feed
    assert report.rendered >= 1


def test_same_size_change_within_one_mtime_tick_is_seen(site: Path, now) -> None:
    """A file rewritten in the mtime tick the cache saw it in (racy git's case)."""
    config = config_of(site)
    target = site / "posts" / "2024-03-02-post-1.md"
    target.write_text(target.read_text("utf-8"), "utf-8")      # written "just now"
    stamp = target.stat().st_mtime_ns
    scan(config, now, cache_dir=config.cache_dir)
    text = target.read_text("utf-8")
    target.write_text(text.replace("Post 1 ", "Post X "), "utf-8")  # same size
    os.utime(target, ns=(stamp, stamp))
    again = scan(config, now, cache_dir=config.cache_dir)
    assert any(p.title.startswith("Post X") for p in again.posts)


def test_a_changed_setting_invalidates(site: Path, now) -> None:
    config = config_of(site)
    scan(config, now, cache_dir=config.cache_dir)
    (site / "feedpub.toml").write_text(TOML.replace("https://example.com", "https://other.example"), "utf-8")
    config2 = config_of(site)
    cached = scan(config2, now, cache_dir=config2.cache_dir)
    assert cached == scan(config2, now)
    assert all(p.url.startswith("https://other.example/blog/") for p in cached.posts)
    (site / "feedpub.toml").write_text(TOML.replace("Europe/Berlin", "Asia/Tokyo"), "utf-8")
    config3 = config_of(site)
    assert scan(config3, now, cache_dir=config3.cache_dir) == scan(config3, now)


@pytest.mark.parametrize("content", [
    b"garbage",
    MAGIC + b"\0" * 32 + b"not a pickle",
    b"",
    "truncated",
    "flipped",
    "evil",
    "wrong shape",
])
def test_a_corrupt_or_foreign_cache_is_ignored_with_a_notice(site: Path, now, content, monkeypatch) -> None:
    config = config_of(site)
    scan(config, now, cache_dir=config.cache_dir)
    path = config.cache_dir / FILENAME
    good = path.read_bytes()
    if content == "truncated":
        content = good[: len(good) // 2]
    elif content == "flipped":
        content = good[:-10] + bytes([good[-10] ^ 1]) + good[-9:]
    elif content == "evil":
        # a valid checksum over a pickle that would run a command: refused, never run
        class Evil:
            def __reduce__(self):
                return (os.system, ("touch pwned",))
        payload = pickle.dumps(("x", {"a": Evil()}), protocol=5)
        import hashlib
        content = MAGIC + hashlib.blake2b(payload, digest_size=32).digest() + payload
    elif content == "wrong shape":
        content = dumps((feedpub.scan_cache.settings_key(ParseContext.from_config(config)), {"posts/x.md": (1, 2)}))
    path.write_bytes(content)
    monkeypatch.chdir(site)
    result = scan(config, now, cache_dir=config.cache_dir)
    notices = [p for p in result.problems if p.severity == "notice" and "scan cache" in p.message]
    assert len(notices) == 1 and "ignoring" in notices[0].message
    assert result.posts == scan(config, now).posts
    assert not (site / "pwned").exists()
    # the cache was rebuilt: the next scan is quiet again
    quiet = scan(config, now, cache_dir=config.cache_dir)
    assert not [p for p in quiet.problems if "scan cache" in p.message]


def test_unwritable_cache_folder_costs_a_notice_not_the_build(site: Path, now) -> None:
    config = config_of(site)
    blocker = config.cache_dir
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the cache folder should be")
    result = scan(config, now, cache_dir=config.cache_dir)
    assert result.posts == scan(config, now).posts
    assert any("cannot write the scan cache" in p.message for p in result.problems)


def test_parallel_scan_equals_serial_scan(site: Path) -> None:
    config = config_of(site)
    files, _, _ = discover(config)
    context = ParseContext.from_config(config)
    serial = [parse_file(p, r, context) for p, r in files]
    assert feedpub.parallel.parse_many(files, context, jobs=1) == serial
    assert feedpub.parallel.parse_many(files, context, jobs=2) == serial
    assert feedpub.parallel.parse_many(files, context, jobs=3) == serial


def test_worker_count_only_above_the_threshold() -> None:
    assert feedpub.parallel.workers_for(10, 0) == 1
    assert feedpub.parallel.workers_for(feedpub.parallel.THRESHOLD - 1, 0) == 1
    assert feedpub.parallel.workers_for(5, 1) == 1
    assert feedpub.parallel.workers_for(5, 4) == 4
    assert feedpub.parallel.workers_for(3, 8) == 3


def test_cached_and_cold_builds_write_identical_bytes(make_site, now, tmp_path: Path) -> None:
    """Issue 6's "Done when": a cold build and a cached rebuild give the same files."""
    root = make_site(corpus(), toml=TOML)
    age(root)
    config = config_of(root)
    build(config, now, keep_going=True)                               # cold, fills the caches
    cold = files_of(config.out_dir)
    assert (config.cache_dir / FILENAME).is_file() and cold
    build(config, now, out_dir=tmp_path / "cached", keep_going=True)   # every post a cache hit
    assert files_of(tmp_path / "cached") == cold
    # change one post, build with the caches, then from nothing: the same bytes again
    target = root / "posts" / "2024-03-24-post-23.md"
    target.write_text(target.read_text("utf-8").replace("Intro 23", "Intro twenty-three"), "utf-8")
    build(config, now, out_dir=tmp_path / "cached2", keep_going=True)
    import shutil
    shutil.rmtree(config.cache_dir)
    build(config, now, out_dir=tmp_path / "cold2", keep_going=True)
    assert files_of(tmp_path / "cached2") == files_of(tmp_path / "cold2")
    assert files_of(tmp_path / "cold2") != cold


def test_feed_memo_reuses_unchanged_files_and_regenerates_touched_ones(make_site, now, tmp_path: Path, monkeypatch) -> None:
    import feedpub.feeds
    from feedpub.feed_memo import FILENAME as MEMO

    root = make_site(corpus(), toml=TOML)
    age(root)
    config = config_of(root)
    build(config, now, keep_going=True)
    assert (config.cache_dir / MEMO).is_file()
    first = files_of(config.out_dir)
    generated: list[str] = []
    for fmt, writer in list(feedpub.feeds.WRITERS.items()):
        def counting(doc, cache, writer=writer, fmt=fmt):
            generated.append(fmt)
            return writer(doc, cache)
        monkeypatch.setitem(feedpub.feeds.WRITERS, fmt, counting)
    build(config, now, keep_going=True)
    assert generated == [] and files_of(config.out_dir) == first
    # a feed file edited (or damaged) by hand is generated again, with the right bytes
    (config.out_dir / "feed.xml").write_bytes(b"<oops/>")
    build(config, now, keep_going=True)
    assert generated == ["atom"] and files_of(config.out_dir) == first
    # a corrupt memo: a notice, every file generated, the same bytes
    (config.cache_dir / MEMO).write_text("{not json")
    generated.clear()
    report = build(config, now, keep_going=True)
    assert any("feed memo" in p.message and p.severity == "notice" for p in report.problems)
    assert len(generated) == sum(1 for name in first if not name.endswith(".xsl"))
    assert files_of(config.out_dir) == first


def test_no_change_rebuild_imports_no_renderer_and_no_feed_library(make_site, now) -> None:
    """Every post a render-cache hit and every feed unchanged: Markdown, Pygments,
    python-liquid, feedgen and lxml are never imported (a fresh process shows it)."""
    import subprocess
    import sys

    root = make_site(corpus(), toml=TOML)
    age(root)
    code = (
        "import sys; from datetime import datetime, timezone; from pathlib import Path\n"
        "from feedpub.build import build; from feedpub.config import load_config\n"
        f"root = Path({str(root)!r}); c = load_config(root / 'feedpub.toml', root=root)\n"
        "build(c, datetime(2026, 11, 23, 12, tzinfo=timezone.utc), keep_going=True)\n"
        "print(','.join(m for m in ('markdown', 'pygments', 'liquid', 'feedgen', 'lxml', 'jinja2', 'httpx') if m in sys.modules))\n"
    )
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert "feedgen" in cold          # the check can fail (Markdown may run in the render workers)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert warm == ""


def test_parallel_rendering_writes_what_a_serial_build_writes(make_site, now, tmp_path: Path) -> None:
    """Cache misses rendered in worker processes (default) vs in this process (jobs = 1)."""
    import feedpub.parallel as par

    root = make_site(corpus(40), toml=TOML + "\n[build]\njobs = 2\n")
    age(root)
    config = config_of(root)
    report = build(config, now, keep_going=True)
    assert report.rendered >= par.RENDER_THRESHOLD
    parallel = files_of(config.out_dir)
    (root / "feedpub.toml").write_text(TOML + "\n[build]\njobs = 1\n", "utf-8")
    import shutil
    shutil.rmtree(config.cache_dir)
    serial_config = config_of(root)
    build(serial_config, now, out_dir=tmp_path / "serial", keep_going=True)
    assert files_of(tmp_path / "serial") == parallel


def test_prerender_fills_the_render_cache_in_workers(make_site, now) -> None:
    from feedpub.parallel import prerender
    from feedpub.render import Renderer

    root = make_site(corpus(), toml=TOML)
    config = config_of(root)
    site = scan(config, now)
    renderer = Renderer(site, cache_dir=config.cache_dir)
    posts = list(site.posts[:10])
    assert prerender(renderer, posts, jobs=2) == 10
    assert all(renderer.is_cached(p) for p in posts)
    assert prerender(renderer, posts, jobs=2) == 0          # all hits: no pool at all
    assert prerender(Renderer(site, cache_dir=None), posts, jobs=2) == 0


def test_a_few_changes_go_to_the_delta_and_many_rewrite_the_base(site: Path, now, monkeypatch) -> None:
    from feedpub.scan_cache import DELTA_FILENAME

    config = config_of(site)
    scan(config, now, cache_dir=config.cache_dir)
    base = (config.cache_dir / FILENAME).read_bytes()
    target = site / "posts" / "2024-03-05-post-4.md"
    target.write_text(target.read_text("utf-8").replace("Post 4 ", "Post four "), "utf-8")
    (site / "posts" / "2024-03-06-post-5.md").unlink()
    after = scan(config, now, cache_dir=config.cache_dir)
    assert (config.cache_dir / FILENAME).read_bytes() == base          # the base untouched
    assert (config.cache_dir / DELTA_FILENAME).is_file()
    again = scan(config, now, cache_dir=config.cache_dir)
    assert again == after == scan(config, now)
    assert any(p.title.startswith("Post four") for p in again.posts)
    # a damaged delta: a notice, and still the right posts (every entry is checked anyway)
    (config.cache_dir / DELTA_FILENAME).write_bytes(b"junk")
    damaged = scan(config, now, cache_dir=config.cache_dir)
    assert damaged.posts == after.posts
    assert any("delta" in p.message for p in damaged.problems)
    # many changes (more than DELTA_MAX, or 5% of the posts): a new base, no delta
    monkeypatch.setattr(feedpub.scan_cache, "DELTA_MAX", 3)
    for path in sorted((site / "posts").glob("2024-03-*.md")):
        path.write_text(path.read_text("utf-8") + "\nMore.\n", "utf-8")
    scan(config, now, cache_dir=config.cache_dir)
    assert (config.cache_dir / FILENAME).read_bytes() != base
    assert not (config.cache_dir / DELTA_FILENAME).exists()


def test_a_forked_worker_gets_its_own_render_watchdog() -> None:
    """The parent's watchdog lock may be held at fork time; the child must not share it."""
    import feedpub.render as render

    render._WATCHDOG.stop(render._WATCHDOG.start(5.0))   # the parent's watchdog thread runs
    parent = render._WATCHDOG
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # child: a fresh watchdog, usable at once
        ok = render._WATCHDOG is not parent and render._WATCHDOG.stop(render._WATCHDOG.start(5.0)) is False
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)


def test_feedpub_build_does_not_import_other_commands_libraries(sample_site: Path) -> None:
    """The CLI loads a command's module when it runs: `feedpub build` never imports
    httpx (send, ping) or Jinja2/css-inline (digest); help still lists every command."""
    import subprocess
    import sys

    code = (
        "import sys; from feedpub.cli import main, cli\n"
        "rc = main(['-q', 'build'])\n"
        "print(rc, ','.join(m for m in ('httpx', 'jinja2', 'css_inline') if m in sys.modules))\n"
        "print(len(cli.commands))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=sample_site, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}, check=True)
    first, second = out.stdout.strip().splitlines()[-2:]
    assert first == "0 "
    assert int(second) >= 10          # asking for all commands loads all of them
