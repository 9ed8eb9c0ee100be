"""``feedpub serve``: build, serve the output folder on 127.0.0.1, rebuild on changes.

Three small parts, each testable on its own:

- ``Preview``: runs a build (and renders a digest preview in memory) for the config as it
  is on disk now, keeping the outcome (feeds found, digest, errors) for the pages below.
  A failed build leaves the previous output in place and shows the error instead.
- ``Watcher``: a polling thread (no extra dependency) that snapshots the mtime and size
  of the config, the posts and the templates and calls ``Preview.rebuild`` once a change
  has settled.
- ``make_server``: ``http.server`` serving the output folder with the feed media types
  (``application/atom+xml``, ``application/rss+xml``, ``application/feed+json``,
  ``application/xslt+xml``), no caching, and feedpub's pages under ``/_feedpub/``: an
  index linking every feed and the digest preview (the HTML as the email shows it, with
  its text part beside it). ``/`` is that index unless the output has its own index.html.
  A browser asking for HTML gets a feed that links an XSL stylesheet as
  ``application/xml``: the only type browsers apply the stylesheet to.

Only loopback by default: it is a preview for the author, not a production server.
"""
from __future__ import annotations

import html
import json
import os
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .config import Config, find_config, load_config
from .errors import BuildError, FeedpubError

ATOM = "application/atom+xml"
RSS = "application/rss+xml"
JSON_FEED = "application/feed+json"
XSLT = "application/xslt+xml"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xsl": XSLT,
    ".xslt": XSLT,
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".eml": "message/rfc822",
    ".xml": "application/xml",
    ".json": "application/json",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
FORMAT_NAMES = {ATOM: "Atom", RSS: "RSS", JSON_FEED: "JSON Feed"}
PREFIX = "/_feedpub/"


# ---- what a file in the output is -----------------------------------------------------

def feed_type(path: Path) -> str | None:
    """The feed media type of an .xml/.json file, from its first bytes (feed.xml and
    rss.xml share an extension, and the paths are configurable)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if path.suffix == ".json":
        return JSON_FEED if b"jsonfeed.org/version" in head else None
    # skip the XML declaration, stylesheet PIs and comments
    body = re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", head, flags=re.S).lstrip()
    if body.startswith(b"<feed"):
        return ATOM
    if body.startswith(b"<rss"):
        return RSS
    return None


def has_stylesheet(path: Path) -> bool:
    """True if the XML file links an XSL stylesheet (``<?xml-stylesheet ...?>``)."""
    try:
        with open(path, "rb") as fh:
            return b"<?xml-stylesheet" in fh.read(4096)
    except OSError:
        return False


def wants_html(accept: str) -> bool:
    """A browser navigating to the URL (``Accept: text/html,...``), not a feed reader."""
    return "text/html" in (accept or "")


def media_type(path: Path) -> str:
    if path.suffix in (".xml", ".json"):
        found = feed_type(path)
        if found:
            return found
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class FeedLink:
    """One feed in the output folder, as the index page and autodiscovery show it."""

    href: str            # site-relative URL path, e.g. /categories/python/feed.xml
    type: str            # media type
    title: str           # the feed's own title
    main: bool           # the site-wide feeds (not a category or tag feed)

    @property
    def format(self) -> str:
        return FORMAT_NAMES.get(self.type, self.type)


def _feed_title(path: Path, kind: str) -> str:
    try:
        if kind == JSON_FEED:
            return str(json.loads(path.read_text("utf-8")).get("title", ""))
        from lxml import etree

        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        title = root.find("{http://www.w3.org/2005/Atom}title") if kind == ATOM else root.find("channel/title")
        return (title.text or "").strip() if title is not None else ""
    except Exception:  # a half-written or foreign file: list it without a title
        return ""


def find_feeds(out_dir: Path, main_paths: Iterable[str] = ()) -> list[FeedLink]:
    """Every feed file under ``out_dir``: the main feeds first, then the rest by path."""
    main = {p.strip("/") for p in main_paths}
    links = []
    if not out_dir.is_dir():
        return links
    for path in sorted(out_dir.rglob("*")):
        if path.suffix not in (".xml", ".json") or not path.is_file():
            continue
        kind = feed_type(path)
        if not kind:
            continue
        rel = path.relative_to(out_dir).as_posix()
        is_main = rel in main if main else "/" not in rel
        links.append(FeedLink("/" + quote(rel), kind, _feed_title(path, kind), is_main))
    order = {ATOM: 0, RSS: 1, JSON_FEED: 2}
    links.sort(key=lambda f: (not f.main, f.href.rsplit("/", 1)[0] if not f.main else "", order.get(f.type, 3)))
    return links


# ---- building ------------------------------------------------------------------------

@dataclass
class DigestPreview:
    subject: str
    html: str
    text: str
    note: str            # which posts and why


@dataclass
class State:
    """The outcome of the latest build, shown by the pages."""

    generation: int = 0
    built_at: datetime | None = None
    out_dir: Path | None = None
    site_title: str = "feedpub"
    site_url: str = ""           # [site] url + baseurl: where the feeds will live
    feeds: list[FeedLink] = field(default_factory=list)
    digest: DigestPreview | None = None
    error: str = ""
    problems: list[str] = field(default_factory=list)


BuildFn = Callable[[Config, datetime], Any]
DigestFn = Callable[[Config, datetime], "DigestPreview | None"]


def default_build(config: Config, now: datetime) -> Any:
    from .build import build

    return build(config, now, keep_going=True)


def build_with(*, drafts: bool | None = None, future: bool | None = None) -> BuildFn:
    """A build for the preview that also publishes drafts and/or future posts."""
    def run(config: Config, now: datetime) -> Any:
        from .build import build

        return build(config, now, keep_going=True, drafts=drafts, future=future)

    return run


def default_digest(config: Config, now: datetime) -> DigestPreview | None:
    """What the next ``feedpub digest``/``send`` would render (the same ``compose``); with
    nothing new, the newest posts as a sample so the email's look can still be checked."""
    from .digest import fill_unsubscribe
    from .digest.compose import compose
    from .digest.render import preview_unsubscribe_url

    composed = compose(config, now)
    note = ""
    if composed.email is None and composed.site.posts:
        composed = compose(config, now, last=min(3, len(composed.site.posts)))
        note = "The next digest would have nothing new to send; this preview shows the newest posts."
    if composed.email is None or composed.digest is None:
        return None
    email = composed.email
    first = config.send.to[0] if config.send.to else "subscriber@example.com"
    unsubscribe = preview_unsubscribe_url(config, first)
    if unsubscribe:
        email = fill_unsubscribe(email, unsubscribe)
    digest = composed.digest
    return DigestPreview(email.subject, email.html, email.text,
                         note or f"{digest.count} post(s): {digest.reason}")


class Preview:
    """Loads the config, builds and renders the digest preview; keeps the latest ``State``."""

    def __init__(
        self,
        config_path: Path | None,
        clock: Callable[[], datetime],
        *,
        root: Path | None = None,
        build: BuildFn = default_build,
        digest: DigestFn | None = default_digest,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.config_path = config_path
        self.root = (root or Path.cwd()).resolve()
        self.clock = clock
        self._build = build
        self._digest = digest
        self.log = log
        self.config: Config | None = None
        self.state = State()
        self._lock = threading.Lock()

    def load(self) -> Config:
        return load_config(self.config_path, root=self.root)

    def watched(self) -> list[Path]:
        """The config file(s), the posts, the templates folder and Jekyll's _includes/."""
        paths: list[Path] = []
        config_file = self.config_path or find_config(self.root)
        if config_file:
            paths.append(Path(config_file))
        paths += [self.root / "feedpub.toml", self.root / "_config.yml", self.root / "pyproject.toml",
                  self.root / "_includes"]
        config = self.config
        if config is not None:
            paths += [config.posts_dir, config.path(config.paths.templates)]
        else:
            paths += [self.root / "posts", self.root / "_posts", self.root / "templates"]
        return list(dict.fromkeys(p.resolve() for p in paths))

    def snapshot(self) -> dict[str, tuple[int, int]]:
        config = self.config
        exclude = [config.out_dir.resolve(), config.cache_dir.resolve()] if config else [(self.root / "public").resolve()]
        return snapshot(self.watched(), exclude)

    def rebuild(self) -> State:
        """Build now; the state after it (the previous output stays if the build fails)."""
        with self._lock:
            now = self.clock()
            state = State(generation=self.state.generation + 1, built_at=now,
                          out_dir=self.state.out_dir, feeds=self.state.feeds, site_title=self.state.site_title,
                          site_url=self.state.site_url)
            try:
                config = self.load()
                self.config = config
                state.out_dir = config.out_dir
                state.site_title = config.site.title or "feedpub"
                state.site_url = config.site_url
                report = self._build(config, now)
                state.problems = [str(p) for p in getattr(report, "problems", ()) or ()]
                state.feeds = find_feeds(config.out_dir, _main_paths(config))
                if self._digest is not None:
                    try:
                        state.digest = self._digest(config, now)
                    except FeedpubError as exc:
                        state.problems.append(f"digest preview: {exc}")
                self.log(f"built {len(state.feeds)} feed files into {_show(config.out_dir, self.root)}"
                         + (f" ({len(state.problems)} problem(s))" if state.problems else ""))
            except BuildError as exc:
                state.error = str(exc)
                state.problems = [str(p) for p in exc.problems]
                self.log(f"build failed: {exc.message}")
            except FeedpubError as exc:
                state.error = str(exc)
                self.log(f"build failed: {exc}")
            except Exception as exc:  # keep serving; show what broke
                state.error = f"unexpected error: {exc!r}\n\n{traceback.format_exc()}"
                self.log(f"build failed: {exc!r}")
            self.state = state
            return state


def _main_paths(config: Config) -> list[str]:
    return [getattr(config.feeds, f) for f in ("atom", "rss", "json") if f in config.feeds.formats]


def _show(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


# ---- watching ------------------------------------------------------------------------

_IGNORED = re.compile(r"(^\.|~$|\.sw[a-z]$|^#.*#$|^4913$|\.tmp$)")


def snapshot(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> dict[str, tuple[int, int]]:
    """path -> (mtime_ns, size) of every file under ``paths`` (hidden and editor files
    skipped, and the folders in ``exclude``: the build's own output must not trigger it)."""
    skip = {str(p) for p in exclude}
    seen: dict[str, tuple[int, int]] = {}
    for base in paths:
        if base.is_file():
            st = base.stat()
            seen[str(base)] = (st.st_mtime_ns, st.st_size)
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and os.path.join(dirpath, d) not in skip]
            for name in filenames:
                if _IGNORED.search(name):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                seen[path] = (st.st_mtime_ns, st.st_size)
    return seen


class Watcher(threading.Thread):
    """Polls the preview's inputs and rebuilds once a change has settled for one interval."""

    def __init__(self, preview: Preview, interval: float = 0.5) -> None:
        super().__init__(name="feedpub-watcher", daemon=True)
        self.preview = preview
        self.interval = interval
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        last = self.preview.snapshot()
        while not self._stop_event.wait(self.interval):
            current = self.preview.snapshot()
            if current == last:
                continue
            # wait until editors have finished writing (several saves in a row)
            while not self._stop_event.wait(self.interval):
                settled = self.preview.snapshot()
                if settled == current:
                    break
                current = settled
            if self._stop_event.is_set():
                return
            changed = sorted(set(current.items()) ^ set(last.items()))
            names = sorted({_show(Path(p), self.preview.root) for p, _ in changed})
            self.preview.log("changed: " + ", ".join(names[:5]) + (" ..." if len(names) > 5 else ""))
            self.preview.rebuild()
            last = self.preview.snapshot()


# ---- pages ---------------------------------------------------------------------------

_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:60rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:1.8rem}
.meta{color:#666;font-size:.9rem}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{padding:.45rem .6rem;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}
th{font-weight:600;font-size:.85rem;color:#555}
code{font-size:.85em}
.error{background:#fff0f0;border:1px solid #e0a0a0;padding:.8rem 1rem;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.85rem}
.problems li{font-family:ui-monospace,monospace;font-size:.85rem}
.pair{display:flex;gap:1rem;align-items:flex-start;flex-wrap:wrap}
.pair section{flex:1 1 22rem;min-width:0}
iframe{width:100%;height:80vh;border:1px solid #ddd;background:#fff}
pre.text{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #ddd;padding:1rem;margin:0;height:80vh;overflow:auto;font-size:.85rem}
pre.snippet{height:auto;max-height:20rem}
"""


def _page(title: str, body: str, head: str = "") -> bytes:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title>{head}<style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    ).encode("utf-8")


def index_page(state: State) -> bytes:
    e = html.escape
    parts = [f"<h1>{e(state.site_title)}</h1>"]
    when = state.built_at.strftime("%Y-%m-%d %H:%M:%S %Z") if state.built_at else "never"
    parts.append(f"<p class=\"meta\">Preview by <code>feedpub serve</code>: build {state.generation}, {e(when)}. "
                 "It rebuilds when a post, a template or the config changes; reload this page.</p>")
    if state.error:
        parts.append(f"<h2>The build failed</h2><div class=\"error\" id=\"build-error\">{e(state.error)}</div>")
    if state.problems:
        items = "".join(f"<li>{e(p)}</li>" for p in state.problems)
        parts.append(f"<h2>Problems</h2><ul class=\"problems\" id=\"problems\">{items}</ul>")
    main = [f for f in state.feeds if f.main]
    other = [f for f in state.feeds if not f.main]
    parts.append("<h2>Feeds</h2>")
    parts.append(_feed_table("feeds", main) if main else "<p id=\"feeds\">No feeds yet.</p>")
    if other:
        parts.append("<h2>Category and tag feeds</h2>")
        parts.append(_feed_table("category-feeds", other))
    parts.append("<h2>Digest</h2>")
    if state.digest:
        parts.append(f"<p><a id=\"digest-link\" href=\"{PREFIX}digest/\">Preview the next digest email</a>: "
                     f"<em>{e(state.digest.subject)}</em></p><p class=\"meta\">{e(state.digest.note)}</p>")
    else:
        parts.append("<p class=\"meta\" id=\"digest-link\">No digest to preview (no posts yet).</p>")
    if state.feeds and state.site_url:
        tags = "\n".join(
            f'<link rel="alternate" type="{e(f.type)}" title="{e(f.title)}" href="{e(state.site_url + f.href)}">'
            for f in state.feeds)
        parts.append("<h2>Autodiscovery</h2><p class=\"meta\">For your pages' <code>&lt;head&gt;</code>, "
                     "so browsers and readers find the feeds (also printed by <code>feedpub snippet</code>):</p>"
                     f"<pre class=\"text snippet\" id=\"snippet\">{e(tags)}</pre>")
    head = "".join(f"<link rel=\"alternate\" type=\"{e(f.type)}\" title=\"{e(f.title)}\" href=\"{e(f.href)}\">" for f in state.feeds)
    return _page(f"{state.site_title} · feedpub preview", "".join(parts), head)


def _feed_table(table_id: str, feeds: list[FeedLink]) -> str:
    """One row per feed folder: its title and a link per format."""
    e = html.escape
    groups: dict[str, list[FeedLink]] = {}
    for feed in feeds:
        groups.setdefault(feed.href.rsplit("/", 1)[0] if not feed.main else "", []).append(feed)
    rows = []
    for folder, group in groups.items():
        title = next((f.title for f in group if f.title), unquote(folder) or "/")
        links = " · ".join(
            f"<a class=\"feed\" href=\"{e(f.href)}\" type=\"{e(f.type)}\" title=\"{e(unquote(f.href))}\">{e(f.format)}</a>"
            for f in group)
        rows.append(f"<tr><td>{e(title)}</td><td>{links}</td><td><code>{e(unquote(folder) + '/')}</code></td></tr>")
    return (f"<table id=\"{table_id}\"><tr><th>title</th><th>feeds</th><th>folder</th></tr>"
            + "".join(rows) + "</table>")


def digest_page(state: State) -> bytes:
    e = html.escape
    d = state.digest
    if d is None:
        return _page("No digest", "<h1>No digest to preview</h1><p><a href=\"/_feedpub/\">Back</a></p>")
    body = (
        f"<p><a href=\"{PREFIX}\">&larr; feeds</a></p><h1>Digest preview</h1>"
        f"<p><strong>Subject:</strong> <span id=\"subject\">{e(d.subject)}</span></p><p class=\"meta\">{e(d.note)}</p>"
        "<div class=\"pair\">"
        f"<section><h2>HTML, as the email shows it</h2><iframe id=\"digest-html\" title=\"digest HTML\" src=\"{PREFIX}digest.html\"></iframe></section>"
        f"<section><h2>Plain-text part</h2><pre class=\"text\" id=\"digest-text\">{e(d.text)}</pre></section>"
        "</div>"
    )
    return _page(f"Digest: {d.subject}", body)


def make_handler(preview: Preview, log: Callable[[str], None] = lambda m: None) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        server_version = "feedpub-serve"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            out = preview.state.out_dir or preview.root / "public"
            super().__init__(*args, directory=str(out), **kwargs)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if not self._feedpub_page():
                super().do_GET()

        def do_HEAD(self) -> None:  # noqa: N802
            if not self._feedpub_page(head=True):
                super().do_HEAD()

        def _feedpub_page(self, head: bool = False) -> bool:
            path = urlsplit(self.path).path
            state = preview.state
            if path == "/" and not (Path(self.directory) / "index.html").is_file():
                path = PREFIX
            pages: dict[str, Callable[[], tuple[bytes, str]]] = {
                PREFIX: lambda: (index_page(state), "text/html; charset=utf-8"),
                PREFIX + "index.html": lambda: (index_page(state), "text/html; charset=utf-8"),
                PREFIX + "digest/": lambda: (digest_page(state), "text/html; charset=utf-8"),
                PREFIX + "digest.html": lambda: ((state.digest.html if state.digest else "").encode("utf-8"), "text/html; charset=utf-8"),
                PREFIX + "digest.txt": lambda: ((state.digest.text if state.digest else "").encode("utf-8"), "text/plain; charset=utf-8"),
                PREFIX + "status.json": lambda: (json.dumps({
                    "generation": state.generation, "error": state.error, "problems": state.problems,
                    "feeds": [f.href for f in state.feeds]}).encode("utf-8"), "application/json"),
            }
            make = pages.get(path)
            if make is None:
                if path.startswith(PREFIX):
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return True
                return False
            if path in (PREFIX + "digest.html", PREFIX + "digest.txt") and state.digest is None:
                self.send_error(HTTPStatus.NOT_FOUND, "no digest to preview")
                return True
            body, kind = make()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return True

        def guess_type(self, path: str | os.PathLike[str]) -> str:
            kind = media_type(Path(path))
            # Browsers apply a feed's XSL stylesheet only to application/xml (Chromium shows
            # application/atom+xml and rss+xml as plain text), and that is also how common
            # static hosts serve .xml; readers and tools get the feed's own type.
            if kind in (ATOM, RSS) and wants_html(self.headers.get("Accept", "")) and has_stylesheet(Path(path)):
                return "application/xml"
            return kind

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            self.send_header("Vary", "Accept")
            self.send_header("X-Content-Type-Options", "nosniff")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log(f"{self.address_string()} {format % args}")

    return Handler


def make_server(preview: Preview, host: str = "127.0.0.1", port: int = 8000,
                log: Callable[[str], None] = lambda m: None) -> ThreadingHTTPServer:
    """An HTTP server bound to ``host:port`` (port 0 picks a free one); not yet serving."""
    server = ThreadingHTTPServer((host, port), make_handler(preview, log))
    server.daemon_threads = True
    return server
