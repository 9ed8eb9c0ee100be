"""The fuzz target's checks and its fallback loop run in the normal suite (a few hundred inputs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FUZZ = Path(__file__).parent / "fuzz"


def test_fallback_loop_runs_the_seeds_without_a_crash(tmp_path):
    env = {**os.environ, "FEEDPUB_FUZZ_FALLBACK": "1"}
    result = subprocess.run(
        [sys.executable, str(FUZZ / "fuzz_posts.py"), "-runs=400", str(FUZZ / "corpus")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "400 mutated inputs" in result.stdout
    assert "atheris is not installed" in result.stderr


def test_seed_corpus_covers_the_fixtures():
    names = {p.name for p in (FUZZ / "corpus").iterdir()}
    fixtures = {p.name for p in (Path(__file__).parent / "fixtures" / "posts").iterdir()}
    # every fixture except the two large nesting ones seeds the fuzzer
    assert {f"seed-{n}" for n in fixtures} - names == {"seed-2024-01-10-deep-nesting.md", "seed-2024-01-21-brackets.md"}
