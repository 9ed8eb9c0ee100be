"""The build pipeline: scan -> render -> feeds -> files, and what it does when things fail."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")
pytest.importorskip("feedpub.render", reason="feedpub/render.py (Renderer) has not landed yet")

from feedpub.build import build  # noqa: E402
from feedpub.config import load_config  # noqa: E402
from feedpub.errors import BuildError, OutputError, RenderError  # noqa: E402
from feedpub.render import Renderer  # noqa: E402

GOOD = "---\ntitle: Good {n}\ndate: 2024-0{n}-01 10:00:00 +0000\ncategories: [news]\n---\nHello {n}.\n"
BAD = "---\ntitle: Bad\ndate: 2024-02-30\n---\nBody\n"


def _site(make_site, n: int = 3, extra: dict[str, str] | None = None, toml: str | None = None) -> Path:
    files = {f"posts/2024-0{i}-01-good-{i}.md": GOOD.format(n=i) for i in range(1, n + 1)}
    files.update(extra or {})
    return make_site(files, toml=toml) if toml else make_site(files)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_sample_blog_twice_gives_identical_bytes(sample_site: Path, now) -> None:
    config = load_config(root=sample_site)
    report = build(config, now)
    assert report.ok and report.posts == 2
    entries = {o.path.relative_to(config.out_dir).as_posix(): o.entries for o in report.outputs}
    assert entries["feed.xml"] == entries["rss.xml"] == entries["feed.json"] == 2
    assert entries["categories/sales-engineering/feed.xml"] == 2
    first = _snapshot(config.out_dir)
    again = build(config, now.replace(year=now.year + 1))      # another day, same posts
    assert not any(o.changed for o in again.outputs)
    assert _snapshot(config.out_dir) == first


def test_bad_post_fails_the_build_and_writes_nothing(make_site, now) -> None:
    root = _site(make_site, extra={"posts/2024-02-15-bad.md": BAD})
    config = load_config(root=root)
    with pytest.raises(BuildError) as info:
        build(config, now)
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert [(p.path, p.line) for p in errors] == [("posts/2024-02-15-bad.md", 3)]
    assert "2024-02-30" in errors[0].message
    assert "nothing was written" in str(info.value)
    assert not config.out_dir.exists()


def test_bad_post_leaves_previous_outputs_untouched(make_site, now) -> None:
    root = _site(make_site)
    config = load_config(root=root)
    build(config, now)
    before = _snapshot(config.out_dir)
    (root / "posts/2024-02-15-bad.md").write_text(BAD)
    (root / "posts/2024-05-01-new.md").write_text(GOOD.format(n=5))
    with pytest.raises(BuildError):
        build(config, now)
    assert _snapshot(config.out_dir) == before


def test_keep_going_publishes_the_good_posts(make_site, now) -> None:
    root = _site(make_site, extra={"posts/2024-02-15-bad.md": BAD})
    config = load_config(root=root)
    report = build(config, now, keep_going=True)
    assert not report.ok
    assert [p.path for p in report.errors] == ["posts/2024-02-15-bad.md"]
    feed = json.loads((config.out_dir / "feed.json").read_text())
    assert [i["title"] for i in feed["items"]] == ["Good 3", "Good 2", "Good 1"]


def test_render_error_in_a_feed_post_counts_as_a_post_error(make_site, now, monkeypatch) -> None:
    root = _site(make_site)
    config = load_config(root=root)
    original = Renderer.render

    def render(self, post):  # noqa: ANN001, ANN202
        if post.title == "Good 2":
            raise RenderError("rendering took longer than 10 s", path=post.relpath, line=5)
        return original(self, post)

    monkeypatch.setattr(Renderer, "render", render)
    with pytest.raises(BuildError) as info:
        build(config, now)
    assert [str(p) for p in info.value.problems if p.severity == "error"] == [
        "posts/2024-02-01-good-2.md:5: rendering took longer than 10 s"]
    assert not config.out_dir.exists()
    report = build(config, now, keep_going=True)
    assert [p.path for p in report.errors] == ["posts/2024-02-01-good-2.md"]
    items = json.loads((config.out_dir / "feed.json").read_text())["items"]
    assert [i["title"] for i in items] == ["Good 3", "Good 1"]


def test_only_posts_in_some_feed_are_rendered(make_site, now, monkeypatch) -> None:
    toml = textwrap.dedent("""\
        [site]
        title = "T"
        url = "https://example.com"
        [feeds]
        limit = 2
        """)
    root = _site(make_site, n=6, toml=toml)
    rendered = []
    original = Renderer.render

    def render(self, post):  # noqa: ANN001, ANN202
        rendered.append(post.title)
        return original(self, post)

    monkeypatch.setattr(Renderer, "render", render)
    report = build(load_config(root=root), now)
    assert sorted(rendered) == ["Good 5", "Good 6"]
    assert report.rendered == 2 and report.posts == 6


def test_out_dir_override_and_future_drafts(make_site, now, tmp_path) -> None:
    root = _site(make_site, extra={
        "posts/2030-01-01-future.md": "---\ntitle: Future\n---\nLater.\n",
        "posts/2024-06-01-draft.md": "---\ntitle: Draft\ndraft: true\n---\nSoon.\n",
    })
    config = load_config(root=root)
    out = tmp_path / "elsewhere"
    report = build(config, now, out_dir=out)
    assert {p for p, _ in report.skipped} >= {"posts/2030-01-01-future.md", "posts/2024-06-01-draft.md"}
    titles = [i["title"] for i in json.loads((out / "feed.json").read_text())["items"]]
    assert "Future" not in titles and "Draft" not in titles
    build(config, now, out_dir=out, future=True, drafts=True)
    titles = [i["title"] for i in json.loads((out / "feed.json").read_text())["items"]]
    assert titles[:1] == ["Future"] and "Draft" in titles
    assert not config.out_dir.exists()


def test_output_folder_that_cannot_be_created_is_an_output_error(make_site, now) -> None:
    root = _site(make_site)
    config = load_config(root=root)
    build(config, now)
    before = _snapshot(config.out_dir)
    # A file where the category folder must go: mkdir fails, even for root.
    (root / "feedpub.toml").write_text((root / "feedpub.toml").read_text() + "[feeds]\ncategories = true\n")
    config = load_config(root=root)
    (config.out_dir / "categories").write_text("not a folder")
    (root / "posts/2024-05-01-new.md").write_text(GOOD.format(n=5))
    with pytest.raises(OutputError) as info:
        build(config, now)
    assert "cannot write" in str(info.value)
    after = _snapshot(config.out_dir)
    assert {k: v for k, v in after.items() if k != "categories"} == before
    assert not [p for p in config.out_dir.rglob("*.tmp")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_output_folder(make_site, now) -> None:
    root = _site(make_site)
    config = load_config(root=root)
    build(config, now)
    before = _snapshot(config.out_dir)
    (root / "posts/2024-05-01-new.md").write_text(GOOD.format(n=5))
    config.out_dir.chmod(0o555)
    try:
        with pytest.raises(OutputError):
            build(config, now)
    finally:
        config.out_dir.chmod(0o755)
    assert _snapshot(config.out_dir) == before


# ---- real failures in a child process: a full disk, a kill ----------------------------

def _child(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(code) + textwrap.dedent("""
        from feedpub.cli import main
        sys.exit(main(["build"]))
        """)
    env = {**os.environ, "FEEDPUB_NOW": "2026-11-23T12:00:00+00:00", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


def test_disk_full_leaves_previous_feeds_and_no_temp_files(make_site) -> None:
    root = _site(make_site)
    assert _child(root, "import sys").returncode == 0
    before = _snapshot(root / "public")
    (root / "posts/2024-05-01-new.md").write_text(GOOD.format(n=5) + "x" * 20000)
    # RLIMIT_FSIZE makes every write past N bytes fail with EFBIG, as a full disk fails
    # with ENOSPC: a real write error from the kernel, not a mock.
    result = _child(root, """
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        """)
    assert result.returncode == 1, result.stderr
    assert "cannot write" in result.stderr and "File too large" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(root / "public") == before
    assert not list((root / "public").rglob("*.tmp"))
    # With room again, the next build works.
    assert _child(root, "import sys").returncode == 0
    assert "Good 5" in (root / "public/feed.json").read_text()


def test_killed_during_a_build_then_the_next_build_works(make_site) -> None:
    root = _site(make_site)
    assert _child(root, "import sys").returncode == 0
    before = _snapshot(root / "public")
    (root / "posts/2024-05-01-new.md").write_text(GOOD.format(n=5))
    # SIGKILL at the worst moment: every new file staged, none renamed yet.
    result = _child(root, """
        import os, signal, sys
        real_replace = os.replace
        def replace(src, dst, *args, **kwargs):
            if "/public/" in str(dst):
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst, *args, **kwargs)
        os.replace = replace
        """)
    assert result.returncode == -9
    assert {k: v for k, v in _snapshot(root / "public").items() if not k.split("/")[-1].startswith(".")} == before
    stale = list((root / "public").rglob("*.tmp"))
    assert stale                                           # the kill left its temp files...
    for tmp in stale:                                      # (killed an hour ago)
        os.utime(tmp, (time.time() - 3600, time.time() - 3600))
    assert _child(root, "import sys").returncode == 0
    assert not list((root / "public").rglob("*.tmp"))     # ...and the next build removed them
    assert "Good 5" in (root / "public/feed.json").read_text()


def test_build_writes_web_copies_of_sent_digests(sample_site: Path, now) -> None:
    from feedpub.posts import scan

    config = load_config(root=sample_site)
    ids = [p.id for p in scan(config, now).posts]
    journal = config.path(config.send.journal)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps({
        "event": "complete", "digest": "d1", "date": "2024-07-20T09:00:00+00:00",
        "newest": "2024-07-18T14:20:00+00:00", "post_ids": ids, "subject": "Two new posts",
    }) + "\n")
    report = build(config, now)
    web = {o.path.relative_to(config.out_dir).as_posix(): o for o in report.outputs if o.kind.startswith("digest")}
    assert web["digests/2024-07-20.html"].entries == 2
    assert "digests/index.html" in web
    assert "Sustaining a career" in (config.out_dir / "digests/2024-07-20.html").read_text()
    # No journal, no web copies (and no error).
    journal.unlink()
    assert not [o for o in build(config, now).outputs if o.kind.startswith("digest")]


def test_write_many_removes_only_old_temp_files(tmp_path: Path) -> None:
    from feedpub.atomicio import write_many

    old = tmp_path / ".feed.xml.dead.tmp"
    fresh = tmp_path / ".feed.xml.live.tmp"       # another build staging right now
    for tmp in (old, fresh):
        tmp.write_bytes(b"partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert write_many({tmp_path / "feed.xml": b"<feed/>"}) == {tmp_path / "feed.xml": True}
    assert not old.exists() and fresh.exists()
    assert write_many({tmp_path / "feed.xml": b"<feed/>"}) == {tmp_path / "feed.xml": False}
