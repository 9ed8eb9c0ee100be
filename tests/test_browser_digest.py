"""The digest in a real browser: headless Chromium at 600 px and 375 px wide.

Asserts no horizontal overflow (the email never scrolls sideways on a phone) and saves
screenshots into test-artifacts/ for a person to look at. Needs Debian's chromium and
chromium-driver and the selenium package (test extra); skipped with the reason otherwise.
Selenium rather than ``chromium --screenshot``: headless Chromium will not make a window
narrower than 500 px, while DevTools' device metrics can emulate a 375 px phone.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_digest_support import NOW, MarkdownRender, days_ago, make_config, make_site, sample_posts, write_post

from feedpub.digest import render_digest, select

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WIDTHS = (600, 375)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (Debian package: chromium)")
    if not Path(CHROMEDRIVER).exists():
        pytest.skip("chromedriver is not installed (Debian package: chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
                 "--host-resolver-rules=MAP * ~NOTFOUND"):  # loopback only: remote images fail fast
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _metrics(driver, width, height, dark=False):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})


def _measure(driver):
    return driver.execute_script("""
        const doc = document.documentElement;
        const container = document.querySelector('table.container');
        // elements inside a scroll box (a wide table's wrapper) may extend past it
        const inScroller = e => { for (let p = e.parentElement; p; p = p.parentElement)
            if (getComputedStyle(p).overflowX !== 'visible') return true; return false; };
        const widest = Math.max(...[...document.body.querySelectorAll('*')].filter(e => !inScroller(e))
                                    .map(e => e.getBoundingClientRect().right));
        return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, height: doc.scrollHeight,
                container: container.getBoundingClientRect().width, widest: widest,
                bodyBg: getComputedStyle(document.body).backgroundColor,
                preheaderShown: document.querySelector('.preheader').getBoundingClientRect().height > 0};
    """)


def _look(driver, page: Path, name: str, width: int, dark: bool = False) -> dict:
    _metrics(driver, width, 900, dark)
    driver.get(page.resolve().as_uri())
    m = _measure(driver)
    _metrics(driver, width, min(m["height"], 8000), dark)  # the whole page in one screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"digest-{name}-{width}{'-dark' if dark else ''}.png"))
    return m


def _write(tmp_path, email, name) -> Path:
    path = tmp_path / f"{name}.html"
    path.write_text(email.html, "utf-8")
    return path


def _stress_posts(root):
    """Everything that widens emails: a long code line, a wide image, a wide table, a long URL."""
    long_url = "https://example.com/" + "a-very-long-path-segment-" * 8
    table = "| " + " | ".join(f"column {i}" for i in range(12)) + " |\n|" + "---|" * 12 + "\n| " + " | ".join("value" for _ in range(12)) + " |\n"
    body = (
        f"Stress test with a bare long link {long_url} in the first paragraph.\n\n"
        '<img src="/img/panorama.png" width="2400" alt="A very wide panorama">\n\n'
        "```python\n" + "def f(): return " + " + ".join(f"value_{i}" for i in range(40)) + "\n```\n\n" + table
    )
    posts = sample_posts(root)
    posts.append(write_post(root, "stress", "A post with an extremely long title that goes on and on " * 2, body,
                            date=days_ago(0.5), categories=("one", "two", "three", "four", "five")))
    return posts


@pytest.mark.parametrize("content", ["excerpt", "full"])
@pytest.mark.parametrize("width", WIDTHS)
def test_no_horizontal_overflow(browser, tmp_path, content, width):
    config = make_config(tmp_path, digest={"content": content, "max_posts": 3})
    digest = select(make_site(config, _stress_posts(tmp_path)), now=NOW)
    page = _write(tmp_path, render_digest(digest, MarkdownRender(), config, NOW), content)
    m = _look(browser, page, f"stress-{content}", width)
    assert m["innerWidth"] == width
    assert m["scrollWidth"] <= m["innerWidth"], f"the digest scrolls sideways at {width}px: {m}"
    assert m["widest"] <= width + 0.5, m
    assert m["container"] <= 600
    assert not m["preheaderShown"]


def test_dark_mode_switches_colours(browser, tmp_path):
    config = make_config(tmp_path)
    digest = select(make_site(config, sample_posts(tmp_path)), now=NOW)
    page = _write(tmp_path, render_digest(digest, MarkdownRender(), config, NOW), "dark")
    light = _look(browser, page, "sample", 375)
    dark = _look(browser, page, "sample", 375, dark=True)
    assert light["bodyBg"] == "rgb(242, 243, 245)"
    assert dark["bodyBg"] == "rgb(13, 17, 23)"
    assert dark["scrollWidth"] <= 375


def test_screenshots_are_saved(browser, tmp_path):
    config = make_config(tmp_path)
    digest = select(make_site(config, sample_posts(tmp_path)), now=NOW)
    page = _write(tmp_path, render_digest(digest, MarkdownRender(), config, NOW), "shot")
    _look(browser, page, "shot-check", 600)
    shot = ARTIFACTS / "digest-shot-check-600.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shot.unlink()


@pytest.mark.parametrize("name", ["sample.html", "sample-full.html"])
@pytest.mark.parametrize("width", WIDTHS)
def test_sample_blog_golden_digest_fits(browser, tmp_path, name, width):
    """The checked-in golden digests of the sample blog (real scan + render) fit too."""
    golden = Path(__file__).resolve().parent / "golden" / "digest" / name
    page = tmp_path / name
    page.write_text(golden.read_text("utf-8"), "utf-8")
    m = _look(browser, page, f"sample-blog-{name.removesuffix('.html')}", width)
    assert m["innerWidth"] == width
    assert m["scrollWidth"] <= width, m
    assert m["widest"] <= width + 0.5, m
