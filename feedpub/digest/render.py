"""Rendering a Digest into an Email: subject, email-ready HTML and a plain-text part.

The HTML comes from ``digest.html.j2`` (autoescaped) with ``digest.css`` inlined into
every element by css-inline; only ``@media`` rules (phone padding, dark mode) stay in
a ``<style>`` block, as progressive enhancement: a client that drops it still shows
the complete, inline-styled light layout. Post HTML is made email-safe here (absolute
links, image widths, wrapping code) and handed to the template as trusted markup in
exactly one place, ``_trusted``. The text part is rendered from the same structured
context by ``digest.txt.j2``, never by stripping tags from the HTML.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import css_inline
from lxml import etree
from lxml import html as lxml_html
from markupsafe import Markup

from .. import templating
from ..config import Config
from ..errors import DigestError
from ..model import Email, Post, RenderedPost
from . import UNSUBSCRIBE_PLACEHOLDER
from .select import Digest
from .text import html_to_text

SIZE_WARNING_BYTES = 90 * 1024      # Gmail clips HTML past about 102 KB
CONTENT_WIDTH = 560                 # 600 px container minus 2 x 20 px padding
PREHEADER_MAX = 140
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
# Invisible filler after the preheader, so clients do not pull body text into the preview.
_PREHEADER_FILL = Markup("&#847;&zwnj;&nbsp;" * 60)
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, minify_css=True)
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_CODE_STYLE = "white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere;overflow-x:auto;max-width:100%"


@dataclass(frozen=True, slots=True)
class DigestLinks:
    site: str
    feed: str
    web_copy: str          # "" in the web copy itself
    unsubscribe: str       # "" when none is configured and in the web copy


def render_digest(
    digest: Digest,
    render: Callable[[Post], RenderedPost],
    config: Config,
    now: datetime,
    *,
    web: bool = False,
    subject: str | None = None,
) -> Email:
    """The Email for ``digest``; ``render`` is called for the posts shown, not for "More posts".

    ``web=True`` renders the public web copy: no unsubscribe or "view in browser" link.
    ``subject`` overrides the [digest] subject template (web copies keep the sent one).
    """
    env = templating.environment(config)
    links = digest_links(config, now, web=web)
    posts = [_post_context(render(p), config) for p in digest.posts]
    subject = subject if subject is not None else make_subject(config, digest, now)
    context: dict[str, Any] = {
        "site": {"title": config.site.title, "url": links.site, "description": config.site.description,
                 "lang": config.site.lang},
        "digest": {"id": digest.digest_id, "date": human_date(now.astimezone(config.tz)),
                   "date_iso": now.astimezone(config.tz).date().isoformat(), "count": digest.count,
                   "reason": digest.reason},
        "subject": subject,
        "preheader": preheader(config, posts),
        "preheader_fill": _PREHEADER_FILL,
        "content": config.digest.content,
        "posts": posts,
        "more": [_more_context(p, config) for p in digest.more],
        "links": links,
        "web": web,
    }
    html = templating.render(env, "digest.html.j2", context)
    html = inline_css(html)
    text = _tidy_text(templating.render(env, "digest.txt.j2", context))
    return Email(
        digest_id=digest.digest_id,
        subject=subject,
        html=html,
        text=text,
        from_addr=config.send.from_,
        date=now,
        post_ids=digest.post_ids,
        newest=digest.newest,
        reply_to=config.send.reply_to,
        headers=unsubscribe_headers(config),
    )


# ---- pieces ------------------------------------------------------------------------

_STYLE_BLOCK = re.compile(r"<style>.*?</style>\s*", re.S)


def inline_css(html: str) -> str:
    """Inline every CSS rule into style attributes; keep only @media rules in one <style>.

    css-inline puts the kept block first in <head>; it is moved to the end of <head>
    so ``<meta charset>`` stays within the first 1024 bytes, where browsers look for it.
    """
    try:
        html = _INLINER.inline(html)
    except ValueError as exc:
        raise DigestError(f"cannot inline the digest CSS: {exc}", path="digest.css",
                          hint="check the CSS in your templates folder") from None
    blocks = _STYLE_BLOCK.findall(html)
    if blocks:
        html = _STYLE_BLOCK.sub("", html)
        kept = "".join(b.strip() for b in blocks if b.strip() != "<style></style>")
        html = html.replace("</head>", kept + "\n</head>", 1)
    return html.rstrip("\n") + "\n"


def make_subject(config: Config, digest: Digest, now: datetime) -> str:
    """[digest] subject filled in: {site_title} {date} {count} {posts} {first_title}."""
    values = {
        "site_title": config.site.title,
        "date": human_date(now.astimezone(config.tz)),
        "count": digest.count,
        "posts": "post" if digest.count == 1 else "posts",
        "first_title": digest.all_posts[0].title,
    }
    try:
        subject = config.digest.subject.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise DigestError(
            f"'digest.subject': cannot fill in {config.digest.subject!r}: {exc!r}",
            path=config.source,
            hint="use only {site_title}, {date}, {count}, {posts} and {first_title}; write {{ and }} for braces",
        ) from None
    return " ".join(subject.split())  # one line: no header injection, no stray spaces


def digest_links(config: Config, now: datetime, *, web: bool = False) -> DigestLinks:
    base = config.site_url
    formats = config.feeds.formats or ["atom"]
    feed_path = {"atom": config.feeds.atom, "rss": config.feeds.rss, "json": config.feeds.json}[formats[0]]
    return DigestLinks(
        site=base + "/",
        feed=f"{base}/{feed_path.lstrip('/')}",
        web_copy="" if web else web_copy_url(config, now),
        unsubscribe="" if web else unsubscribe_link(config),
    )


def web_copy_url(config: Config, when: datetime) -> str:
    """Where `feedpub build` publishes the web copy of a digest sent at ``when``."""
    day = when.astimezone(config.tz).date().isoformat()
    return f"{config.site_url}/{config.digest.archive.strip('/')}/{day}.html"


def unsubscribe_link(config: Config) -> str:
    """The footer's unsubscribe href: the per-recipient placeholder the sender fills in."""
    if config.send.unsubscribe_url or config.send.unsubscribe_mailto:
        return UNSUBSCRIBE_PLACEHOLDER
    return ""


def unsubscribe_headers(config: Config) -> dict[str, str]:
    """List-Unsubscribe (RFC 2369) and, for an https URL, one-click List-Unsubscribe-Post (RFC 8058)."""
    targets = []
    if config.send.unsubscribe_url:
        targets.append(f"<{UNSUBSCRIBE_PLACEHOLDER}>")
    if config.send.unsubscribe_mailto:
        targets.append(f"<{_mailto(config.send.unsubscribe_mailto)}>")
    if not targets:
        return {}
    headers = {"List-Unsubscribe": ", ".join(targets)}
    if config.send.unsubscribe_url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _mailto(address: str) -> str:
    address = address.removeprefix("mailto:")
    return f"mailto:{address}" if "?" in address else f"mailto:{address}?subject=unsubscribe"


def preheader(config: Config, posts: list[dict[str, Any]]) -> str:
    """The configured preheader, else the first line of the first post's excerpt."""
    text = config.digest.preheader
    if not text and posts:
        lines = [line.strip() for line in posts[0]["summary_text"].splitlines() if line.strip()]
        text = lines[0] if lines else posts[0]["title"]
    text = " ".join(text.split())
    if len(text) > PREHEADER_MAX:
        text = text[:PREHEADER_MAX].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


def human_date(moment: datetime) -> str:
    """``July 18, 2024``, the same in every locale."""
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def size_warning(html: str) -> str | None:
    """A warning when the HTML is big enough for Gmail to clip it, saying what to do."""
    size = len(html.encode("utf-8"))
    if size <= SIZE_WARNING_BYTES:
        return None
    return (
        f"the digest HTML is {size / 1024:.0f} KB; Gmail clips messages over about 102 KB and "
        "hides the rest behind 'View entire message'. Put fewer posts in one digest "
        "([digest] max_posts or --last N) or show excerpts instead of full content "
        "([digest] content = \"excerpt\")"
    )


def _post_context(rendered: RenderedPost, config: Config) -> dict[str, Any]:
    post = rendered.post
    full = config.digest.content == "full"
    body = rendered.html if full else (rendered.summary_html or rendered.html)
    author = post.author.name if post.author and post.author.name else config.site.author
    date = human_date(post.date.astimezone(config.tz))
    meta = [date] + ([author] if author else []) + ([", ".join(post.categories)] if post.categories else [])
    summary_text = rendered.summary_text or html_to_text(rendered.summary_html or "", base_url=post.url)
    return {
        "id": post.id,
        "title": _one_line(post.title),
        "url": post.url,
        "date": date,
        "date_iso": post.date.isoformat(),
        "author": author,
        "categories": list(post.categories),
        "meta_text": " · ".join(meta),
        "body": _trusted(email_html(body, post.url)),
        "text": html_to_text(body, base_url=post.url),
        "summary_text": summary_text,
        "read_more": not full,
        "image": _lead_image(post, body),
    }


def _lead_image(post: Post, body: str) -> dict[str, str] | None:
    """The front matter ``image`` above the excerpt, unless the shown HTML already has it."""
    if post.image is None or not post.image.url or post.image.url in body:
        return None
    return {"url": post.image.url, "alt": post.image.alt or post.title}


def _more_context(post: Post, config: Config) -> dict[str, Any]:
    return {"title": _one_line(post.title), "url": post.url, "date": human_date(post.date.astimezone(config.tz))}


def _one_line(text: str) -> str:
    """Titles on one line: no stray spaces or line breaks (the text part underlines them)."""
    return " ".join(text.split())


def _trusted(html: str) -> Markup:
    """The one place post HTML (sanitized by the renderer, fixed up above) becomes trusted markup."""
    return Markup(html)


def email_html(fragment: str, base_url: str) -> str:
    """A post's HTML made safe for email layouts.

    Every href/src absolute; images keep (or get an empty) ``alt``, get a ``width`` of
    at most 560 and scale down on phones; code blocks wrap instead of widening the
    email; wide tables scroll; iframes (no email client plays them) become links.
    """
    if not fragment.strip():
        return ""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        for attr in ("href", "src"):
            value = el.get(attr)
            if value is not None:
                url = absolute_url(value, base_url)
                scheme = urlsplit(url).scheme.lower()
                if scheme in _SAFE_SCHEMES or (scheme == "data" and attr == "src" and url.startswith("data:image/")):
                    el.set(attr, url)
                else:  # the renderer sanitizes already; an email never carries javascript: links
                    del el.attrib[attr]
        if "srcset" in el.attrib:
            del el.attrib["srcset"]
        if el.tag == "img":
            _fit_image(el)
        elif el.tag == "pre":
            _add_style(el, _CODE_STYLE)
        elif el.tag == "table" and el.getparent() is not None:
            wrapper = lxml_html.Element("div", style="overflow-x:auto;max-width:100%")
            el.addprevious(wrapper)
            wrapper.append(el)
        elif el.tag == "iframe":
            _iframe_to_link(el)
    parts = [root.text or ""] if root.text else []
    parts += [etree.tostring(child, encoding="unicode", method="html") for child in root]
    return "".join(parts)


def absolute_url(value: str, base_url: str) -> str:
    value = value.strip()
    if value.startswith(("mailto:", "tel:", "data:")):
        return value
    if value.startswith("#"):
        return base_url.split("#", 1)[0] + value  # in-page anchors: the post on the site
    return urljoin(base_url, value)


def _fit_image(img: etree._Element) -> None:
    if img.get("alt") is None:
        img.set("alt", "")
    width = _int(img.get("width"))
    if width is None or width > CONTENT_WIDTH:
        img.set("width", str(CONTENT_WIDTH))
    if "height" in img.attrib:
        del img.attrib["height"]  # height:auto keeps the aspect ratio at any width
    _add_style(img, "max-width:100%;height:auto;border:0;display:block")


def _iframe_to_link(frame: etree._Element) -> None:
    src = frame.get("src", "")
    title = frame.get("title") or "Watch the video"
    link = lxml_html.Element("a", href=src)
    link.text = f"{title} ({urlsplit(src).hostname or src})"
    para = lxml_html.Element("p")
    para.append(link)
    para.tail = frame.tail
    frame.getparent().replace(frame, para)


def _add_style(el: etree._Element, style: str) -> None:
    current = (el.get("style") or "").strip().rstrip(";")
    el.set("style", f"{current};{style}" if current else style)


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip().removesuffix("px")) if value is not None else None
    except ValueError:
        return None


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).strip("\n") + "\n"


def preview_unsubscribe_url(config: Config, recipient: str) -> str:
    """The unsubscribe link of the preview files for ``recipient`` (``{token}`` is not computed)."""
    if config.send.unsubscribe_url:
        return (config.send.unsubscribe_url
                .replace("{email}", quote(recipient, safe=""))
                .replace("{token}", "preview"))
    if config.send.unsubscribe_mailto:
        return _mailto(config.send.unsubscribe_mailto)
    return ""
