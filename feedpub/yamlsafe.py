"""The YAML adapter: front matter text -> checked values, with lines *in the file*.

PyYAML's ``CSafeLoader`` (libyaml) is fast but has sharp edges this module keeps away
from the rest of feedpub:

* libyaml's composer recurses in C and segfaults the process on about 50,000 nested
  brackets, and its scanner is quadratic in the nesting depth (100,000 brackets take
  half a minute). So the front matter's size is capped and its nesting depth bounded
  by a cheap pass in Python **before** libyaml sees the text.
* Aliases (``*name``) are rejected: "billion laughs" documents expand exponentially.
* Only the standard YAML tags are accepted; ``!!python/...`` and local tags are
  errors, and nothing is ever constructed from a tag.
* YAML 1.1 coercions are under control: values are kept as nodes, and each key is read
  as the type *it* needs. ``title: 2024`` and ``title: no`` stay the text ``"2024"`` and
  ``"no"``; ``draft: "yes"`` is a boolean; ``draft: maybe`` is an error naming the key
  and the expected type. Dates stay text (``feedpub.dates`` parses them).
* Duplicate keys are warnings naming the key and both lines (the last one wins, as in
  PyYAML and Ruby's Psych).
* Characters XML 1.0 cannot carry (and that YAML refuses) are removed with a warning
  naming the field, instead of failing the post or breaking a feed later.
"""
from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .errors import PostError, Problem

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_DEPTH = 40

# XML 1.0 forbids C0 controls (except tab, LF, CR), lone surrogates, U+FFFE/U+FFFF; YAML
# additionally refuses DEL, C1 controls (except NEL) and a BOM inside the text.
_STRIP_FRONT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufeff\ufffe\uffff\ud800-\udfff]")
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_BLOCK_LINE = re.compile(r"^( *)([^ \n].*)$", re.M)
_COMPACT = re.compile(r"(?:[-?](?:[ \t]+|$))*")
_INDICATOR = re.compile(r"[-?](?:[ \t]+|$)")
_FLOW = re.compile(r"[\[\]{}]")
_INDENT = re.compile(r"^ +", re.M)

_Y = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT, _TS = (_Y + t for t in ("str", "null", "bool", "int", "float", "timestamp"))
_ALLOWED_TAGS = frozenset(_Y + t for t in (
    "str", "null", "bool", "int", "float", "timestamp", "binary", "seq", "map", "set", "omap", "pairs", "merge", "value",
))
TRUE_WORDS = frozenset({"true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "no", "off", "n"})

_constructor = SafeConstructor()


def clean_text(value: str) -> tuple[str, bool]:
    """``value`` without the characters XML 1.0 cannot carry; True when any were removed."""
    if XML_ILLEGAL.search(value) is None:
        return value, False
    return XML_ILLEGAL.sub("", value), True


def _kind(node: yaml.Node | None) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node is None or node.tag == _NULL:
        return "nothing (null)"
    return {_BOOL: "a boolean", _INT: "a number", _FLOAT: "a number", _TS: "a date"}.get(node.tag, "text")


def _shown_tag(tag: str) -> str:
    return "!!" + tag[len(_Y):] if tag.startswith(_Y) else tag


def depth_bound(text: str) -> int:
    """An upper bound of the text's YAML nesting depth, computed without libyaml.

    Flow nesting is bounded by the brackets (quoted brackets only over-count). Block
    nesting needs more indentation, an indentless ``- `` under a key, or compact
    indicators on one line (``- - x``, ``- k: v``, ``? x``). The cheap bound (brackets +
    dashes + deepest indentation) settles ordinary front matter; only when it is over
    the cap are the lines walked with an indentation stack.
    """
    rough = text.count("[") + text.count("{") + text.count("-") + text.count("?")
    rough += max((len(m) for m in _INDENT.findall(text)), default=0)
    if rough + 2 <= MAX_DEPTH:
        return rough + 2
    flow = deepest = 0
    for m in _FLOW.finditer(text):
        if m.group() in "[{":
            flow += 1
            deepest = max(deepest, flow)
        elif flow:
            flow -= 1
    return deepest + _block_depth(text) + 2


def _block_depth(text: str) -> int:
    """Block nesting depth from indentation: a stack of (column, is a "- " item)."""
    stack: list[tuple[int, bool]] = []
    deepest = 0
    for m in _BLOCK_LINE.finditer(text):
        rest = m.group(2)
        if rest[0] == "#":
            continue
        col = len(m.group(1))
        dash = rest[0] == "-" and (len(rest) == 1 or rest[1] in " \t")
        # at the same column a "- " item under a key nests (an indentless sequence);
        # anything else there is a sibling
        while stack and (stack[-1][0] > col or (stack[-1][0] == col and (stack[-1][1] or not dash))):
            stack.pop()
        for token in _INDICATOR.findall(_COMPACT.match(rest).group()):
            stack.append((col, token[0] == "-"))
            col += len(token)
        tail = rest[col - len(m.group(1)):]
        if tail and (": " in tail or tail.endswith(":")) or not stack or stack[-1][0] < col:
            stack.append((col, False))
        deepest = max(deepest, len(stack))
    return deepest


class FrontMatter:
    """A post's front matter: top-level keys with their nodes, file lines and values."""

    __slots__ = ("relpath", "nodes", "key_lines", "data", "_first", "escapes")

    def __init__(self, relpath: str, first_line: int) -> None:
        self.relpath = relpath
        self._first = first_line
        # Only YAML escapes ("\x01", "\ud800") can put characters XML cannot carry
        # into a value once the raw text is clean: without a backslash, skip the check.
        self.escapes = False
        self.nodes: dict[str, yaml.Node] = {}
        self.key_lines: dict[str, int] = {}
        self.data: dict[str, Any] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.nodes

    def line(self, key: str) -> int | None:
        return self.key_lines.get(key)

    def node_line(self, node: yaml.Node) -> int:
        return self._first + node.start_mark.line

    def error(self, key: str, message: str) -> PostError:
        return PostError(message, path=self.relpath, line=self.line(key))

    def present(self, key: str) -> bool:
        """The key is there and not null."""
        node = self.nodes.get(key)
        return node is not None and not (isinstance(node, yaml.ScalarNode) and node.tag == _NULL)

    def text(self, key: str, *, expected: str = "text") -> str | None:
        """A scalar as the text written in the file (no YAML 1.1 coercion); None if absent/null."""
        node = self.nodes.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL):
            return None
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(key, f"'{key}' must be {expected}, got {_kind(node)}")
        return self.scalar_text(node)

    def flag(self, key: str) -> bool | None:
        """A boolean: true/false, yes/no, on/off, y/n in any case, quoted or not."""
        node = self.nodes.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL):
            return None
        if isinstance(node, yaml.ScalarNode):
            word = node.value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            got = f"{_kind(node)} {node.value!r}"
        else:
            got = _kind(node)
        raise self.error(key, f"'{key}' must be true or false, got {got}")

    def strings(self, key: str) -> list[str] | str | None:
        """A scalar (as text) or a list of scalars (nested lists flattened); None if null."""
        node = self.nodes.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL):
            return None
        if isinstance(node, yaml.ScalarNode):
            return self.scalar_text(node)
        if isinstance(node, yaml.MappingNode):
            raise self.error(key, f"'{key}' must be a list or text, got a mapping")
        out: list[str] = []
        stack = list(reversed(node.value))
        while stack:
            item = stack.pop()
            if isinstance(item, yaml.SequenceNode):
                stack.extend(reversed(item.value))
            elif isinstance(item, yaml.MappingNode):
                raise PostError(f"'{key}' items must be text, got a mapping", path=self.relpath, line=self.node_line(item))
            elif item.tag != _NULL:
                out.append(self.scalar_text(item))
        return out

    def scalar_text(self, node: yaml.ScalarNode) -> str:
        return clean_text(node.value)[0] if self.escapes else node.value

    def mapping(self, key: str) -> dict[str, Any] | None:
        value = self.data.get(key)
        return value if isinstance(value, dict) else None


def _scalar_value(node: yaml.ScalarNode) -> Any:
    """A scalar as plain Python for Liquid's page.*: bools, numbers; dates stay text."""
    tag = node.tag
    try:
        if tag == _BOOL:
            return node.value.strip().lower() in TRUE_WORDS
        if tag == _INT:
            return _constructor.construct_yaml_int(node)
        if tag == _FLOAT:
            return _constructor.construct_yaml_float(node)
        if tag == _NULL:
            return None
    except (ValueError, OverflowError):
        pass
    return node.value


def load(text: str, relpath: str, first_line: int = 2) -> tuple[FrontMatter, list[Problem]]:
    """Parse front matter text whose first line is line ``first_line`` of the file.

    Returns the front matter and warnings; raises PostError (with the line in the file)
    for anything that makes the post unreadable.
    """
    fm = FrontMatter(relpath, first_line)
    problems: list[Problem] = []
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_FRONT_MATTER_BYTES else len(text)
    if size > MAX_FRONT_MATTER_BYTES:
        raise PostError(
            f"front matter is larger than {MAX_FRONT_MATTER_BYTES} bytes; not read",
            path=relpath, line=first_line - 1,
            hint="keep long text in the body; front matter is for short metadata",
        )
    dirty_lines: list[int] = []
    if _STRIP_FRONT.search(text):
        for m in _STRIP_FRONT.finditer(text):
            dirty_lines.append(first_line + text.count("\n", 0, m.start()))
        text = _STRIP_FRONT.sub("", text)
    if depth_bound(text) > MAX_DEPTH:
        raise PostError(
            f"front matter is nested more than {MAX_DEPTH} levels deep; not read",
            path=relpath, line=first_line - 1,
        )
    if "*" in text:
        _reject_aliases(text, relpath, first_line)
    fm.escapes = "\\" in text
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark is not None else first_line
        detail = exc.problem or "invalid YAML"
        if exc.context:
            where = exc.context_mark
            since = f" that starts on line {first_line + where.line}" if where is not None and where is not mark else ""
            detail = f"{detail} ({exc.context}{since})"
        raise PostError(f"YAML syntax error in front matter: {detail}", path=relpath, line=line) from None
    except yaml.YAMLError as exc:  # reader errors carry no mark the same way
        raise PostError(f"YAML error in front matter: {exc}", path=relpath, line=first_line) from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == _NULL):
        return fm, problems
    if not isinstance(root, yaml.MappingNode):
        got = _kind(root).removeprefix("a ").removeprefix("an ")
        raise PostError(
            f"front matter must be a mapping, got {got}",
            path=relpath, line=first_line + root.start_mark.line,
            hint="write the front matter as 'key: value' lines",
        )
    dirty: set[str] = set()
    seen_lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = _key(key_node, fm)
        line = fm.node_line(key_node)
        if key in seen_lines:
            problems.append(Problem(
                relpath, line,
                f"duplicate key '{key}' on lines {seen_lines[key]} and {line}; the last one wins",
                severity="warning", key=key,
            ))
        seen_lines[key] = line
        fm.nodes[key] = value_node
        fm.key_lines[key] = line
        fm.data[key] = _convert(value_node, fm, key, dirty, problems)
    for line in dirty_lines:
        dirty.add(_key_at_line(fm, line) or "front matter")
    for key in sorted(dirty):
        problems.append(Problem(
            relpath, fm.line(key),
            f"removed characters XML 1.0 cannot carry (control characters, lone surrogates) from '{key}'",
            severity="warning", key=key,
        ))
    return fm, problems


def _key(node: yaml.Node, fm: FrontMatter) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise PostError(f"front matter keys must be text, got {_kind(node)}", path=fm.relpath, line=fm.node_line(node))
    _check_tag(node, fm)
    return fm.scalar_text(node)


def _check_tag(node: yaml.Node, fm: FrontMatter) -> None:
    tag = node.tag
    if tag is not None and tag not in _ALLOWED_TAGS:
        raise PostError(
            f"YAML tag {_shown_tag(tag)} is not allowed in front matter; nothing was run",
            path=fm.relpath, line=fm.node_line(node),
            hint="remove the tag; front matter holds plain text, numbers, lists and mappings",
        )


def _convert(node: yaml.Node, fm: FrontMatter, key: str, dirty: set[str], problems: list[Problem]) -> Any:
    """Plain Python from a node tree whose depth is already bounded."""
    _check_tag(node, fm)
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            value: Any = node.value
        else:
            value = _scalar_value(node)
        if fm.escapes and isinstance(value, str):
            value, changed = clean_text(value)
            if changed:
                dirty.add(key)
        return value
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, fm, key, dirty, problems) for item in node.value]
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for k_node, v_node in node.value:
        k = _key(k_node, fm)
        line = fm.node_line(k_node)
        if k in seen:
            problems.append(Problem(
                fm.relpath, line,
                f"duplicate key '{key}.{k}' on lines {seen[k]} and {line}; the last one wins",
                severity="warning", key=key,
            ))
        seen[k] = line
        out[k] = _convert(v_node, fm, key, dirty, problems)
    return out


def _key_at_line(fm: FrontMatter, line: int) -> str | None:
    best = None
    for key, key_line in fm.key_lines.items():
        if key_line <= line and (best is None or key_line >= fm.key_lines[best]):
            best = key
    return best


def _reject_aliases(text: str, relpath: str, first_line: int) -> None:
    """Scan (never compose) for ``*alias`` tokens; the text's depth is already bounded."""
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.AliasToken):
                raise PostError(
                    f"YAML alias '*{token.value}' is not allowed in front matter "
                    "(aliases can expand exponentially: 'billion laughs')",
                    path=relpath, line=first_line + token.start_mark.line,
                    hint="repeat the value instead of using &anchor / *alias",
                )
    except yaml.MarkedYAMLError:
        return  # the compose step reports the syntax error with its line
