"""What ``feedpub init`` and ``feedpub new`` write: feedpub.toml, posts, CI recipes.

Library code with no terminal in it: the CLI asks the questions, this module plans and
writes the files. A plan is a list of ``Planned`` files, each either written or kept
(an existing file is never replaced unless ``force``), so the CLI can print exactly what
happened and tests can check it without a terminal.

The CI recipes are package data in ``templates/ci/``; ``docs/ci/`` holds the same files
(a test keeps them identical), so the documented recipe is the one ``init --ci`` writes.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import formataddr
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from . import atomicio
from .errors import FeedpubError

CI_RECIPES: dict[str, dict[str, str]] = {
    # --ci NAME -> {recipe file in templates/ci: where init writes it in the site}
    "github": {
        "github-pages.yml": ".github/workflows/feedpub-pages.yml",
        "github-digest.yml": ".github/workflows/feedpub-digest.yml",
    },
    "gitlab": {"gitlab-ci.yml": ".gitlab-ci.yml"},
    "bitrise": {"bitrise.yml": "bitrise.yml"},
}


@dataclass(frozen=True)
class SiteAnswers:
    """What init needs to know about the site (asked on a terminal or given as flags)."""

    title: str
    url: str
    author: str = ""
    email: str = ""
    description: str = ""
    timezone: str = "UTC"


@dataclass(frozen=True)
class Planned:
    """One file init wants to write. ``action`` says what happened to it."""

    path: Path
    content: str
    action: Literal["create", "overwrite", "keep", "update"] = "create"
    why: str = ""


# ---- reading an existing site ---------------------------------------------------------

def read_jekyll_config(root: Path) -> dict[str, Any] | None:
    """The site keys of ``root/_config.yml`` (title, url, author, ...) or None without one."""
    path = root / "_config.yml"
    if not path.is_file():
        return None
    try:
        raw = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FeedpubError(
            f"cannot read the Jekyll config: {exc}",
            path="_config.yml", line=mark.line + 1 if mark else None,
            hint="fix _config.yml, or pass --title/--url/--author and remove it",
        ) from None
    if not isinstance(raw, dict):
        raise FeedpubError("must be a mapping of keys to values", path="_config.yml")
    site: dict[str, Any] = {}
    for key in ("title", "url", "baseurl", "description", "timezone", "lang"):
        if raw.get(key) not in (None, ""):
            site[key] = str(raw[key])
    author = raw.get("author")
    if isinstance(author, dict):
        if author.get("name"):
            site["author"] = str(author["name"])
        if author.get("email"):
            site["author_email"] = str(author["email"])
    elif author not in (None, ""):
        site["author"] = str(author)
    return site


def default_title(root: Path) -> str:
    """``my-new_blog`` -> ``My New Blog``: the title init uses when nobody can be asked."""
    words = re.split(r"[-_\s]+", root.resolve().name)
    return " ".join(w[:1].upper() + w[1:] for w in words if w) or "My Blog"


# ---- feedpub.toml --------------------------------------------------------------------

def _toml_str(value: str) -> str:
    # A JSON string (without \/ and with non-ASCII kept) is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def render_config(answers: SiteAnswers, *, jekyll: dict[str, Any] | None = None) -> str:
    """The text of feedpub.toml. With a Jekyll ``_config.yml`` only its missing site keys
    are written, since feedpub reads the rest from there."""
    jekyll = jekyll or {}
    site_keys = [
        ("title", answers.title),
        ("description", answers.description),
        ("url", answers.url),
        ("author", answers.author),
        ("author_email", answers.email),
        ("timezone", answers.timezone),
    ]
    lines = [
        "# feedpub configuration. Every key, its type and default: `feedpub config-reference`.",
    ]
    if jekyll:
        lines.append("# Site keys missing here are read from Jekyll's _config.yml.")
    lines.append("[site]")
    for key, value in site_keys:
        if key in jekyll or (not value and key not in ("title", "url")):
            continue
        lines.append(f"{key} = {_toml_str(value)}")
    host = re.sub(r"^[a-z]+://", "", answers.url).split("/")[0].split(":")[0] or "example.com"
    # formataddr quotes a display name with commas, quotes or brackets in it
    sender = formataddr((answers.title or jekyll.get("title") or "Newsletter", f"newsletter@{host}"))
    recipients = f"[{_toml_str(answers.email)}]" if answers.email else "[]"
    lines += [
        "",
        "[feeds]",
        "# feed.xml (Atom), rss.xml and feed.json in public/; the newest entries only.",
        "limit = 20",
        "# One feed per category, e.g. public/categories/python/feed.xml.",
        "categories = true",
        "",
        "[digest]",
        "# A first digest looks back this many days; later ones start where the last ended.",
        "window = 7",
        "max_posts = 10",
        "",
        "[send]",
        "# \"outbox\" writes each email as a .eml file into outbox/ so you can look first.",
        "# For real delivery: postmark, sendgrid, mailgun, resend, ses, brevo or smtp, with",
        "# the key in an environment variable (see the README's send section).",
        'provider = "outbox"',
        f"from = {_toml_str(sender)}",
        "# A few addresses, or a CSV file of subscribers: recipients = \"subscribers.csv\"",
        f"to = {recipients}",
        "",
    ]
    return "\n".join(lines)


# ---- posts ---------------------------------------------------------------------------

def jekyll_slug(title: str) -> str:
    """Jekyll's default slugify: every run of characters that are not letters, marks or
    decimal digits becomes one dash, trimmed, lower-cased (``"Hello, World!"`` ->
    ``"hello-world"``; letters of every script are kept)."""
    out: list[str] = []
    for ch in title:
        cat = unicodedata.category(ch)
        out.append(ch if cat[0] in "LM" or cat == "Nd" else "-")
    return re.sub("-+", "-", "".join(out)).strip("-").lower()


def format_post_date(value: datetime | date) -> str:
    """Jekyll's usual front-matter date: ``2024-07-18 08:20:00 -0600`` or ``2024-07-18``."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %z")
    return value.isoformat()


class _FrontMatterDumper(yaml.SafeDumper):
    """Block mappings with flow lists (``categories: [a, b]``), as Jekyll sites write them."""


_FrontMatterDumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def render_post(
    title: str,
    when: datetime | date,
    *,
    categories: list[str] | None = None,
    tags: list[str] | None = None,
    draft: bool = False,
    body: str = "",
) -> str:
    """A post file: YAML front matter (title, date, categories, tags, draft) and body."""
    # A bare date is written as a YAML date (unquoted); a datetime in Jekyll's string form.
    stamp: Any = format_post_date(when) if isinstance(when, datetime) else when
    meta: dict[str, Any] = {"layout": "post", "title": title, "date": stamp}
    if categories:
        meta["categories"] = list(categories)
    if tags:
        meta["tags"] = list(tags)
    if draft:
        meta["draft"] = True
    front = yaml.dump(meta, Dumper=_FrontMatterDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    return f"---\n{front}---\n\n{body or 'Write your post here, in Markdown.'}\n"


EXAMPLE_BODY = """\
This is an example post written by `feedpub init`. Edit it or delete it.

Everything before the first blank line is the excerpt: feeds and the email digest show
it with a *Read more* link.

Everything after it is the rest of the post. Posts are Markdown files in this folder,
named `YYYY-MM-DD-title.md`, with front matter between the `---` lines at the top.
Create the next one with:

```sh
feedpub new "My second post" --categories notes
```

Then run `feedpub build` to write the feeds into `public/`, and `feedpub serve` to look
at them in your browser."""


def post_filename(title: str, when: datetime | date, slug: str | None = None) -> str:
    slug = slug if slug is not None else jekyll_slug(title)
    if not slug:
        raise FeedpubError(
            f"the title {title!r} has no letters or digits to make a file name from",
            hint="give one with --slug, e.g. --slug my-post",
        )
    return f"{when.strftime('%Y-%m-%d')}-{slug}.md"


def create_post(posts_dir: Path, title: str, when: datetime | date, **kwargs: Any) -> Path:
    """Write a new post into ``posts_dir``; refuses to replace an existing file."""
    slug = kwargs.pop("slug", None)
    path = posts_dir / post_filename(title, when, slug)
    if path.exists():
        raise FeedpubError(
            "a post with this date and title already exists; nothing was written",
            path=str(path), hint="choose another title, --slug or --date",
        )
    posts_dir.mkdir(parents=True, exist_ok=True)
    # "x" mode: if another process creates it in between, fail rather than clobber.
    with open(path, "x", encoding="utf-8", newline="\n") as fh:
        fh.write(render_post(title, when, **kwargs))
    return path


# ---- CI recipes ----------------------------------------------------------------------

def ci_recipe(name: str) -> str:
    """The text of one recipe file from templates/ci (package data)."""
    return resources.files("feedpub").joinpath("templates", "ci", name).read_text("utf-8")


# ---- init ----------------------------------------------------------------------------

def plan_init(
    root: Path,
    answers: SiteAnswers,
    now: datetime,
    *,
    ci: str | None = None,
    force: bool = False,
) -> list[Planned]:
    """Every file init would write in ``root``; existing files are kept unless ``force``."""
    jekyll = read_jekyll_config(root)
    planned: list[tuple[Path, str]] = [(root / "feedpub.toml", render_config(answers, jekyll=jekyll))]

    posts_dir = root / ("_posts" if jekyll is not None else "posts")
    has_posts = posts_dir.is_dir() and any(p.suffix in (".md", ".markdown") for p in posts_dir.iterdir())
    if not has_posts:
        title = "Welcome to your feeds"
        planned.append((posts_dir / post_filename(title, now), render_post(title, now, categories=["notes"], body=EXAMPLE_BODY)))
    if ci:
        if ci not in CI_RECIPES:
            raise FeedpubError(f"unknown CI {ci!r}; choose one of {', '.join(CI_RECIPES)}")
        for recipe, target in CI_RECIPES[ci].items():
            planned.append((root / target, ci_recipe(recipe)))

    result = []
    for path, content in planned:
        if path.exists():
            if force:
                result.append(Planned(path, content, "overwrite"))
            else:
                result.append(Planned(path, content, "keep", "exists; --force replaces it"))
        else:
            result.append(Planned(path, content, "create"))
    ignore = plan_gitignore(root / ".gitignore")
    if ignore is not None:
        result.append(ignore)
    return result


# What a build, a local send and the caches leave in the site folder: none belongs in git.
# (CI commits the send journal on purpose, with `git add --force`.)
GITIGNORE = {
    "public/": "feeds and digests written by feedpub build / digest (CI builds them)",
    "outbox/": "test emails written by the outbox provider",
    ".feedpub/": "render cache, and the send journal of local test sends",
}


def plan_gitignore(path: Path) -> Planned | None:
    """Create .gitignore, or add the entries it lacks (never removes or reorders a line)."""
    try:
        existing = path.read_text("utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError):
        return None
    have = {line.strip().strip("/") for line in (existing or "").splitlines()}
    missing = [entry for entry in GITIGNORE if entry.strip("/") not in have]
    if not missing:
        return None
    lines = []
    for entry in missing:   # .gitignore has no end-of-line comments: each gets its own line
        lines += [f"# feedpub: {GITIGNORE[entry]}", entry]
    if existing is None:
        return Planned(path, "\n".join(lines) + "\n", "create")
    prefix = existing if existing.endswith("\n") or not existing else existing + "\n"
    return Planned(path, prefix + "\n" + "\n".join(lines) + "\n", "update", "added " + ", ".join(missing))


def write_plan(plan: list[Planned]) -> None:
    """Write the planned files (atomically, each on its own); kept files are untouched."""
    for item in plan:
        if item.action == "keep":
            continue
        item.path.parent.mkdir(parents=True, exist_ok=True)
        atomicio.write_text(item.path, item.content)
