"""URL-safe slugs for category and tag names (per-category feed paths).

Every name gets a slug, Unicode and spaces included: letters and digits of any script are
kept (lower-cased), everything else becomes a dash. A name with no letters or digits at
all ("C++" keeps "c", "++" keeps nothing) and names whose slugs collide get a short
stable hash suffix, so no name is silently dropped or merged with another.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

_NOT_WORD = re.compile(r"[^\w]+|_+", re.UNICODE)


def slugify(name: str) -> str:
    """``"Sales Engineering"`` -> ``"sales-engineering"``; ``"Ünïcode Ωmega"`` -> ``"ünïcode-ωmega"``."""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    slug = _NOT_WORD.sub("-", text).strip("-")
    return slug or f"x-{_short_hash(name)}"


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Map each name to a slug that no other name shares (deterministic for a set of names)."""
    names = sorted(set(names))
    by_slug: dict[str, list[str]] = {}
    for name in names:
        by_slug.setdefault(slugify(name), []).append(name)
    result: dict[str, str] = {}
    for slug, group in by_slug.items():
        if len(group) == 1:
            result[group[0]] = slug
        else:
            for name in group:
                result[name] = f"{slug}-{_short_hash(name)}"
    return result


def _short_hash(name: str) -> str:
    return hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
