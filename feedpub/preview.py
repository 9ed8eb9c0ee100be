"""The preview behind ``feedpub serve``: build, find the feeds, render the digest, watch.

- ``Preview`` runs a build (and renders a digest preview in memory) for the config as it
  is on disk now, and keeps the outcome in a ``State`` (feeds found, digest, errors). A
  failed build leaves the previous output in place and records the error instead.
- ``Watcher`` is a polling thread (no extra dependency) that snapshots the mtime and size
  of the config, the posts and the templates and calls ``Preview.rebuild`` once a change
  has settled.

``feedpub.serve`` puts the state on the web.
"""
from __future__ import annotations

import json
import os
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .config import Config, find_config, load_config
from .errors import BuildError, FeedpubError

ATOM = "application/atom+xml"
RSS = "application/rss+xml"
JSON_FEED = "application/feed+json"
FORMAT_NAMES = {ATOM: "Atom", RSS: "RSS", JSON_FEED: "JSON Feed"}


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
