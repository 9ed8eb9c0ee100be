"""feedpub serve: real HTTP on 127.0.0.1 (httpx), real builds, rebuilds on change, a real
headless Chromium loading the start page, and the command as a process (Ctrl-C)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import html as lxml_html

from feedpub.preview import ATOM, JSON_FEED, RSS, Preview, Watcher, feed_type
from feedpub.serve import XSLT, make_server, media_type

from conftest import FIXED_NOW, REPO

TOML = """\
[site]
title = "Serve Blog"
url = "https://serve.example"
author = "Sam"

[feeds]
categories = true
"""

POSTS = {
    "posts/2026-11-20-first.md": "---\ntitle: First post\ncategories: [python]\n---\nHello *world*.\n\nMore text.\n",
    "posts/2026-11-21-second.md": "---\ntitle: Second post\ncategories: [Sales Engineering]\n---\nSecond body.\n",
}


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(make_site, monkeypatch) -> Iterator[tuple[str, Path, Preview]]:
    """A site built and served from a thread, with a fast watcher; yields (base URL, root, preview)."""
    root = make_site(POSTS, toml=TOML)
    monkeypatch.chdir(root)
    preview = Preview(None, lambda: FIXED_NOW, root=root)
    state = preview.rebuild()
    assert state.error == "", state.error
    server = make_server(preview, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watcher = Watcher(preview, interval=0.1)
    watcher.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}", root, preview
    finally:
        watcher.stop()
        server.shutdown()
        server.server_close()
        watcher.join(5)


def generation(base: str) -> int:
    return httpx.get(f"{base}/_feedpub/status.json").json()["generation"]


# ---- media types ---------------------------------------------------------------------

def test_feeds_are_served_with_their_media_types(served):
    base, root, _ = served
    expected = {
        "/feed.xml": ATOM, "/rss.xml": RSS, "/feed.json": JSON_FEED,
        "/categories/python/feed.xml": ATOM, "/categories/python/rss.xml": RSS,
        "/categories/sales-engineering/feed.json": JSON_FEED,
    }
    with httpx.Client(base_url=base) as client:
        for path, kind in expected.items():
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"] == kind, path
            assert response.headers["cache-control"] == "no-store"
            assert response.content == (root / "public" / path.lstrip("/")).read_bytes()
        index = client.get("/")
        assert index.headers["content-type"] == "text/html; charset=utf-8"
        assert client.head("/feed.xml").headers["content-type"] == ATOM
        assert client.get("/_feedpub/nothing").status_code == 404
        assert client.get("/no-such-file.xml").status_code == 404


def test_media_type_sniffing(tmp_path):
    files = {
        "a.xml": b'<?xml version="1.0"?>\n<?xml-stylesheet href="/feed.xsl" type="text/xsl"?>\n<!-- c -->\n<feed xmlns="http://www.w3.org/2005/Atom"/>',
        "b.xml": b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel/></rss>',
        "c.json": b'{"version": "https://jsonfeed.org/version/1.1", "title": "x"}',
        "sitemap.xml": b'<?xml version="1.0"?><urlset/>',
        "data.json": b'{"a": 1}',
        "feed.xsl": b"<xsl:stylesheet/>",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert feed_type(tmp_path / "a.xml") == ATOM
    assert feed_type(tmp_path / "b.xml") == RSS
    assert feed_type(tmp_path / "c.json") == JSON_FEED
    assert media_type(tmp_path / "sitemap.xml") == "application/xml"
    assert media_type(tmp_path / "data.json") == "application/json"
    assert media_type(tmp_path / "feed.xsl") == XSLT
    assert media_type(tmp_path / "index.html") == "text/html; charset=utf-8"


def test_stylesheet_is_served_as_xslt(served):
    base, root, preview = served
    # whatever stylesheet the feeds link, an .xsl file gets application/xslt+xml
    (root / "public" / "extra.xsl").write_text("<xsl:stylesheet version='1.0' xmlns:xsl='http://www.w3.org/1999/XSL/Transform'/>")
    assert httpx.get(f"{base}/extra.xsl").headers["content-type"] == XSLT


# ---- the start page and the digest preview --------------------------------------------

def test_index_links_every_feed_and_the_digest(served):
    base, root, _ = served
    page = lxml_html.fromstring(httpx.get(base + "/").content)
    hrefs = {a.get("href"): a.get("type") for a in page.xpath("//a[@class='feed']")}
    assert hrefs["/feed.xml"] == ATOM and hrefs["/rss.xml"] == RSS and hrefs["/feed.json"] == JSON_FEED
    for slug in ("python", "sales-engineering"):
        for name, kind in (("feed.xml", ATOM), ("rss.xml", RSS), ("feed.json", JSON_FEED)):
            assert hrefs[f"/categories/{slug}/{name}"] == kind
    titles = page.xpath("//table[@id='category-feeds']//td[1]/text()")
    assert titles == ["Serve Blog | Sales Engineering", "Serve Blog | python"] or sorted(titles) == sorted(
        ["Serve Blog | Sales Engineering", "Serve Blog | python"])
    alternates = page.xpath("//head/link[@rel='alternate']")
    assert len(alternates) == len(hrefs)
    assert page.xpath("//a[@id='digest-link']/@href") == ["/_feedpub/digest/"]


def test_digest_preview_shows_html_beside_text(served):
    base, _, _ = served
    page = lxml_html.fromstring(httpx.get(base + "/_feedpub/digest/").content)
    assert page.xpath("//iframe[@id='digest-html']/@src") == ["/_feedpub/digest.html"]
    text = page.xpath("string(//pre[@id='digest-text'])")
    assert "First post" in text and "Second post" in text
    email = httpx.get(base + "/_feedpub/digest.html")
    assert email.headers["content-type"] == "text/html; charset=utf-8"
    assert "Second post" in email.text and "<script" not in email.text.lower()
    plain = httpx.get(base + "/_feedpub/digest.txt")
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    assert plain.text == text


def test_a_site_index_html_keeps_the_root_and_feedpub_moves_aside(served):
    base, root, _ = served
    (root / "public" / "index.html").write_text("<h1>my own site</h1>", "utf-8")
    assert "my own site" in httpx.get(base + "/").text
    assert "Serve Blog" in httpx.get(base + "/_feedpub/").text


# ---- rebuilding ------------------------------------------------------------------------

def test_rebuilds_when_a_post_is_added(served):
    base, root, _ = served
    before = generation(base)
    (root / "posts" / "2026-11-22-third.md").write_text("---\ntitle: Third\ncategories: [rust]\n---\nNew.\n", "utf-8")
    wait_for(lambda: generation(base) > before, what="a rebuild after a new post")
    feed = httpx.get(base + "/categories/rust/feed.xml")
    assert feed.status_code == 200 and "Third" in feed.text
    assert "Third" in httpx.get(base + "/feed.xml").text


def test_rebuilds_when_the_config_changes(served):
    base, root, _ = served
    before = generation(base)
    toml = root / "feedpub.toml"
    toml.write_text(toml.read_text("utf-8").replace("Serve Blog", "Renamed Blog"), "utf-8")
    wait_for(lambda: generation(base) > before, what="a rebuild after a config change")
    assert "Renamed Blog" in httpx.get(base + "/").text
    assert "<title>Renamed Blog</title>" in httpx.get(base + "/feed.xml").text


def test_rebuilds_when_a_template_changes(served):
    base, root, _ = served
    before = generation(base)
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "notes.txt").write_text("x", "utf-8")
    wait_for(lambda: generation(base) > before, what="a rebuild after a template change")


def test_editor_swap_files_do_not_trigger_a_rebuild(served):
    base, root, _ = served
    before = generation(base)
    (root / "posts" / ".2026-11-20-first.md.swp").write_bytes(b"swap")
    (root / "posts" / "2026-11-20-first.md~").write_bytes(b"backup")
    time.sleep(0.6)
    assert generation(base) == before


def test_a_broken_config_keeps_serving_the_last_good_feeds(served):
    base, root, _ = served
    before = generation(base)
    toml = root / "feedpub.toml"
    good = toml.read_text("utf-8")
    toml.write_text(good + "\n[site\n", "utf-8")
    wait_for(lambda: generation(base) > before, what="a rebuild after breaking the config")
    status = httpx.get(base + "/_feedpub/status.json").json()
    assert "TOML syntax error" in status["error"]
    page = httpx.get(base + "/").text
    assert "The build failed" in page and "feedpub.toml" in page
    assert httpx.get(base + "/feed.xml").status_code == 200
    # fixed again: the error goes away
    now = generation(base)
    toml.write_text(good, "utf-8")
    wait_for(lambda: generation(base) > now, what="a rebuild after fixing the config")
    assert httpx.get(base + "/_feedpub/status.json").json()["error"] == ""


def test_a_bad_post_is_shown_and_the_good_ones_still_published(served):
    base, root, _ = served
    before = generation(base)
    (root / "posts" / "2026-11-22-bad.md").write_text("---\ntitle: [unclosed\n---\nx\n", "utf-8")
    wait_for(lambda: generation(base) > before, what="a rebuild after a bad post")
    status = httpx.get(base + "/_feedpub/status.json").json()
    assert any("2026-11-22-bad.md" in p for p in status["problems"]), status
    assert "Second post" in httpx.get(base + "/feed.xml").text
    assert "2026-11-22-bad.md" in httpx.get(base + "/").text


# ---- the command as a user runs it ----------------------------------------------------

def start_serve(root: Path, *args: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "FEEDPUB_NOW": FIXED_NOW.isoformat()}
    env.pop("CI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "serve", "--port", "0", "--interval", "0.1", *args],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a test runner may have SIGINT ignored: give the child the default, like a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise AssertionError("feedpub serve did not start:\n" + "".join(lines) + proc.stderr.read())


def test_serve_command_serves_and_ctrl_c_exits_cleanly(make_site):
    root = make_site(POSTS, toml=TOML)
    proc, url = start_serve(root)
    try:
        assert httpx.get(url + "feed.xml").headers["content-type"] == ATOM
        assert (root / "public" / "feed.xml").is_file()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_serve_reports_a_port_in_use(make_site):
    root = make_site(POSTS, toml=TOML)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "feedpub", "serve", "--port", str(port)],
                              cwd=root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"port {port}" in proc.stderr and f"--port {port + 1}" in proc.stderr


def test_serve_without_config_says_what_to_do(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "feedpub", "serve", "--port", "0"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "feedpub init" in proc.stderr


# ---- a real browser -----------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM, reason="headless Chromium is not installed (Debian package chromium)")
def test_index_page_in_headless_chromium(served, tmp_path):
    base, root, _ = served
    result = chromium(tmp_path, "--dump-dom", base + "/")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = lxml_html.fromstring(result.stdout)
    links = dom.xpath("//a[@class='feed']")
    assert len(links) == 9      # 3 formats x (site + 2 categories)
    with httpx.Client(base_url=base) as client:
        for link in links:
            response = client.get(link.get("href"))
            assert response.status_code == 200
            assert response.headers["content-type"] == link.get("type")
    assert dom.xpath("string(//h1)") == "Serve Blog"
    assert "Serve Blog | python" in dom.xpath("string(//table[@id='category-feeds'])")

    # the digest preview page, rendered: the email in its frame, the text beside it
    result = chromium(tmp_path, "--dump-dom", base + "/_feedpub/digest/")
    dom = lxml_html.fromstring(result.stdout)
    assert "First post" in dom.xpath("string(//pre[@id='digest-text'])")

    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for name, path in (("serve-index.png", "/"), ("serve-digest.png", "/_feedpub/digest/")):
        shot = artifacts / name
        shot.unlink(missing_ok=True)
        result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1000,800", base + path)
        assert shot.is_file() and shot.stat().st_size > 5000, result.stderr[-2000:]


def test_digest_preview_with_nothing_new_shows_the_newest_posts(make_site):
    root = make_site({"posts/2020-01-01-old.md": "---\ntitle: Old news\n---\nOld.\n"}, toml=TOML)
    preview = Preview(None, lambda: FIXED_NOW, root=root)
    state = preview.rebuild()
    assert state.error == ""
    assert state.digest is not None and "Old news" in state.digest.text
    assert "nothing new" in state.digest.note


def test_no_posts_no_digest_preview(make_site):
    root = make_site({}, toml=TOML)
    state = Preview(None, lambda: FIXED_NOW, root=root).rebuild()
    assert state.digest is None and state.error == ""


def test_posts_folder_at_the_root_does_not_rebuild_in_a_loop(make_site):
    """With [paths] posts = "." the output folder sits inside a watched folder."""
    root = make_site({"2026-11-20-top.md": "---\ntitle: Top\n---\nx\n"},
                     toml=TOML + '\n[paths]\nposts = "."\n')
    preview = Preview(None, lambda: FIXED_NOW, root=root)
    preview.rebuild()
    before = preview.snapshot()
    assert not any("public" in p for p in before)
    watcher = Watcher(preview, interval=0.05)
    watcher.start()
    try:
        time.sleep(0.6)
        assert preview.state.generation == 1
        (root / "2026-11-21-more.md").write_text("---\ntitle: More\n---\ny\n", "utf-8")
        wait_for(lambda: preview.state.generation == 2, what="one rebuild")
        time.sleep(0.6)
        assert preview.state.generation == 2
    finally:
        watcher.stop()
        watcher.join(5)


STYLED_FEED = """<?xml version="1.0" encoding="utf-8"?>
<?xml-stylesheet href="/styled.xsl" type="text/xsl"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Styled feed</title></feed>
"""
STYLESHEET = """<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:a="http://www.w3.org/2005/Atom">
<xsl:output method="html"/>
<xsl:template match="/"><html><body><h1 id="styled">Styled: <xsl:value-of select="a:feed/a:title"/></h1></body></html></xsl:template>
</xsl:stylesheet>
"""
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_browsers_get_styled_feeds_as_application_xml(served):
    base, root, _ = served
    (root / "public" / "styled.xml").write_text(STYLED_FEED, "utf-8")
    (root / "public" / "styled.xsl").write_text(STYLESHEET, "utf-8")
    with httpx.Client(base_url=base) as client:
        assert client.get("/styled.xml").headers["content-type"] == ATOM          # readers, tools
        assert client.get("/styled.xml", headers={"Accept": "application/atom+xml"}).headers["content-type"] == ATOM
        browser = client.get("/styled.xml", headers={"Accept": BROWSER_ACCEPT})
        assert browser.headers["content-type"] == "application/xml"
        assert browser.headers["vary"] == "Accept"
        # a feed without a stylesheet keeps its type even for a browser
        plain = client.get("/feed.xml", headers={"Accept": BROWSER_ACCEPT})
        if b"<?xml-stylesheet" not in (root / "public" / "feed.xml").read_bytes():
            assert plain.headers["content-type"] == ATOM


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM, reason="headless Chromium is not installed (Debian package chromium)")
def test_chromium_applies_a_feed_stylesheet(served, tmp_path):
    base, root, _ = served
    (root / "public" / "styled.xml").write_text(STYLED_FEED, "utf-8")
    (root / "public" / "styled.xsl").write_text(STYLESHEET, "utf-8")
    result = chromium(tmp_path, "--dump-dom", base + "/styled.xml")
    assert "Styled: Styled feed" in result.stdout, result.stdout[:2000]


def test_serve_drafts_flag_publishes_drafts_in_the_preview(make_site):
    posts = {**POSTS, "posts/2026-11-22-wip.md": "---\ntitle: Work in progress\ndraft: true\n---\nSoon.\n"}
    root = make_site(posts, toml=TOML)
    proc, url = start_serve(root, "--drafts")
    try:
        assert "Work in progress" in httpx.get(url + "feed.xml").text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    proc, url = start_serve(root)
    try:
        assert "Work in progress" not in httpx.get(url + "feed.xml").text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


def test_index_shows_the_same_tags_as_feedpub_snippet(served, capsys, monkeypatch):
    base, root, _ = served
    from feedpub.cli import main

    monkeypatch.setenv("FEEDPUB_NOW", FIXED_NOW.isoformat())
    assert main(["snippet"]) == 0
    snippet = capsys.readouterr().out.strip().splitlines()
    page = lxml_html.fromstring(httpx.get(base + "/").content)
    shown = page.xpath("string(//pre[@id='snippet'])").splitlines()
    assert sorted(shown) == sorted(snippet)


def test_pages_escape_titles_and_subjects(make_site):
    from feedpub.serve import digest_page, index_page

    hostile = '<script>alert(1)</script> & "q"'
    toml = TOML.replace('title = "Serve Blog"', f"title = '{hostile}'")
    root = make_site({"posts/2026-11-20-x.md": f"---\ntitle: '{hostile}'\ncategories: ['{hostile}']\n---\nx\n"}, toml=toml)
    state = Preview(None, lambda: FIXED_NOW, root=root).rebuild()
    assert state.error == "", state.error
    for page in (index_page(state), digest_page(state)):
        text = page.decode("utf-8")
        assert "<script>" not in text
        tree = lxml_html.fromstring(page)
        assert not tree.xpath("//script")
    assert hostile in lxml_html.fromstring(index_page(state)).xpath("string(//h1)")
