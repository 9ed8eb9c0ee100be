"""Parse many post files on every core, only where it pays.

``parse_many(items, context, jobs)`` equals ``[parse_file(p, r, context) for p, r in items]``
(same results, same order) but above ``THRESHOLD`` files it spreads them over a pool of
worker processes. Parsing front matter is pure Python (YAML composition, dates,
permalinks: about 1 ms a post), so threads would share one GIL; processes are the only
way to use a second core. A pool costs about 20-40 ms to start with ``fork`` and each
result costs a few microseconds to pickle back, so small blogs (the common case) stay
serial and instant.

``[build] jobs``: 0 chooses (every core, but only above the threshold), 1 never forks,
N uses N workers whatever the size.
"""
from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from .posts import ParseContext, ParseResult, parse_file

THRESHOLD = 600        # files; below this a pool costs more than it saves
CHUNKS_PER_WORKER = 4  # a few chunks per worker even out slow files without much pickling


def workers_for(count: int, jobs: int) -> int:
    """How many processes parse ``count`` files (1: in this process)."""
    if jobs == 1 or count < 2:
        return 1
    if jobs > 1:
        return min(jobs, count)
    if count < THRESHOLD:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1), 8))


def _parse_chunk(args: tuple[Sequence[tuple[Path, str]], ParseContext]) -> list[ParseResult]:
    items, context = args
    return [parse_file(path, relpath, context) for path, relpath in items]


def parse_many(items: Sequence[tuple[Path, str]], context: ParseContext, jobs: int = 0) -> list[ParseResult]:
    """``parse_file`` over ``items`` in order, in a process pool when that pays."""
    workers = workers_for(len(items), jobs)
    if workers <= 1:
        return _parse_chunk((items, context))
    import multiprocessing   # here: only a big cold scan pays for importing it

    size = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))
    chunks = [(items[i:i + size], context) for i in range(0, len(items), size)]
    methods = multiprocessing.get_all_start_methods()
    # fork: the workers already have feedpub and PyYAML imported (spawn would re-import
    # them, ~0.3 s a worker). It is the default on Linux up to Python 3.13; ask for it by
    # name so 3.14's forkserver default does not make small pools slow.
    mp = multiprocessing.get_context("fork" if "fork" in methods else None)
    try:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp) as pool:
            parts = list(pool.map(_parse_chunk, chunks))
    except (OSError, RuntimeError, ImportError):
        # No processes here (a sandbox without fork or /dev/shm, a frozen app): same
        # results, one core.
        return _parse_chunk((items, context))
    return [result for part in parts for result in part]


# ---- rendering the posts the feeds contain -------------------------------------------

RENDER_THRESHOLD = 6   # cache misses; one post costs ~30-70 ms to render, a fork ~20 ms

_site_for_workers = None   # set before the pool forks: workers inherit it, nothing is pickled


def _render_chunk(args: tuple[list[int], Path]) -> int:
    from .render import Renderer

    indexes, cache_dir = args
    posts = _site_for_workers[1]  # type: ignore[index]
    renderer = Renderer(_site_for_workers[0], cache_dir=cache_dir)  # type: ignore[index]
    done = 0
    for i in indexes:
        try:
            renderer.render(posts[i])
            done += 1
        except Exception:  # noqa: BLE001 - the build renders it again and reports the error
            continue
    return done


def prerender(renderer, posts: list, jobs: int = 0) -> int:  # noqa: ANN001
    """Render the render-cache misses among ``posts`` in worker processes.

    The workers only fill the disk cache (``renderer.cache``); the build then renders as
    usual and finds hits, so results, warnings and errors are exactly those of a serial
    build (a post that fails in a worker is simply rendered, and fails, again). Nothing
    happens without a disk cache, with ``[build] jobs = 1``, on one core, or for fewer
    than ``RENDER_THRESHOLD`` misses. Returns how many posts the workers rendered.
    """
    global _site_for_workers
    if renderer.cache is None:
        return 0
    misses = [p for p in posts if p.content_hash and not renderer.is_cached(p)]
    workers = workers_for(len(misses), jobs) if jobs else (
        workers_for(THRESHOLD, 0) if len(misses) >= RENDER_THRESHOLD else 1)
    if workers <= 1:
        return 0
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" not in methods:
        return 0   # spawn would pickle the whole site to every worker: not worth it
    # Interleaved chunks: neighbours in the feed tend to be alike in size.
    chunks = [(list(range(w, len(misses), workers)), renderer.cache.dir.parent) for w in range(workers)]
    _site_for_workers = (renderer.site, misses)
    try:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return sum(pool.map(_render_chunk, chunks))
    except (OSError, RuntimeError):
        return 0   # the build renders them itself
    finally:
        _site_for_workers = None


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Let a build ``gc.freeze()`` what it keeps for its whole length (``build`` freezes
    the scanned site); everything is unfrozen when the build ends, so a long-running
    host (``feedpub serve``) collects it later as usual.

    A site of 10,000 posts is about half a million objects. None of them is garbage
    during the build, yet each full collection of the cyclic GC walks them all, several
    times per build: 0.1-0.3 s of a 0.5 s rebuild. Frozen objects are skipped (and a
    forked worker does not copy their pages just to update GC headers).
    """
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def gc_paused_then_frozen() -> Iterator[None]:
    """No cyclic GC while the block runs, then ``gc.freeze()`` what it made (inside
    ``frozen_heap``, which unfreezes). For the scan: 10,000 posts are ~500,000 objects
    and none is garbage, but every collection the allocations trigger walks them all
    (``assemble`` measured 0.26 s with collections, 0.04 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
