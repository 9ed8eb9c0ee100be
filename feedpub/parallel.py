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

import multiprocessing
import os
from collections.abc import Sequence
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
