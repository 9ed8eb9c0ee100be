"""`make bench`: build benchmarks over generated corpora, then the send benchmark.

For N in (1,000, 10,000) posts with per-category and per-tag feeds on: a cold build (no
cache, no output), a no-change rebuild, and a rebuild after one post changed; each the
median of several runs in fresh processes, with the peak RSS of the largest. ``median s``
is the wall time of the build call, ``cpu s`` this process's CPU time in it (worker
processes not counted; a steadier figure on a busy machine), ``process s`` adds
interpreter start-up and imports. Then the
digest of 10 posts and, when present, the send benchmark.

Options: --sizes 1000,10000  --runs 5  --skip-send  --profile (cProfile's top entries of
one cold build of the largest size).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from .corpus import generate

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus"
TARGETS = {  # (posts, scenario) -> seconds, from the performance issue
    (10_000, "cold"): 1.5,
    (10_000, "no change"): 0.3,
    (10_000, "one changed"): 0.5,
    (1_000, "cold"): 0.4,
}
PEAK_TARGET_MB = 120


def bench_env() -> dict[str, str]:
    # Bytecode as an installed package has it: a shell with PYTHONDONTWRITEBYTECODE=1
    # would otherwise recompile every feedpub module in every run (~0.15 s here), which
    # no CI job that pip-installs feedpub pays. The .pyc files go to the corpus folder.
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPYCACHEPREFIX=str(CORPUS / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(root: Path, *extra: str) -> dict:
    env = bench_env()
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_one", str(root), *extra],
        cwd=HERE.parent, env=env, capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def reset(root: Path) -> None:
    for name in (".feedpub", "public"):
        shutil.rmtree(root / name, ignore_errors=True)


def touch_one(root: Path, run: int) -> None:
    posts = sorted((root / "posts").glob("*.md"))
    target = posts[len(posts) // 2]
    text = target.read_text("utf-8").rstrip("\n").rsplit("\n<!-- bench", 1)[0]
    target.write_text(f"{text}\n<!-- bench {run} -->\n", "utf-8")


def scenario(root: Path, name: str, runs: int) -> dict:
    results = []
    for i in range(runs):
        if name == "cold":
            reset(root)
        elif name == "one changed":
            touch_one(root, i)
        results.append(run_once(root))
    walls = [r["wall"] for r in results]
    return {
        "wall": statistics.median(walls),
        "process": statistics.median(r["process"] for r in results),
        "cpu": statistics.median(r["cpu"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-send", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"load average at start: {_load()}")
    print(f"{'posts':>7} {'scenario':<12} {'median s':>9} {'cpu s':>6} {'process s':>10} {'peak MB':>8}  target")
    for n in sizes:
        root = generate(CORPUS / f"posts-{n}", n)
        for name in ("cold", "no change", "one changed"):
            if name != "cold":
                run_once(root)  # warm the cache and the outputs
            r = scenario(root, name, args.runs)
            target = TARGETS.get((n, name))
            verdict = "" if target is None else (f"<= {target} s " + ("met" if r["wall"] <= target else "MISSED"))
            if n == 10_000 and name == "cold":
                verdict += f"; peak <= {PEAK_TARGET_MB} MB " + ("met" if r["peak_mb"] <= PEAK_TARGET_MB else "MISSED")
            print(f"{n:>7} {name:<12} {r['wall']:>9.3f} {r['cpu']:>6.3f} {r['process']:>10.3f} {r['peak_mb']:>8.1f}  {verdict}", flush=True)

    root = generate(CORPUS / f"posts-{sizes[0]}", sizes[0])
    d = statistics.median(run_once(root, "--digest", "10")["wall"] for _ in range(args.runs))
    print(f"{'':>7} {'digest of 10':<12} {d:>9.3f}")
    print(f"load average at end: {_load()}")

    if args.profile:
        profile(generate(CORPUS / f"posts-{sizes[-1]}", sizes[-1]))
    if not args.skip_send and (HERE / "bench_send.py").exists():
        print()
        subprocess.run([sys.executable, "-m", "benchmarks.bench_send"], cwd=HERE.parent, check=False)


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def profile(root: Path) -> None:
    reset(root)
    print(f"\nprofile of one cold build of {root.name}, serial ([build] jobs = 1: cProfile sees one process);"
          " top 25 by cumulative, then top 20 by own time:")
    code = (
        "import cProfile,pstats,sys;from benchmarks.run_one import main;"
        f"cProfile.run({'main(' + repr([str(root), '--jobs', '1']) + ')'!r},'/tmp/feedpub-bench.prof');"
        "s=pstats.Stats('/tmp/feedpub-bench.prof');s.sort_stats('cumulative').print_stats(25);"
        "s.sort_stats('tottime').print_stats(20)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=HERE.parent, env=bench_env(), check=False)


if __name__ == "__main__":
    main()
