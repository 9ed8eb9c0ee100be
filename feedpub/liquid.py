"""Jekyll's Liquid, on python-liquid 2.x, for post bodies (run before Markdown, as Jekyll does).

Supported: ``{% raw %}``, ``{% highlight lang [linenos] %}`` (Pygments, inline styles),
``{% post_url name %}``, ``{% link path %}``, ``{% include file k="v" %}`` (from the
site's ``_includes/``; ``include_cached`` too), ``{% include_relative path %}`` (beside
the post), ``{% gist user/id %}`` (as a link: feeds cannot run its script), every
standard Liquid tag and filter, Jekyll's common filters (``absolute_url``,
``relative_url``, ``xml_escape``, ``date_to_xmlschema``, ...), ``{{ site.* }}`` (every
``[site]`` key, ``site.posts``...) and ``{{ page.* }}`` (front matter + title, url, date).

Never a crash and never unprocessed ``{% %}`` in the output (only what ``{% raw %}``
shows on purpose): an unknown tag or filter, a syntax error, a missing include, an
unknown ``post_url`` each become a warning naming the file and the line *in the file*
(body line + offset) and render as nothing. Loops, output size and include depth are
capped (python-liquid's resource limits), so a post cannot make Liquid run away.
No file outside the site folder is ever read (includes that try are refused).
"""
from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from email.utils import format_datetime
from io import StringIO
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, quote_plus, urljoin

from liquid import Environment, Mode
from liquid.ast import Node
from liquid.exceptions import LiquidError
from liquid.parser import eat_block
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, Token

from . import markdown_adapter
from .errors import Problem
from .model import Post, Site

MAX_INCLUDE_BYTES = 256 * 1024
MARKDOWN_EXTS = (".md", ".markdown", ".mkdn", ".mkd", ".mdown", ".mdwn")


def has_liquid(text: str) -> bool:
    return "{%" in text or "{{" in text


@dataclass
class LiquidResult:
    text: str                                   # Markdown source with Liquid evaluated
    stash: list[str]                            # finished HTML, referenced by STASH_TOKEN
    problems: list[Problem]
    deps: dict[str, str] = field(default_factory=dict)  # site-relative path -> sha256 of files read ("" = absent)
    uses_posts: bool = False                    # it looked at other posts (post_url, link, site.posts...)


class _SiteDrop(dict):  # type: ignore[type-arg]
    """``site``: config keys at hand; the keys that list other posts are built on first
    use (also from inside includes) and recorded, so the render cache knows to check them."""

    def __init__(self, engine: "LiquidEngine", data: dict[str, Any]) -> None:
        super().__init__(data)
        self._engine = engine

    def __missing__(self, key: str) -> Any:
        engine = self._engine
        if key == "posts":
            value: Any = engine.posts_data()
        elif key in ("categories", "tags"):
            value = _group(engine.posts_data(), key)
        elif key == "time":
            value = engine.site.newest
        else:
            raise KeyError(key)
        _STATE.get().uses_posts = True
        self[key] = value
        return value


@dataclass
class _State:
    post: Post
    body: str
    stash: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    deps: dict[str, str] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)  # id(source text) -> display path
    uses_posts: bool = False


_STATE: contextvars.ContextVar[_State] = contextvars.ContextVar("feedpub_liquid_state")


class _JekyllEnvironment(Environment):
    """Collects every Liquid error as a warning for the post being rendered; never raises."""

    loop_iteration_limit = 100_000
    output_stream_limit = 8 * 1024 * 1024
    local_namespace_limit = 8 * 1024 * 1024

    def error(self, exc: Any, msg: str | None = None, token: Token | None = None) -> None:  # type: ignore[override]
        if not isinstance(exc, LiquidError):
            exc = exc(msg, token=token)
        elif not exc.token:
            exc.token = token
        state = _STATE.get(None)
        if state is not None:
            _warn(state, exc.token, f"Liquid: {exc.message}")


_UNCLOSED = re.compile(r"expected tag end(\w+)")


def _warn(state: _State, token: Token | None, message: str, *, severity: str = "warning") -> None:
    path, line = state.post.relpath, None
    unclosed = _UNCLOSED.search(message)
    if (token is None or token.start_index < 0) and unclosed:
        # "expected tag endif" is reported at the end of the file; point at the last
        # opening tag of that name instead, which is where the fix goes.
        opened = None
        for opened in re.finditer(r"\{%-?\s*" + unclosed.group(1) + r"\b", state.body):
            pass
        if opened is not None:
            line = state.post.body_line + state.body.count("\n", 0, opened.start())
            message = f"Liquid: '{unclosed.group(1)}' is never closed with 'end{unclosed.group(1)}'"
    if token is not None and token.start_index >= 0:
        src = token.source
        line_in = src.count("\n", 0, token.start_index) + 1
        if src is state.body:
            line = state.post.body_line + line_in - 1
        else:
            path, line = state.sources.get(id(src), path), line_in
    problem = Problem(path, line, message, severity=severity)  # type: ignore[arg-type]
    if problem not in state.problems:
        state.problems.append(problem)


def _expression_text(stream: TokenStream) -> tuple[Token, str]:
    """The tag token and its raw argument text; leaves the stream on the tag's last token."""
    token = stream.current
    text = ""
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        text = stream.current.value.strip()
    return token, text


class _TextNode(Node):
    """A node whose output is computed by a callback at render time."""

    __slots__ = ("fn",)

    def __init__(self, token: Token, fn: Any) -> None:
        super().__init__(token)
        self.fn = fn
        self.blank = False

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        out = self.fn(context, self.token)
        if out:
            buffer.write(out)
        return bool(out)


# ---- tags ----------------------------------------------------------------------------
class PostUrlTag(Tag):
    name = "post_url"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, arg = _expression_text(stream)
        engine: LiquidEngine = self.env.engine  # type: ignore[attr-defined]
        return _TextNode(token, lambda ctx, tok: engine.post_url(_render_arg(ctx, arg), tok))


class LinkTag(Tag):
    name = "link"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, arg = _expression_text(stream)
        engine: LiquidEngine = self.env.engine  # type: ignore[attr-defined]
        return _TextNode(token, lambda ctx, tok: engine.link(_render_arg(ctx, arg), tok))


class IncludeTag(Tag):
    """Jekyll's include: ``{% include file.html param="value" other=variable %}``."""

    name = "include"
    block = False
    relative = False

    def parse(self, stream: TokenStream) -> Node:
        token, arg = _expression_text(stream)
        engine: LiquidEngine = self.env.engine  # type: ignore[attr-defined]
        relative = self.relative
        return _TextNode(token, lambda ctx, tok: engine.include(ctx, arg, tok, relative=relative))


class IncludeRelativeTag(IncludeTag):
    name = "include_relative"
    relative = True


class IncludeCachedTag(IncludeTag):
    """jekyll-include-cache's ``{% include_cached %}``: the same output as ``include``."""

    name = "include_cached"


class GistTag(Tag):
    """jekyll-gist's ``{% gist user/id [file] %}``: a link (feeds cannot run its script)."""

    name = "gist"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, arg = _expression_text(stream)

        def out(ctx: Any, tok: Token) -> str:
            parts = _render_arg(ctx, arg).split()
            if not parts or not re.fullmatch(r"[\w.-]+(?:/[\w.-]+)?", parts[0]):
                _warn(_STATE.get(), tok, "Liquid: gist needs an id like user/0123abcd")
                return ""
            url = "https://gist.github.com/" + parts[0]
            label = f"{parts[0]} ({parts[1]})" if len(parts) > 1 else parts[0]
            return f'<a href="{html.escape(url)}">Gist {html.escape(label)}</a>'

        return _TextNode(token, out)


class HighlightNode(Node):
    __slots__ = ("lang", "linenos", "code")

    def __init__(self, token: Token, lang: str, linenos: bool, code: str) -> None:
        super().__init__(token)
        self.lang, self.linenos, self.code = lang, linenos, code
        self.blank = False

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        try:
            fragment = markdown_adapter.highlight(self.code, self.lang, linenos=self.linenos)
        except Exception:  # noqa: BLE001 - a Pygments lexer bug must not lose the post
            fragment = markdown_adapter.plain_code(self.code)
        state = _STATE.get()
        state.stash.append(fragment)
        # Alone on its own lines, so Markdown treats it as a block and not inside a <p>.
        buffer.write("\n\n" + markdown_adapter.STASH_TOKEN % (len(state.stash) - 1) + "\n\n")
        return True


class HighlightTag(Tag):
    """``{% highlight lang [linenos] %}code{% endhighlight %}``; like Jekyll 4, the code is
    taken verbatim (Liquid inside it is shown, not run)."""

    name = "highlight"
    end = "endhighlight"
    block = True

    def parse(self, stream: TokenStream) -> Node:
        token, arg = _expression_text(stream)
        parts = arg.split()
        lang = parts[0] if parts else "text"
        linenos = any(p.startswith("linenos") for p in parts[1:])
        source = token.source
        open_end = source.find("%}", stream.current.start_index)
        eat_block(stream, ("endhighlight",))
        end = stream.current
        if not end.is_tag("endhighlight") or open_end < 0:
            raise LiquidError("'highlight' is never closed with 'endhighlight'", token=token)
        code = source[open_end + 2 : source.rfind("{%", 0, end.start_index)]
        return HighlightNode(token, lang, linenos, code)


_OUTPUT_IN_ARG = re.compile(r"\{\{(.*?)\}\}", re.S)


def _render_arg(context: Any, arg: str) -> str:
    """Arguments may embed ``{{ var }}`` (Jekyll 4 allows it); evaluate those."""
    if "{{" not in arg:
        return arg.strip()

    def sub(m: re.Match[str]) -> str:
        try:
            tpl = context.env.from_string("{{" + m.group(1) + "}}")
            buf = StringIO()
            tpl.render_with_context(context, buf, partial=True)
            return buf.getvalue()
        except LiquidError:
            return ""

    return _OUTPUT_IN_ARG.sub(sub, arg).strip()


# ---- filters (Jekyll's) ---------------------------------------------------------------
def _to_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        for candidate in (text, text.replace(" ", "T", 1)):
            try:
                return _to_datetime(datetime.fromisoformat(candidate))
            except ValueError:
                pass
        m = re.match(r"^(\d{4}-\d{1,2}-\d{1,2})[ T](\d{1,2}:\d{2}(?::\d{2})?) ?([+-]\d{2}):?(\d{2})$", text)
        if m:
            return _to_datetime(datetime.fromisoformat(f"{m[1]}T{m[2]}{m[3]}:{m[4]}"))
    return None


def _date_filter(fmt: Any) -> Any:
    def apply(value: Any, *_: Any) -> Any:
        dt = _to_datetime(value)
        return fmt(dt) if dt else value

    return apply


def _slugify(value: Any, mode: str = "default") -> str:
    text = str(value).lower()
    if mode == "raw":
        return re.sub(r"\s+", "-", text).strip("-")
    if mode == "pretty":
        return re.sub(r"[^\w._~!$&'()+,;=@]+", "-", text).strip("-")
    return re.sub(r"[^\w]+", "-", text).strip("-")


def _array_to_sentence(value: Any, connector: str = "and") -> str:
    items = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} {connector} {items[1]}"
    return ", ".join(items[:-1]) + f", {connector} {items[-1]}"


def _jsonify(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


# ---- the engine -----------------------------------------------------------------------
class LiquidEngine:
    """Renders post bodies' Liquid for one Site. Thread-safe (per-render state is a contextvar)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.config = site.config
        self.root = site.config.root.resolve()
        self._post_urls: dict[str, str] | None = None
        self._posts_data: list[dict[str, Any]] | None = None
        self._fingerprints: dict[bool, str] = {}
        self._post_paths: tuple[dict[str, str], dict[str, list[str]]] | None = None
        env = _JekyllEnvironment(tolerance=Mode.LAX, strict_filters=True)
        env.engine = self  # type: ignore[attr-defined]
        for tag in (PostUrlTag, LinkTag, IncludeTag, IncludeRelativeTag, IncludeCachedTag, GistTag, HighlightTag):
            env.add_tag(tag)
        site_url = self.config.site_url
        base_path = "/" + self.config.site.baseurl.strip("/") if self.config.site.baseurl.strip("/") else ""
        filters = {
            "absolute_url": lambda v, *_: urljoin(site_url + "/", str(v).lstrip("/")) if v is not None else site_url,
            "relative_url": lambda v, *_: base_path + "/" + str(v).lstrip("/"),
            "xml_escape": lambda v, *_: html.escape(str(v)) if v is not None else "",
            "cgi_escape": lambda v, *_: quote_plus(str(v)),
            "uri_escape": lambda v, *_: quote(str(v), safe="/:?#[]@!$&'()*+,;=%~"),
            "date_to_xmlschema": _date_filter(lambda d: d.isoformat()),
            "date_to_rfc822": _date_filter(lambda d: format_datetime(d)),
            "date_to_string": _date_filter(lambda d: d.strftime("%d %b %Y")),
            "date_to_long_string": _date_filter(lambda d: d.strftime("%d %B %Y")),
            "jsonify": _jsonify,
            "inspect": _jsonify,
            "slugify": _slugify,
            "number_of_words": lambda v, *_: len(str(v).split()),
            "array_to_sentence_string": _array_to_sentence,
            "normalize_whitespace": lambda v, *_: " ".join(str(v).split()),
            "smartify": lambda v, *_: v,
            "markdownify": lambda v, *_: _markdownify(str(v)),
            "strip_index": lambda v, *_: re.sub(r"/index\.html?$", "/", str(v)),
        }
        for name, fn in filters.items():
            env.add_filter(name, fn)
        self.env = env
        site_data: dict[str, Any] = {
            k: v for k, v in vars_of(self.config.site).items()
        }
        site_data.update(url=self.config.site.url.rstrip("/"), baseurl=base_path)
        self._site_data = site_data

    # -- data ---------------------------------------------------------------------------
    def site_globals(self) -> dict[str, Any]:
        return _SiteDrop(self, self._site_data)

    def posts_data(self) -> list[dict[str, Any]]:
        if self._posts_data is None:
            self._posts_data = [page_data(p, self.config.site_url) for p in self.site.posts]
        return self._posts_data

    def fingerprint(self, uses_posts: bool) -> str:
        """Hash of the site data a body's Liquid can see: checked by the render cache."""
        key = bool(uses_posts)
        cached = self._fingerprints.get(key)
        if cached is None:
            h = hashlib.sha256(_jsonify(self._site_data).encode())
            if uses_posts:
                for p in self.site.posts:
                    h.update(f"\0{p.relpath}\0{p.url}\0{p.title}\0{p.date.isoformat()}".encode())
            cached = self._fingerprints[key] = h.hexdigest()
        return cached

    # -- tags ---------------------------------------------------------------------------
    def post_url(self, name: str, token: Token) -> str:
        _STATE.get().uses_posts = True
        if self._post_urls is None:
            table: dict[str, str] = {}
            for p in self.site.posts:
                stem = Path(p.relpath).with_suffix("").as_posix()
                table.setdefault(Path(stem).name, p.url)
                parts = stem.split("/")
                for i in range(1, len(parts)):
                    table.setdefault("/".join(parts[i:]), p.url)
            self._post_urls = table
        key = name.strip().strip("\"'").strip("/")
        key = re.sub(r"\.(md|markdown|mkdn|mkd|mdown|mdwn|html)$", "", key)
        url = self._post_urls.get(key) or self._post_urls.get(key.split("/")[-1])
        if url is None:
            _warn(_STATE.get(), token, f"Liquid: post_url '{name}' matches no published post")
            return ""
        return self._from_root(url)

    def link(self, path: str, token: Token) -> str:
        _STATE.get().uses_posts = True
        rel = path.strip().strip("\"'").lstrip("/")
        if self._post_paths is None:
            by_path: dict[str, str] = {}
            by_name: dict[str, list[str]] = {}
            for p in self.site.posts:
                by_path[_display(p.source.resolve(), self.root)] = p.url
                by_name.setdefault(p.source.name, []).append(p.url)
            self._post_paths = (by_path, by_name)
        by_path, by_name = self._post_paths
        if rel in by_path:
            return self._from_root(by_path[rel])
        # "_posts/2017-03-02-x.markdown" names a post wherever the posts folder is.
        if rel.startswith("_posts/") and len(by_name.get(Path(rel).name, ())) == 1:
            return self._from_root(by_name[Path(rel).name][0])
        target = (self.root / rel).resolve()
        if not _inside(target, self.root) or not target.exists():
            _warn(_STATE.get(), token, f"Liquid: link '{path}' names no file in the site")
        url_path = rel
        for ext in MARKDOWN_EXTS:
            if url_path.endswith(ext):
                url_path = url_path[: -len(ext)] + ".html"
                break
        return self._from_root(self.config.site_url + "/" + quote(url_path, safe="/%~"))

    def _from_root(self, url: str) -> str:
        """Jekyll 4's form for post_url and link: a root-relative path with the baseurl.

        The sanitizer makes it absolute afterwards, so ``[x]({% post_url a %})`` and
        ``{{ site.url }}{% post_url a %}`` both end up as the same absolute URL.
        """
        host = self.config.site.url.rstrip("/")
        return url[len(host):] or "/" if url.startswith(host + "/") or url == host else url

    def include(self, context: Any, arg: str, token: Token, *, relative: bool) -> str:
        state = _STATE.get()
        tag = "include_relative" if relative else "include"
        name, params = _include_args(context, arg)
        if not name:
            _warn(state, token, f"Liquid: {tag} without a file name")
            return ""
        base = state.post.source.resolve().parent if relative else self.root / "_includes"
        target = (base / name).resolve()
        if not _inside(target, self.root):
            _warn(state, token, f"Liquid: {tag} '{name}' is outside the site folder; not read")
            return ""
        try:
            if target.stat().st_size > MAX_INCLUDE_BYTES:
                _warn(state, token, f"Liquid: {tag} '{name}' is larger than {MAX_INCLUDE_BYTES} bytes; not included")
                return ""
            data = target.read_bytes()
        except OSError:
            state.deps[_display(target, self.root)] = ""  # creating it later re-renders the post
            _warn(state, token, f"Liquid: {tag} '{name}' not found ({_display(target, self.root)})")
            return ""
        display = _display(target, self.root)
        state.deps[display] = hashlib.sha256(data).hexdigest()
        text = data.decode("utf-8", "replace").replace("\r\n", "\n")
        if not has_liquid(text):
            return text
        state.sources[id(text)] = display
        try:
            template = self.env.from_string(text, path=display)
        except LiquidError as exc:
            _warn(state, exc.token, f"Liquid: {exc.message}")
            return ""
        buf = StringIO()
        with context.extend({"include": params}):
            template.render_with_context(context, buf, partial=True)
        return buf.getvalue()

    # -- rendering ----------------------------------------------------------------------
    def render(self, post: Post, body: str) -> LiquidResult:
        """Evaluate the Liquid in ``body``; never raises for anything in the post."""
        state = _State(post=post, body=body)
        reset = _STATE.set(state)
        try:
            text = self._render_tolerant(state, body)
        finally:
            _STATE.reset(reset)
        return LiquidResult(text=text, stash=state.stash, problems=state.problems, deps=state.deps, uses_posts=state.uses_posts)

    def _render_tolerant(self, state: _State, body: str) -> str:
        source = body
        globals_ = {"site": self.site_globals(), "page": page_data(state.post, self.config.site_url)}
        for _ in range(50):
            state.body = source
            try:
                template = self.env.from_string(source, path=state.post.relpath)
            except LiquidError as exc:
                # A lexer-level error (a "{%" or "{{" that never closes): report it, drop
                # the broken markup up to the end of its line, and try again.
                token = exc.token
                _warn(state, token, f"Liquid: {exc.message}; the broken markup was removed")
                if token is None or token.start_index < 0:
                    return _strip_all(source)
                start = token.start_index
                end = source.find("\n", start)
                source = source[:start] + (source[end:] if end != -1 else "")
                continue
            try:
                return template.render(**globals_)
            except Exception as exc:  # noqa: BLE001 - a crash inside Liquid must not lose the post
                _warn(state, None, f"Liquid could not be rendered ({type(exc).__name__}: {exc}); its markup was removed")
                return _strip_all(source)
        _warn(state, None, "Liquid: too many syntax errors; all Liquid markup was removed")
        return _strip_all(source)


def vars_of(obj: Any) -> dict[str, Any]:
    return {f.name.rstrip("_"): getattr(obj, f.name) for f in dataclasses.fields(obj)}


def page_data(post: Post, site_url: str = "") -> dict[str, Any]:
    """Jekyll's ``page``: front matter plus title, date, ``url`` (site-relative, without
    the baseurl, as in Jekyll: use ``| absolute_url``), ``absolute_url``, categories..."""
    data: dict[str, Any] = {k: v for k, v in post.front_matter.items() if isinstance(k, str)}
    url = post.url
    if site_url and (url.startswith(site_url + "/") or url == site_url):
        url = url[len(site_url):] or "/"
    data.update(
        title=post.title,
        url=url,
        absolute_url=post.url,
        date=post.date,
        id=post.id,
        slug=post.slug,
        categories=list(post.categories),
        tags=list(post.tags),
        path=post.relpath,
    )
    if post.summary is not None:
        data.setdefault("excerpt", post.summary)
    if post.author is not None:
        data.setdefault("author", post.author.name)
    return data


def _group(posts: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in posts:
        for name in p.get(key, ()):
            out.setdefault(name, []).append(p)
    return out


_PARAM_RE = re.compile(r"""([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+)""")


def _include_args(context: Any, arg: str) -> tuple[str, dict[str, Any]]:
    arg = _render_arg(context, arg)
    name, _, rest = arg.partition(" ")
    name = name.strip().strip("\"'")
    params: dict[str, Any] = {}
    for m in _PARAM_RE.finditer(rest):
        key, raw = m.group(1), m.group(2)
        if raw[0] in "\"'":
            params[key] = raw[1:-1]
        else:
            value = context.resolve(raw, default=None) if "." not in raw else _resolve_path(context, raw)
            params[key] = value
    return name, params


def _resolve_path(context: Any, dotted: str) -> Any:
    head, *rest = dotted.split(".")
    value = context.resolve(head, default=None)
    for part in rest:
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


_LIQUID_ANY = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)


def _strip_all(text: str) -> str:
    """Last resort when Liquid cannot run at all: drop every tag and output statement,
    and any opener left without its closer."""
    return _LIQUID_ANY.sub("", text).replace("{%", "").replace("{{", "")


def _markdownify(text: str) -> str:
    import markdown

    return markdown.markdown(text, extensions=["fenced_code", "tables"])
