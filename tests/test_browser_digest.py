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
from test_digest_support import NOW, SITE_TOML, MarkdownRender, make_config, sample_posts
from test_digest_support import make_site as site_of

from feedpub.config import load_config
from feedpub.digest import render_digest, select
from feedpub.digest.compose import compose

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


STRESS_TOML = SITE_TOML + '\n[digest]\nmax_posts = 3\ncontent = "%s"\n'


def _stress_files():
    """Everything that widens emails: a long code line, a wide image, a wide table, a long URL."""
    long_url = "https://example.com/" + "a-very-long-path-segment-" * 8
    columns = range(12)
    table = ("| " + " | ".join(f"column {i}" for i in columns) + " |\n|" + "---|" * 12 + "\n| "
             + " | ".join("value" for _ in columns) + " |\n")
    stress = (
        f"Stress test with a bare long link {long_url} in the first paragraph.\n\n"
        '![A very wide panorama](/img/panorama.png){: width="2400"}\n\n'
        "```python\n" + "def f(): return " + " + ".join(f"value_{i}" for i in range(40)) + "\n```\n\n" + table
    )
    title = "A post with an extremely long title that goes on and on " * 2
    return {
        "posts/2026-11-23-stress.md": f"---\ntitle: {title.strip()}\ncategories: [one, two, three, four, five]\n---\n{stress}",
        "posts/2026-11-22-third.md": "---\ntitle: Third post\n---\nThe **newest** post with [a link](/about/).\n\n"
                                     "    indented code block " + "x" * 120 + "\n",
        "posts/2026-11-20-second.md": "---\ntitle: Second post\n---\nSecond post.\n\n- one\n- two\n",
        "posts/2026-11-17-first.md": "---\ntitle: First post\n---\nThe first post of the week.\n",
    }


@pytest.mark.parametrize("content", ["excerpt", "full"])
@pytest.mark.parametrize("width", WIDTHS)
def test_no_horizontal_overflow(browser, make_site, tmp_path, content, width):
    """Real scan and render (Pygments' inline styles included) of posts made to overflow."""
    root = make_site(_stress_files(), toml=STRESS_TOML % content)
    email = compose(load_config(root / "feedpub.toml", root=root), NOW, last=4).email
    assert "value_39" in email.html if content == "full" else "More posts" in email.html
    page = _write(tmp_path, email, content)
    m = _look(browser, page, f"stress-{content}", width)
    assert m["innerWidth"] == width
    assert m["scrollWidth"] <= m["innerWidth"], f"the digest scrolls sideways at {width}px: {m}"
    assert m["widest"] <= width + 0.5, m
    assert m["container"] <= 600
    assert not m["preheaderShown"]


def test_dark_mode_switches_colours(browser, tmp_path):
    config = make_config(tmp_path)
    digest = select(site_of(config, sample_posts(tmp_path)), now=NOW)
    page = _write(tmp_path, render_digest(digest, MarkdownRender(), config, NOW), "dark")
    light = _look(browser, page, "sample", 375)
    dark = _look(browser, page, "sample", 375, dark=True)
    assert light["bodyBg"] == "rgb(242, 243, 245)"
    assert dark["bodyBg"] == "rgb(13, 17, 23)"
    assert dark["scrollWidth"] <= 375


def test_screenshots_are_saved(browser, tmp_path):
    config = make_config(tmp_path)
    digest = select(site_of(config, sample_posts(tmp_path)), now=NOW)
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
