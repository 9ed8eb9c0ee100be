"""Fuzz target for the post reader (issue 3): any bytes -> a Post or a named error.

    python tests/fuzz/fuzz_posts.py -runs=20000 tests/fuzz/corpus     (make fuzz)

With atheris (``pip install -e '.[fuzz]'``) this is coverage-guided libFuzzer; the seed
corpus is copied to a temporary folder first, so new inputs never land in the repository.
Without atheris (it needs a compiler or a matching wheel), the same seeds go through a
deterministic random-mutation loop for the same number of runs, and the script says so.

A crash is any exception escaping ``feedpub.posts.parse_bytes`` or a problem that does
not name the file: the parser must turn every input into a Post or a clear error.
"""
from __future__ import annotations

import random
import shutil
import sys
import tempfile
from pathlib import Path

import os

try:
    if os.environ.get("FEEDPUB_FUZZ_FALLBACK"):
        raise ImportError("FEEDPUB_FUZZ_FALLBACK is set")
    import atheris
except ImportError:  # pragma: no cover - depends on the environment
    atheris = None

if atheris is not None:
    with atheris.instrument_imports():
        from feedpub.errors import PostError
        from feedpub.posts import ParseContext, parse_bytes, read_body
else:
    from feedpub.errors import PostError
    from feedpub.posts import ParseContext, parse_bytes, read_body

RELPATH = "posts/2024-01-01-fuzz.md"
PATH = Path("/nonexistent/posts/2024-01-01-fuzz.md")
CONTEXT = ParseContext(
    posts_dir=PATH.parent, posts_root=PATH.parent, site_url="https://example.com/blog",
    timezone="America/Denver", permalink="/:categories/:year/:month/:day/:title:output_ext",
    max_bytes=1 << 20, author=None,
)


def check(data: bytes) -> None:
    """One input: must parse, or fail with problems naming the file."""
    result = parse_bytes(data, PATH, RELPATH, CONTEXT)
    for problem in result.problems:
        if problem.path != RELPATH or not problem.message:
            raise AssertionError(f"problem without the file's name: {problem!r}")
    if result.post is None:
        if not result.skipped and not any(p.severity == "error" for p in result.problems):
            raise AssertionError("no post, no reason")
        return
    post = result.post
    if not post.url.startswith("https://example.com/blog/") or post.date.tzinfo is None:
        raise AssertionError(f"bad post: {post!r}")
    str(post.title).encode("utf-8")  # no lone surrogates survive
    try:
        read_body(post)  # the file does not exist: must be a PostError naming it
    except PostError as exc:
        if exc.path != RELPATH:
            raise


def test_one_input(data: bytes) -> None:
    check(data)


def _mutate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:
            del buf[pos % len(buf)]
        elif op == 1:
            buf.insert(pos, rng.randrange(256))
        elif op == 2 and buf:
            buf[pos % len(buf)] = rng.randrange(256)
        elif op == 3:
            buf[pos:pos] = rng.choice([b"---\n", b"...\n", b"\r", b"\xef\xbb\xbf", b"*a", b"&a ", b"[", b"{", b": ",
                                       b"- ", b"!!python/object ", b"\\x00", b"%2e%2e/", b":title", b"\xe9", b"\t",
                                       b"date: 2024-02-30\n", b"draft: maybe\n", b"title: no\n"])
        elif op == 4 and buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start : start + rng.randint(1, 64)]
        elif op == 5:
            other = rng.choice(seeds)
            cut = rng.randint(0, len(other))
            buf = buf[:pos] + bytearray(other[cut:])
        elif op == 6 and len(buf) > 1:
            a, b = sorted((rng.randrange(len(buf)), rng.randrange(len(buf))))
            del buf[a:b]
    return bytes(buf[: 1 << 16])


def fallback(runs: int, corpus: list[Path]) -> int:
    """Deterministic mutation loop over the seeds (no coverage guidance)."""
    seeds = [p.read_bytes() for d in corpus for p in sorted(d.iterdir()) if p.is_file()] or [b""]
    rng = random.Random(20241)
    for seed in seeds:
        check(seed)
    for i in range(runs):
        data = _mutate(rng, rng.choice(seeds), seeds)
        try:
            check(data)
        except Exception:
            crash = Path(f"crash-fallback-{i}")
            crash.write_bytes(data)
            print(f"crash on run {i}; input written to {crash}", file=sys.stderr)
            raise
    print(f"fallback fuzzing (atheris not installed): {runs} mutated inputs from {len(seeds)} seeds, no crash")
    return 0


def main(argv: list[str]) -> int:
    runs = 20000
    corpus: list[Path] = []
    for arg in argv[1:]:
        if arg.startswith("-runs="):
            runs = int(arg.split("=", 1)[1])
        elif not arg.startswith("-"):
            corpus.append(Path(arg))
    if atheris is None:
        print("atheris is not installed: using the deterministic mutation loop instead", file=sys.stderr)
        return fallback(runs, corpus)
    with tempfile.TemporaryDirectory(prefix="feedpub-fuzz-") as tmp:
        args = [argv[0]]
        for arg in argv[1:]:
            if not arg.startswith("-") and Path(arg).is_dir():
                copy = Path(tmp) / Path(arg).name
                shutil.copytree(arg, copy)
                arg = str(copy)
            args.append(arg)
        atheris.Setup(args, test_one_input)
        atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
