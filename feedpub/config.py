"""Typed, validated configuration.

The configuration is declared as a schema: one dataclass per TOML table, each field
with its type, default and a one-line doc (``feedpub config-reference`` and the README's
reference are generated from it). Loading collects *every* problem before failing, each
naming its key and what was expected versus what was found; unknown keys are warnings
that name the closest valid key.

Sources, first found wins: ``--config FILE``; ``feedpub.toml``; ``[tool.feedpub]`` in
``pyproject.toml``; a Jekyll ``_config.yml`` (title, description, url, baseurl, author,
timezone, permalink, lang, excerpt_separator).
"""
from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

import yaml

from .errors import ConfigError, Problem


def _doc(text: str, **extra: Any) -> dict[str, Any]:
    return {"doc": text, **extra}


@dataclass(frozen=True)
class SiteConfig:
    title: str = field(default="", metadata=_doc("Site title, shown in feeds and the digest.", required=True))
    url: str = field(default="", metadata=_doc("Absolute URL of the site, e.g. https://example.com.", required=True, url=True))
    baseurl: str = field(default="", metadata=_doc("Path prefix the site is served under, e.g. /blog (Jekyll's baseurl)."))
    description: str = field(default="", metadata=_doc("One-line description (feed subtitle)."))
    author: str = field(default="", metadata=_doc("Default author name for posts without one."))
    author_email: str = field(default="", metadata=_doc("Default author email."))
    author_uri: str = field(default="", metadata=_doc("Default author web page.", url=True))
    timezone: str = field(default="UTC", metadata=_doc("IANA time zone for dates without an offset.", timezone=True))
    lang: str = field(default="en", metadata=_doc("Language code (xml:lang, JSON Feed language)."))
    permalink: str = field(default="date", metadata=_doc("Jekyll permalink style (date, pretty, ordinal, none) or a pattern like /:year/:title/."))
    excerpt_separator: str = field(default="\n\n", metadata=_doc("Text that ends a post's excerpt; Jekyll's default is the first paragraph."))
    icon: str = field(default="", metadata=_doc("Square site icon (URL or site path) for feeds."))
    logo: str = field(default="", metadata=_doc("Wide site logo (URL or site path) for feeds."))


@dataclass(frozen=True)
class PathsConfig:
    posts: str = field(default="", metadata=_doc("Posts folder; default posts/, else Jekyll's _posts/."))
    out: str = field(default="public", metadata=_doc("Output folder for feeds and web copies."))
    templates: str = field(default="templates", metadata=_doc("Your template folder; its files override the defaults."))
    cache: str = field(default=".feedpub/cache", metadata=_doc("Build cache (safe to delete, safe to keep in CI)."))


@dataclass(frozen=True)
class BuildConfig:
    future: bool = field(default=False, metadata=_doc("Publish posts dated in the future."))
    drafts: bool = field(default=False, metadata=_doc("Publish drafts (draft: true)."))
    max_post_bytes: int = field(default=1_048_576, metadata=_doc("Posts larger than this are rejected.", min=1))
    render_timeout: float = field(default=10.0, metadata=_doc("Seconds one post may take to render before it is rejected.", min=0.1))
    jobs: int = field(default=0, metadata=_doc("Worker processes for scanning many posts and rendering the feeds' cache misses; 0: every core, only above 600 posts or 6 renders; 1: none.", min=0))


@dataclass(frozen=True)
class FeedsConfig:
    limit: int = field(default=20, metadata=_doc("Entries per feed (the newest).", min=1))
    formats: list[str] = field(default_factory=lambda: ["atom", "rss", "json"], metadata=_doc("Formats to write.", choices=("atom", "rss", "json")))
    atom: str = field(default="feed.xml", metadata=_doc("Path of the Atom feed in the output folder."))
    rss: str = field(default="rss.xml", metadata=_doc("Path of the RSS feed."))
    json: str = field(default="feed.json", metadata=_doc("Path of the JSON Feed."))
    categories: bool | list[str] = field(default=False, metadata=_doc("Per-category feeds: true for all, or a list of names."))
    tags: bool | list[str] = field(default=False, metadata=_doc("Per-tag feeds: true for all, or a list of names."))
    category_path: str = field(default="categories/{slug}/{file}", metadata=_doc("Where per-category feeds go; {slug} and {file} are filled in."))
    tag_path: str = field(default="tags/{slug}/{file}", metadata=_doc("Where per-tag feeds go."))
    excerpt_only: bool = field(default=False, metadata=_doc("Put only the summary, not the full content, in feeds."))
    stylesheet: bool | str = field(default=True, metadata=_doc("Link an XSL stylesheet so browsers show a readable page; or a path to your own."))
    hub: str = field(default="", metadata=_doc("WebSub hub URL, e.g. https://pubsubhubbub.appspot.com/.", url=True))
    archive: bool = field(default=False, metadata=_doc("Write RFC 5005 archive pages with every older entry."))
    iframe_hosts: list[str] = field(default_factory=lambda: ["www.youtube.com", "www.youtube-nocookie.com", "player.vimeo.com"], metadata=_doc("Hosts whose iframes survive sanitizing."))


@dataclass(frozen=True)
class DigestConfig:
    window: int = field(default=7, metadata=_doc("Days a first digest looks back when nothing was sent yet.", min=1))
    max_posts: int = field(default=10, metadata=_doc("Posts shown in full in one digest; more are listed as links.", min=1))
    content: Literal["excerpt", "full"] = field(default="excerpt", metadata=_doc("Show each post's excerpt with a Read more link, or its full content."))
    subject: str = field(default="{site_title}: {count} new {posts}", metadata=_doc("Subject template: {site_title}, {date}, {count}, {posts}, {first_title}."))
    preheader: str = field(default="", metadata=_doc("Hidden preview text; default: the first post's excerpt."))
    out: str = field(default="public/digest", metadata=_doc("Folder for digest.html, digest.txt and digest.eml."))
    archive: str = field(default="digests", metadata=_doc("Folder in the output for web copies of sent digests."))


@dataclass(frozen=True)
class SendConfig:
    provider: str = field(default="outbox", metadata=_doc("outbox, smtp, postmark, sendgrid, mailgun, resend, ses or brevo.", choices=("outbox", "smtp", "postmark", "sendgrid", "mailgun", "resend", "ses", "brevo")))
    from_: str = field(default="", metadata=_doc("Sender, e.g. 'Blog <news@example.com>'.", key="from"))
    reply_to: str = field(default="", metadata=_doc("Reply-To address."))
    to: list[str] = field(default_factory=list, metadata=_doc("A few recipient addresses."))
    recipients: str = field(default="", metadata=_doc("CSV file of recipients (email, optional name)."))
    base_url: str = field(default="", metadata=_doc("Provider API base URL (EU regions, proxies, tests).", url=True))
    domain: str = field(default="", metadata=_doc("Mailgun sending domain."))
    region: str = field(default="", metadata=_doc("Mailgun (us, eu) or SES (e.g. eu-west-1) region."))
    message_stream: str = field(default="", metadata=_doc("Postmark message stream (default: broadcast)."))
    unsubscribe_url: str = field(default="", metadata=_doc("Per-recipient unsubscribe URL template with {email} and {token}."))
    unsubscribe_mailto: str = field(default="", metadata=_doc("mailto: address for List-Unsubscribe."))
    journal: str = field(default=".feedpub/journal.jsonl", metadata=_doc("Send journal (commit it or cache it in CI)."))
    outbox: str = field(default="outbox", metadata=_doc("Folder the outbox provider writes .eml files into."))
    suppress: str = field(default="", metadata=_doc("CSV of addresses never to send to (created on first use)."))
    audience: str = field(default="", metadata=_doc("Provider-managed list/audience id to broadcast to."))
    concurrency: int = field(default=4, metadata=_doc("Batches in flight at once.", min=1))
    rate_limit: float = field(default=0.0, metadata=_doc("Requests per second at most; 0 uses the provider's default.", min=0))
    timeout: float = field(default=30.0, metadata=_doc("Seconds per HTTP request.", min=0.1))
    retries: int = field(default=5, metadata=_doc("Retries of one batch on 429/5xx/timeouts.", min=0))
    smtp_host: str = field(default="", metadata=_doc("SMTP server host."))
    smtp_port: int = field(default=587, metadata=_doc("SMTP server port.", min=1))
    smtp_user: str = field(default="", metadata=_doc("SMTP user name (password from SMTP_PASSWORD)."))
    smtp_security: Literal["starttls", "ssl", "none"] = field(default="starttls", metadata=_doc("SMTP transport security."))


SECTIONS: dict[str, type] = {
    "site": SiteConfig,
    "paths": PathsConfig,
    "build": BuildConfig,
    "feeds": FeedsConfig,
    "digest": DigestConfig,
    "send": SendConfig,
}


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``root`` is the site folder; relative paths resolve there."""

    root: Path
    source: str
    site: SiteConfig = field(default_factory=SiteConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    send: SendConfig = field(default_factory=SendConfig)
    warnings: tuple[Problem, ...] = ()

    # ---- derived values -------------------------------------------------------------
    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.site.timezone)

    @property
    def site_url(self) -> str:
        """Scheme + host + baseurl, without a trailing slash."""
        return self.site.url.rstrip("/") + "/" + self.site.baseurl.strip("/") if self.site.baseurl.strip("/") else self.site.url.rstrip("/")

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.root / p

    @property
    def posts_dir(self) -> Path:
        if self.paths.posts:
            return self.path(self.paths.posts)
        for name in ("posts", "_posts"):
            if (self.root / name).is_dir():
                return self.root / name
        return self.root / "posts"

    @property
    def out_dir(self) -> Path:
        return self.path(self.paths.out)

    @property
    def cache_dir(self) -> Path:
        return self.path(self.paths.cache)

    def replace(self, **sections: Any) -> "Config":
        """A copy with some fields of sections changed: ``cfg.replace(build={"future": True})``."""
        changes = {}
        for name, values in sections.items():
            changes[name] = dataclasses.replace(getattr(self, name), **values)
        return dataclasses.replace(self, **changes)


# ---- loading ------------------------------------------------------------------------

CONFIG_NAMES = ("feedpub.toml",)
JEKYLL_KEYS = ("title", "description", "url", "baseurl", "author", "timezone", "permalink", "lang", "excerpt_separator")


def find_config(start: Path) -> Path | None:
    """The config file for the site in ``start``: feedpub.toml, pyproject.toml, _config.yml."""
    for name in ("feedpub.toml", "pyproject.toml", "_config.yml"):
        candidate = start / name
        if candidate.is_file():
            if name == "pyproject.toml":
                try:
                    if "feedpub" not in tomllib.loads(candidate.read_text("utf-8")).get("tool", {}):
                        continue
                except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                    continue
            return candidate
    return None


def load_config(path: Path | None = None, *, root: Path | None = None) -> Config:
    """Load and validate the configuration; raise ConfigError listing every problem."""
    root = (root or Path.cwd()).resolve()
    if path is None:
        path = find_config(root)
        if path is None:
            raise ConfigError(
                [Problem(None, None, f"no feedpub.toml, [tool.feedpub] in pyproject.toml, or _config.yml in {root}; run 'feedpub init' to create one")]
            )
    path = Path(path)
    display = _display(path, root)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(display, None, "config file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(display, None, f"cannot read config: {exc}")]) from None

    if path.suffix in (".yml", ".yaml"):
        data, problems = _from_jekyll(text, display)
    else:
        data, problems = _from_toml(text, display, pyproject=path.name == "pyproject.toml")
    site_root = path.resolve().parent
    # A feedpub.toml beside a Jekyll _config.yml may leave site keys out: take them from there.
    jekyll = site_root / "_config.yml"
    if path.suffix == ".toml" and jekyll.is_file():
        try:
            jdata, _ = _from_jekyll(jekyll.read_text("utf-8"), "_config.yml")
            for key, value in jdata.get("site", {}).items():
                data.setdefault("site", {}).setdefault(key, value)
        except (OSError, UnicodeDecodeError):
            pass
    return build_config(data, root=site_root, source=display, problems=problems)


def build_config(
    data: dict[str, Any],
    *,
    root: Path,
    source: str = "feedpub.toml",
    problems: list[Problem] | None = None,
) -> Config:
    """Validate a dict shaped like feedpub.toml into a Config (used by tests and init)."""
    problems = list(problems or [])
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SECTIONS:
            problems.append(_unknown(source, name, list(SECTIONS), f"[{name}]"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(source, None, f"[{name}] must be a table, got {_typename(value)}", key=name))
            continue
        sections[name] = _section(SECTIONS[name], name, value, source, problems)
    for name, cls in SECTIONS.items():
        if name not in sections:
            sections[name] = _section(cls, name, {}, source, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(problems, path=source)
    return Config(root=root, source=source, warnings=tuple(problems), **sections)


def _section(cls: type, name: str, values: dict[str, Any], source: str, problems: list[Problem]) -> Any:
    fields = {f.metadata.get("key", f.name): f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            problems.append(_unknown(source, f"{name}.{key}", [f"{name}.{k}" for k in fields], f"{name}.{key}"))
            continue
        ok, converted, expected = _check_type(value, hints[f.name])
        dotted = f"{name}.{key}"
        if not ok:
            problems.append(Problem(source, None, f"'{dotted}': expected {expected}, got {_typename(value)} {value!r}", key=dotted))
            continue
        message = _check_value(converted, f.metadata)
        if message:
            problems.append(Problem(source, None, f"'{dotted}': {message}", key=dotted))
            continue
        kwargs[f.name] = converted
    for key, f in fields.items():
        if f.metadata.get("required") and not values.get(key):
            problems.append(Problem(source, None, f"'{name}.{key}' is required ({f.metadata['doc']})", key=f"{name}.{key}"))
    return cls(**kwargs)


def _check_type(value: Any, hint: Any) -> tuple[bool, Any, str]:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        names = []
        for arm in get_args(hint):
            ok, converted, expected = _check_type(value, arm)
            if ok:
                return True, converted, expected
            names.append(expected)
        return False, value, " or ".join(names)
    if origin is Literal:
        choices = get_args(hint)
        return value in choices, value, "one of " + ", ".join(repr(c) for c in choices)
    if origin is list:
        (item,) = get_args(hint)
        if isinstance(value, str) and item is str:
            return False, value, "a list of strings"
        if not isinstance(value, list) or not all(_check_type(v, item)[0] for v in value):
            return False, value, "a list of strings"
        return True, list(value), "a list of strings"
    if hint is bool:
        return isinstance(value, bool), value, "true or false"
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value, "an integer"
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value, "a number"
    if hint is str:
        return isinstance(value, str), value, "a string"
    return True, value, str(hint)


def _check_value(value: Any, meta: typing.Mapping[str, Any]) -> str | None:
    if "min" in meta and isinstance(value, (int, float)) and value < meta["min"]:
        return f"expected at least {meta['min']}, got {value}"
    if meta.get("url") and isinstance(value, str) and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"expected an absolute http(s) URL like https://example.com, got {value!r}"
    if meta.get("timezone") and isinstance(value, str):
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return f"unknown time zone {value!r}; use an IANA name like Europe/Berlin or UTC"
    choices = meta.get("choices")
    if choices:
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in choices]
        if bad:
            return f"expected one of {', '.join(choices)}, got {', '.join(map(repr, bad))}"
    return None


def _unknown(source: str, key: str, valid: list[str], shown: str) -> Problem:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return Problem(source, None, f"unknown key '{shown}' is ignored{hint}", severity="warning", key=key)


def _typename(value: Any) -> str:
    return {dict: "table", list: "list", str: "string", bool: "boolean", int: "integer", float: "number"}.get(type(value), type(value).__name__)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def _from_toml(text: str, display: str, *, pyproject: bool) -> tuple[dict[str, Any], list[Problem]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise ConfigError([Problem(display, line, f"TOML syntax error: {exc}")]) from None
    if pyproject:
        data = data.get("tool", {}).get("feedpub", {})
    return data, []


def _from_jekyll(text: str, display: str) -> tuple[dict[str, Any], list[Problem]]:
    """Map a Jekyll _config.yml's site keys onto [site]."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError([Problem(display, mark.line + 1 if mark else None, f"YAML syntax error: {exc}")]) from None
    if not isinstance(raw, dict):
        raise ConfigError([Problem(display, None, f"must be a mapping, got {_typename(raw)}")])
    site: dict[str, Any] = {}
    for key in JEKYLL_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if key == "author":
            if isinstance(value, dict):
                if value.get("name"):
                    site["author"] = str(value["name"])
                if value.get("email"):
                    site["author_email"] = str(value["email"])
                if value.get("uri") or value.get("url"):
                    site["author_uri"] = str(value.get("uri") or value.get("url"))
                continue
        site[key] = str(value)
    data: dict[str, Any] = {"site": site}
    if raw.get("future") is True:
        data["build"] = {"future": True}
    feed = raw.get("feed")
    if isinstance(feed, dict) and isinstance(feed.get("path"), str):
        data["feeds"] = {"atom": feed["path"].lstrip("/")}
    return data, []


def reference_rows() -> list[tuple[str, str, str, str]]:
    """(key, type, default, doc) for every config key: the README reference is built from it."""
    rows = []
    hints_cache = {}
    for name, cls in SECTIONS.items():
        hints = hints_cache.setdefault(cls, typing.get_type_hints(cls))
        for f in dataclasses.fields(cls):
            key = f.metadata.get("key", f.name)
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            rows.append((f"{name}.{key}", _hint_name(hints[f.name]), repr(default) if default != "" else '""', f.metadata["doc"]))
    return rows


def _hint_name(hint: Any) -> str:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return " | ".join(_hint_name(a) for a in get_args(hint))
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(hint))
    if origin is list:
        return "list[str]"
    return getattr(hint, "__name__", str(hint))
