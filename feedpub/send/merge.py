"""Turn N per-recipient messages back into one template + per-recipient variables.

SendGrid (``personalizations[].substitutions``) and Mailgun (``recipient-variables``)
send one body to many recipients and substitute per-recipient values into it. The engine
hands every provider fully rendered per-recipient messages, so these two providers need
the reverse: find the values that differ between recipients (address, name, the
unsubscribe URLs of each header that differs), put a placeholder where the first
message has them, and *prove* the template by rendering it back for every recipient and
comparing with their message byte for byte. If any recipient's copy would differ,
``merge`` returns None and the caller refuses the batch rather than send a wrong email.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .base import OutgoingMessage

_URL_IN_BRACKETS = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True, slots=True)
class Merged:
    subject: str
    html: str
    text: str
    headers: dict[str, str]                    # header templates (placeholders where values differ)
    variables: tuple[dict[str, str], ...]      # one dict per message, in order


def _candidates(messages: Sequence[OutgoingMessage]) -> list[dict[str, str]]:
    """Per message: every value that may be personal, keyed the same way for all messages."""
    header_names = sorted({name for m in messages for name in m.headers})
    varying = [n for n in header_names if len({m.headers.get(n, "") for m in messages}) > 1]
    out: list[dict[str, str]] = []
    for m in messages:
        values = {"email": m.to, "name": m.to_name}
        for i, name in enumerate(varying):
            value = m.headers.get(name, "")
            values[f"h{i}"] = value
            for j, url in enumerate(_URL_IN_BRACKETS.findall(value)):
                values[f"h{i}u{j}"] = url
                values[f"h{i}u{j}x"] = html.escape(url, quote=True)
        out.append(values)
    return out


def merge(messages: Sequence[OutgoingMessage], placeholder: Callable[[str], str]) -> Merged | None:
    """One template for ``messages`` or None when they differ beyond per-recipient values."""
    if not messages:
        return None
    first = messages[0]
    if any((m.from_addr, m.reply_to) != (first.from_addr, first.reply_to) for m in messages):
        return None
    if any(set(m.headers) != set(first.headers) for m in messages):
        return None
    cands = _candidates(messages)
    keys = set(cands[0])
    for c in cands[1:]:
        keys &= set(c)
    # Only values that actually differ between recipients, and that are long enough not
    # to occur by chance; longest first so a URL is replaced before the address inside it.
    personal = [
        k for k in keys
        if len({c[k] for c in cands}) > 1 and all(len(c[k]) >= 3 for c in cands)
    ]
    personal.sort(key=lambda k: (-len(cands[0][k]), k))
    # A short name ("Ann") may also occur inside other words; if the full set of values
    # does not reproduce every copy, try once more without the name.
    for keys_now in (personal, [k for k in personal if k != "name"]):
        merged = _attempt(messages, cands, keys_now, placeholder)
        if merged is not None:
            return merged
    return None


def _attempt(
    messages: Sequence[OutgoingMessage], cands: list[dict[str, str]], personal: list[str],
    placeholder: Callable[[str], str],
) -> Merged | None:
    first = messages[0]

    def templ(value: str) -> str:
        for k in personal:
            if cands[0][k]:
                value = value.replace(cands[0][k], placeholder(k))
        return value

    subject, body_html, body_text = templ(first.subject), templ(first.html), templ(first.text)
    headers = {name: templ(value) for name, value in first.headers.items()}
    used = [k for k in personal if any(placeholder(k) in t for t in (subject, body_html, body_text, *headers.values()))]
    variables = tuple({k: c[k] for k in used} for c in cands)

    # A value that itself spells a placeholder would be substituted again by a provider
    # that substitutes repeatedly: refuse rather than guess its semantics.
    prefix = placeholder("\0").split("\0")[0]  # "%recipient." / "%feedpub_"
    if any(prefix in value for var in variables for value in var.values()):
        return None

    # Templates compiled once into literal/placeholder pieces: rendering a copy is one
    # join, and comparing it one memcmp (a 1,000-reader batch of 50 KB bodies stays fast).
    by_placeholder = {placeholder(k): k for k in used}
    splitter = re.compile("|".join(re.escape(p) for p in sorted(by_placeholder, key=len, reverse=True))) if used else None

    def compile_(template: str) -> list[tuple[str, str | None]]:
        if splitter is None:
            return [(template, None)]
        pieces: list[tuple[str, str | None]] = []
        pos = 0
        for match in splitter.finditer(template):
            pieces.append((template[pos:match.start()], by_placeholder[match.group(0)]))
            pos = match.end()
        pieces.append((template[pos:], None))
        return pieces

    compiled = [compile_(t) for t in (subject, body_html, body_text)]
    compiled_headers = {n: compile_(t) for n, t in headers.items()}

    def render(pieces: list[tuple[str, str | None]], var: dict[str, str]) -> str:
        return "".join(lit + (var[k] if k is not None else "") for lit, k in pieces)

    for m, var in zip(messages, variables):
        if (
            render(compiled[1], var) != m.html
            or render(compiled[2], var) != m.text
            or render(compiled[0], var) != m.subject
            or any(render(compiled_headers[n], var) != v for n, v in m.headers.items())
        ):
            return None
    return Merged(subject, body_html, body_text, headers, variables)
