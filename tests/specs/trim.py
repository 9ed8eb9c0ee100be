"""Regenerate the trimmed API descriptions in this folder from their published sources.

    python tests/specs/trim.py SOURCE.yaml OUT.yaml PATH[:METHOD] ...

Keeps the named paths and every schema they reference (transitively), nothing else.
Not run by the tests; kept so the vendored files can be refreshed the same way.
"""
from __future__ import annotations

import sys

import yaml


def refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/"):
                found.add(v)
            else:
                refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def lookup(doc, ref: str):
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def trim(doc: dict, wanted: list[str]) -> dict:
    out = {k: doc[k] for k in ("openapi", "swagger", "info", "servers", "host", "basePath", "securityDefinitions") if k in doc}
    out["paths"] = {}
    for spec in wanted:
        path, _, method = spec.partition(":")
        item = doc["paths"][path]
        out["paths"][path] = {method: item[method]} if method else item
    seen: set[str] = set()
    todo: set[str] = set()
    refs(out["paths"], todo)
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        node = lookup(doc, ref)
        target = out
        parts = ref[2:].split("/")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = node
        refs(node, todo)
    return out


if __name__ == "__main__":
    src, dst, *wanted = sys.argv[1:]
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    with open(dst, "w", encoding="utf-8") as f:
        yaml.safe_dump(trim(doc, wanted), f, sort_keys=False, allow_unicode=True, width=120)
