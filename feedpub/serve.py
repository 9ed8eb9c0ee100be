"""``feedpub serve``'s HTTP side: the output folder and feedpub's pages on 127.0.0.1.

``make_server`` is ``http.server`` serving the output folder with the feed media types
(``application/atom+xml``, ``application/rss+xml``, ``application/feed+json``,
``application/xslt+xml``), no caching, and feedpub's pages under ``/_feedpub/``: an
index linking every feed and the digest preview (the HTML as the email shows it, with its
text part beside it). ``/`` is that index unless the output has its own index.html. A
browser asking for HTML gets a feed that links an XSL stylesheet as ``application/xml``:
the only type browsers apply the stylesheet to.

What is shown comes from a ``feedpub.preview.Preview`` (builds, digest, watching).
Only loopback by default: it is a preview for the author, not a production server.
"""
from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .preview import ATOM, RSS, FeedLink, Preview, State, feed_type

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
PREFIX = "/_feedpub/"


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
