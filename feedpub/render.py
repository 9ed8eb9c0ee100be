"""Render one post's body to safe, absolute HTML: lazily, bounded in time, cached.

    body --(Liquid, only if it has {% or {{)--> Markdown --(Python-Markdown)--> HTML
         --(nh3 + absolute URLs, one parse)--> RenderedPost(html, summary_html, summary_text)

``Renderer.render(post)`` is called only for posts an output contains; the body is read
then and dropped after. Results are cached on disk (``feedpub.render_cache``) and, for
the life of the Renderer, in a small in-memory LRU (a post in the main feed and three
category feeds renders once).

Time limits. Python-Markdown is quadratic on some inputs (long runs of ``[``, ``](``,
``<``); ``markdown_adapter.neutralize`` defuses the known ones before rendering, and
``[build] render_timeout`` is enforced on everything else by a watchdog thread that
raises ``RenderTimeout`` *inside* the rendering thread (``PyThreadState_SetAsyncExc``)
when the deadline passes. That works in any thread (SIGALRM only works in the main
thread, which would rule out rendering from a thread pool or a web server), costs two
lock operations per render and normally no thread switch (a worker process per render
costs milliseconds, too slow for thousands of posts), and interrupts pure-Python loops,
which is where Markdown and Liquid spend their time. Its limit: a single long call into
C is interrupted only when it returns. So the inputs known to make C code slow are
refused or defused first: post size is capped (``[build] max_post_bytes``, checked
before reading), and HTML nested over 1,000 levels (html5ever in nh3 is quadratic in
depth) is a RenderError in milliseconds (``sanitize.check_depth``).
"""
from __future__ import annotations

import ctypes
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from typing import TYPE_CHECKING

from .errors import PostError, Problem, RenderError
from .model import Post, RenderedPost, Site
from .render_cache import Entry, RenderCache, file_sha256, make_key
from .sanitize import Sanitizer, TooDeeplyNested, check_depth, strip_xml_illegal, to_text

if TYPE_CHECKING:
    from .liquid import LiquidEngine
    from .markdown_adapter import MarkdownAdapter

# python-liquid, Python-Markdown and Pygments cost about half a second to import and are
# needed only when a post is actually rendered: they are imported on the first cache miss
# (see ``Renderer.liquid`` / ``Renderer._markdown_adapter``), so a rebuild whose posts are
# all render-cache hits never loads them.


def has_liquid(text: str) -> bool:
    """``feedpub.liquid.has_liquid`` without importing python-liquid."""
    return "{%" in text or "{{" in text

MORE = "<!--more-->"
MEMO_SIZE = 256
_FENCE = re.compile(r"^ {0,3}((`{3,}|~{3,}))", re.M)
_REFDEF = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*\S.*$", re.M)
# Removed from bodies before anything else sees them: XML-illegal characters (incl. STX/ETX,
# Markdown's placeholder delimiters), lone surrogates, and the noncharacters U+FDD0..U+FDEF
# that markdown_adapter uses as its own markers.
_CLEAN_BODY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


class RenderTimeout(BaseException):
    """Raised inside a render that ran past its deadline (BaseException: no ``except Exception`` swallows it)."""


class _Watchdog:
    """One daemon thread that interrupts renders running past their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._jobs: dict[int, tuple[int, float]] = {}  # token -> (thread id, deadline)
        self._fired: set[int] = set()
        self._next = 0
        self._thread: threading.Thread | None = None
        self._wake_at: float | None = None  # when the watchdog next looks; None: idle

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():  # also after fork()
            self._thread = threading.Thread(target=self._run, name="feedpub-render-watchdog", daemon=True)
            self._thread.start()

    def start(self, seconds: float) -> int:
        with self._cond:
            self._ensure_thread()
            self._next += 1
            token = self._next
            deadline = time.monotonic() + seconds
            self._jobs[token] = (threading.get_ident(), deadline)
            # Wake the watchdog only if it would look too late: renders one after another
            # (the common case) then cost no thread switch at all.
            if self._wake_at is None or deadline < self._wake_at:
                self._cond.notify()
            return token

    def stop(self, token: int) -> bool:
        """End a job; True if it was interrupted. Clears an interrupt not yet delivered."""
        with self._cond:
            self._jobs.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
        if fired:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)
        return fired

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                wait = None
                for token, (tid, deadline) in list(self._jobs.items()):
                    if deadline <= now:
                        del self._jobs[token]
                        self._fired.add(token)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(RenderTimeout))
                    else:
                        wait = deadline - now if wait is None else min(wait, deadline - now)
                self._wake_at = None if wait is None else now + wait
                self._cond.wait(wait)


_WATCHDOG = _Watchdog()


def _new_watchdog_after_fork() -> None:
    # A forked worker (feedpub.parallel renders cache misses in a pool) inherits the
    # watchdog's lock in whatever state the parent's watchdog thread had it, but not the
    # thread: a fresh watchdog, so the child's first render can never wait on that lock.
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_watchdog_after_fork)


class Renderer:
    """Renders the posts of one Site. Not thread-safe: use one Renderer per thread.

    ``cache_dir``: where the render cache lives (the build passes ``config.cache_dir``);
    ``None`` renders without a disk cache. ``read_body``: the function that reads a
    post's Markdown body (default ``feedpub.posts.read_body``); tests pass their own.
    """

    def __init__(
        self,
        site: Site,
        *,
        cache_dir: Path | None = None,
        read_body: Callable[[Post], str] | None = None,
    ) -> None:
        self.site = site
        self.config = site.config
        if read_body is None:
            from .posts import read_body as default_read_body

            read_body = default_read_body
        self._read_body = read_body
        self.cache = RenderCache(cache_dir) if cache_dir is not None else None
        self.stats: dict[str, int] = {"rendered": 0, "cache_hits": 0}
        self._md_adapter: MarkdownAdapter | None = None
        self._sanitizer = Sanitizer(self.config.feeds.iframe_hosts)
        self._liquid: LiquidEngine | None = None
        self._memo: OrderedDict[tuple[str, str], RenderedPost] = OrderedDict()
        self._settings = {
            "site_url": self.config.site_url,
            "excerpt_separator": self.config.site.excerpt_separator,
            "iframe_hosts": sorted(self._sanitizer.iframe_hosts),
        }

    @property
    def notices(self) -> list[Problem]:
        """Cache notices (a corrupt entry ignored, an unwritable cache folder)."""
        return list(self.cache.notices) if self.cache else []

    @property
    def liquid(self) -> LiquidEngine:
        if self._liquid is None:
            from .liquid import LiquidEngine

            self._liquid = LiquidEngine(self.site)
        return self._liquid

    @property
    def _md(self) -> MarkdownAdapter:
        if self._md_adapter is None:
            from .markdown_adapter import MarkdownAdapter

            self._md_adapter = MarkdownAdapter()
        return self._md_adapter

    # ---- public ---------------------------------------------------------------------
    def is_cached(self, post: Post) -> bool:
        """Whether ``render(post)`` would be a disk-cache hit (nothing is rendered).

        A hit is kept in the in-memory memo, so the ``render(post)`` that follows does
        not read the entry again.
        """
        if self.cache is None or not post.content_hash:
            return False
        entry = self.cache.get(self._key(post))
        if entry is None or not self._still_valid(entry):
            return False
        self.stats["cache_hits"] += 1
        rendered = RenderedPost(post, entry.html, entry.summary_html, entry.summary_text, entry.warnings)
        self._remember((post.relpath, post.content_hash), rendered)
        return True

    def render(self, post: Post) -> RenderedPost:
        """The post's HTML; raises RenderError naming the file when it cannot be rendered."""
        memo_key = (post.relpath, post.content_hash)
        hit = self._memo.get(memo_key) if post.content_hash else None
        if hit is not None and hit.post == post:
            self._memo.move_to_end(memo_key)
            return hit
        key = self._key(post) if self.cache is not None and post.content_hash else None
        if key is not None:
            entry = self.cache.get(key)  # type: ignore[union-attr]
            if entry is not None and self._still_valid(entry):
                self.stats["cache_hits"] += 1
                return self._remember(memo_key, RenderedPost(post, entry.html, entry.summary_html, entry.summary_text, entry.warnings))
        rendered, entry = self._render_uncached(post)
        self.stats["rendered"] += 1
        if key is not None:
            self.cache.put(key, entry)  # type: ignore[union-attr]
        return self._remember(memo_key, rendered)

    # ---- internals ------------------------------------------------------------------
    def _remember(self, memo_key: tuple[str, str], rendered: RenderedPost) -> RenderedPost:
        if memo_key[1]:
            self._memo[memo_key] = rendered
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return rendered

    def _key(self, post: Post) -> str:
        return make_key(
            {
                **self._settings,
                "content_hash": post.content_hash,
                "relpath": post.relpath,
                "url": post.url,
                "summary": post.summary,
                "body_line": post.body_line,
            }
        )

    def _still_valid(self, entry: Entry) -> bool:
        if entry.liquid is not None and entry.liquid != self.liquid.fingerprint(entry.liquid_posts):
            return False
        root = self.config.root
        return all((file_sha256(root / rel) or "") == digest for rel, digest in entry.deps.items())

    def _render_uncached(self, post: Post) -> tuple[RenderedPost, Entry]:
        limit = self.config.build.max_post_bytes
        try:
            size = post.source.stat().st_size
        except OSError:
            size = 0
        if size > limit:
            raise self._too_big(post, size, limit)
        try:
            body = self._read_body(post)
        except PostError:
            raise
        except (OSError, UnicodeDecodeError) as exc:
            raise RenderError(f"cannot read the post: {exc}", path=post.relpath) from None
        if len(body) > limit and len(body.encode("utf-8", "surrogatepass")) > limit:
            raise self._too_big(post, len(body.encode("utf-8", "surrogatepass")), limit)

        timeout = self.config.build.render_timeout
        token = _WATCHDOG.start(timeout)
        try:
            try:
                result = self._render_body(post, body)
            finally:
                interrupted = _WATCHDOG.stop(token)
            if interrupted:
                raise RenderTimeout
        except RenderTimeout:
            raise RenderError(
                f"rendering took longer than {timeout:g} s and was stopped",
                path=post.relpath,
                hint="look for pathological Markdown (thousands of unclosed brackets or tags), "
                "or raise [build] render_timeout",
            ) from None
        except TooDeeplyNested as exc:
            raise RenderError(
                f"cannot render the post: {exc}", path=post.relpath,
                hint="look for unclosed HTML tags repeated many times",
            ) from None
        except RecursionError:
            raise RenderError(
                "the Markdown is nested too deeply to render", path=post.relpath,
                hint="look for thousands of nested list markers or block quotes",
            ) from None
        except Exception as exc:  # a bug in a third-party renderer must name the post
            raise RenderError(f"cannot render the post: {type(exc).__name__}: {exc}", path=post.relpath) from exc
        return result

    def _too_big(self, post: Post, size: int, limit: int) -> RenderError:
        return RenderError(
            f"the post is {size:,} bytes, larger than [build] max_post_bytes = {limit:,}",
            path=post.relpath,
            hint="split the post, or raise [build] max_post_bytes",
        )

    def _render_body(self, post: Post, body: str) -> tuple[RenderedPost, Entry]:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        warnings: list[Problem] = []
        bad = _CLEAN_BODY.search(body)
        if bad is not None:
            line = post.body_line + body.count("\n", 0, bad.start())
            body, n = _CLEAN_BODY.subn("", body)
            warnings.append(Problem(
                post.relpath, line,
                f"removed {n} character(s) that XML feeds cannot carry (control characters, "
                f"lone surrogates, noncharacters) from the body; the first was U+{ord(bad.group()):04X}",
                severity="warning",
            ))
        check_depth(body)  # fail fast: raw HTML this deep costs Markdown and nh3 minutes
        stash: list[str] = []
        liquid_fp: str | None = None
        liquid_posts = False
        deps: dict[str, str] = {}
        if has_liquid(body):
            engine = self.liquid
            result = engine.render(post, body)
            body, stash, deps = result.text, result.stash, result.deps
            liquid_posts = result.uses_posts
            liquid_fp = engine.fingerprint(liquid_posts)
            warnings.extend(result.problems)

        html = self._markdown(post, body, stash, warnings)
        if post.summary is not None and post.summary.strip():
            summary_src = _CLEAN_BODY.sub("", post.summary)
            summary_stash: list[str] = []
            if has_liquid(summary_src):  # rare, but Jekyll runs it too
                result = self.liquid.render(post, summary_src)
                summary_src, summary_stash = result.text, result.stash
        else:
            summary_src = excerpt_source(body, self.config.site.excerpt_separator)
            summary_stash = stash
        html = strip_xml_illegal(self._sanitizer.clean(html, post.url))
        if summary_src is body:  # the whole post is its own excerpt
            summary_html = html
        else:
            summary_html = self._markdown(post, summary_src, summary_stash, [])
            summary_html = strip_xml_illegal(self._sanitizer.clean(summary_html, post.url))
        summary_text = to_text(summary_html)
        rendered = RenderedPost(post, html, summary_html, summary_text, tuple(warnings))
        entry = Entry(html, summary_html, summary_text, tuple(warnings), liquid_fp, liquid_posts, deps)
        return rendered, entry

    def _markdown(self, post: Post, text: str, stash: list[str], warnings: list[Problem]) -> str:
        html, notes = self._md.convert(text, stash)
        for note in notes:
            warnings.append(Problem(post.relpath, post.body_line, note, severity="warning"))
        return html


def excerpt_source(body: str, separator: str) -> str:
    """Jekyll's excerpt: the text before ``<!--more-->`` or the excerpt separator.

    ``<!--more-->`` always works; the configured separator (default: a blank line, i.e.
    the first paragraph) otherwise. Reference-style link definitions from the whole
    post are appended, as Jekyll does, so ``[text][ref]`` links in the excerpt resolve.
    """
    text = body.lstrip("\n")
    if MORE in text:
        head = text.split(MORE, 1)[0]
    elif separator and separator in text:
        head = text.split(separator, 1)[0]
        fences = _FENCE.findall(head)
        if len(fences) % 2:  # the separator fell inside a code block: end the excerpt after it
            close = re.compile(r"^ {0,3}" + re.escape(fences[-1][0]) + r"[ \t]*$", re.M).search(text, len(head))
            if close is None:
                return body
            head = text[: close.end()]
            if head.rstrip() == text.rstrip():
                return body
    else:
        return body
    refs = [
        ref for ref in _REFDEF.findall(text[len(head):])
        if not ref.lstrip().startswith("[^") or ref.lstrip().split("]", 1)[0] + "]" in head
    ]
    if refs:
        head = head.rstrip("\n") + "\n\n" + "\n".join(refs)
    return head
