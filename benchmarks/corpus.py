"""A deterministic corpus of Jekyll-style posts for benchmarks.

``generate(root, n)`` writes ``n`` posts of about 6.9 KB each into ``root/posts`` plus a
``feedpub.toml``: realistic Markdown (headings, lists, links incl. relative ones, code,
images, ``<!--more-->``) and front matter in the shapes real blogs use (offset dates, naive
dates, bare dates, category lists and strings, tags, quotes and Unicode in titles). The
same ``n`` and ``seed`` always give the same bytes.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

WORDS = (
    "feed reader atom rss json email digest post blog build cache render markdown liquid "
    "template jekyll hugo pelican python release deploy pipeline server client header "
    "subscriber newsletter archive category tag summary excerpt permalink timezone offset "
    "validator schema browser image link table code fence footnote unicode café naïve "
    "résumé Zürich 東京 привет"
).split()
CATEGORIES = ["engineering", "release notes", "Sales Engineering", "career", "python", "ops", "Ünïcode", "C++"]
TAGS = ["tips", "howto", "news", "deep-dive", "opinion", "tooling", "ci", "email"]
TARGET_BYTES = 6900

TOML = """\
[site]
title = "Benchmark Blog"
description = "A generated blog for feedpub's benchmarks."
url = "https://bench.example.com"
baseurl = "/blog"
author = "Bench Author"
timezone = "Europe/Berlin"

[feeds]
categories = true
tags = true
"""


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    parts = [_sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(3, 6))]
    if rng.random() < 0.5:
        parts.insert(1, f"See [the docs](/docs/{rng.choice(WORDS)}/) or [this]({rng.choice(WORDS)}.html).")
    if rng.random() < 0.3:
        parts.append(f"More at <https://example.org/{rng.randint(1, 999)}>.")
    return " ".join(parts)


def _front_matter(rng: random.Random, i: int, date: datetime) -> str:
    title = _sentence(rng, rng.randint(3, 8)).rstrip(".")
    if i % 7 == 0:
        title = f'"Quoted" {title} – naïve & café'
    lines = ["---", "layout: post", f"title: {_yaml_str(title)}"]
    style = i % 4
    if style == 0:
        lines.append(f"date: {date.strftime('%Y-%m-%d %H:%M:%S')} -0600")
    elif style == 1:
        lines.append(f"date: {date.strftime('%Y-%m-%d %H:%M:%S')} +02:00")
    elif style == 2:
        lines.append(f"date: {date.strftime('%Y-%m-%d %H:%M:%S')}")
    # style 3: the date comes from the file name only
    cats = rng.sample(CATEGORIES, rng.randint(1, 3))
    if i % 3 == 0:
        lines.append(f"categories: [{', '.join(_yaml_str(c) for c in cats)}]")
    elif i % 3 == 1:
        lines.append(f"categories: {', '.join(cats)},")
    else:
        lines.append(f"category: {cats[0]}")
    tags = rng.sample(TAGS, rng.randint(0, 3))
    if tags:
        lines.append(f"tags: {' '.join(tags)}")
    if i % 11 == 0:
        lines.append(f"image: /assets/img/{i}.png")
    lines.append("---")
    return "\n".join(lines) + "\n"


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _body(rng: random.Random, i: int) -> str:
    blocks = [_paragraph(rng), "<!--more-->"]
    while sum(len(b) for b in blocks) < TARGET_BYTES - 700:
        kind = rng.random()
        if kind < 0.15:
            blocks.append(f"## {_sentence(rng, 4).rstrip('.')}")
        elif kind < 0.3:
            blocks.append("\n".join(f"- {_sentence(rng, rng.randint(4, 9))}" for _ in range(rng.randint(3, 5))))
        elif kind < 0.4:
            blocks.append("```python\n" + "\n".join(f"def f{j}(x):\n    return x * {j}  # {rng.choice(WORDS)}" for j in range(3)) + "\n```")
        elif kind < 0.47:
            blocks.append(f"![{rng.choice(WORDS)} diagram](images/{i}-{rng.randint(1, 9)}.png)")
        else:
            blocks.append(_paragraph(rng))
    return "\n\n".join(blocks) + "\n"


def generate(root: Path, n: int, *, seed: int = 20261123) -> Path:
    """Write the corpus (idempotent: an existing identical corpus is left as it is)."""
    posts = root / "posts"
    marker = root / ".generated"
    stamp = f"{n} {seed}\n"
    if marker.exists() and marker.read_text() == stamp:
        return root
    posts.mkdir(parents=True, exist_ok=True)
    for old in posts.glob("*.md"):
        old.unlink()
    (root / "feedpub.toml").write_text(TOML, "utf-8")
    rng = random.Random(seed)
    start = datetime(2012, 1, 1, 8, 0, tzinfo=timezone.utc)
    for i in range(n):
        date = start + timedelta(hours=i * 7 + rng.randint(0, 5), minutes=rng.randint(0, 59))
        slug = "-".join(rng.choice(WORDS[:40]) for _ in range(4)) + f"-{i}"
        text = _front_matter(rng, i, date) + "\n" + _body(rng, i)
        (posts / f"{date:%Y-%m-%d}-{slug}.md").write_text(text, "utf-8")
    marker.write_text(stamp)
    return root


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/.corpus/demo")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    generate(target, count)
    print(f"wrote {count} posts into {target / 'posts'}")
