"""Run one measured build in this (fresh) process and print its figures as JSON.

Usage: python -m benchmarks.run_one SITE_ROOT [--digest N] [--jobs N]

Wall time covers the library call (scan, render, write) without interpreter start-up;
``process`` adds start-up and imports, as a CI job sees it. Peak RSS is this process's.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    root = Path(argv[0])
    from feedpub.build import build
    from feedpub.config import load_config

    config = load_config(root / "feedpub.toml", root=root)
    if "--jobs" in argv:  # the profile runs serially: cProfile sees only this process
        config = config.replace(build={"jobs": int(argv[argv.index("--jobs") + 1])})
    t0 = time.perf_counter()
    c0 = time.process_time()
    if "--digest" in argv:
        result = _digest(config, int(argv[argv.index("--digest") + 1]))
    else:
        report = build(config, NOW)
        result = {"posts": report.posts, "rendered": report.rendered}
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0   # this process only (worker processes not counted)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result.update(wall=wall, cpu=cpu, process=time.perf_counter() - started + _startup(), peak_mb=peak_kb / 1024)
    print(json.dumps(result))


def _digest(config, count: int) -> dict:
    from feedpub.digest.render import render_digest
    from feedpub.digest.select import select
    from feedpub.posts import scan
    from feedpub.render import Renderer

    site = scan(config, NOW)
    digest = select(site, now=NOW, last=count)
    renderer = Renderer(site, cache_dir=None)
    email = render_digest(digest, renderer.render, config, NOW)
    return {"posts": count, "html_kb": len(email.html.encode()) / 1024}


def _startup() -> float:
    """Seconds from process start to main(): interpreter start-up and imports."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        import os

        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK")) - (time.perf_counter() - _T0)
    except (OSError, ValueError, IndexError):
        return 0.0


_T0 = time.perf_counter()

if __name__ == "__main__":
    main(sys.argv[1:])
