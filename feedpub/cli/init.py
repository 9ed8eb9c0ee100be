"""feedpub init: scaffold feedpub.toml, an example post and (optionally) CI files."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from ..config import build_config
from ..errors import FeedpubError
from ..scaffold import CI_RECIPES, SiteAnswers, default_title, plan_init, read_jekyll_config, write_plan
from .common import get_ui, now_utc


def _absolute_url(value: str) -> str:
    """For the URL prompt: ask again (click shows this message) until it is absolute."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"expected an absolute URL like https://blog.example.com, got {value!r}")
    return value


def _ask(value: str | None, prompt: str, default: str, interactive: bool, check=None) -> tuple[str, bool]:  # noqa: ANN001
    """(value, defaulted): a flag wins; on a terminal ask; otherwise take the default."""
    if value is not None:
        return value, False
    if interactive:
        answer = click.prompt(prompt, default=default or None, show_default=bool(default), type=str,
                              err=True, value_proc=check)
        return answer.strip(), False
    return default, True


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="Site title (asked on a terminal; default: the folder name).")
@click.option("--url", help="Absolute URL of the site, e.g. https://blog.example.com (asked on a terminal).")
@click.option("--author", help="Default author name (asked on a terminal).")
@click.option("--email", help="Your email: the author's address and the first digest recipient.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone for dates without an offset.")
@click.option("--ci", type=click.Choice(sorted(CI_RECIPES)), help="Also write the CI recipe for this service.")
@click.option("--force", is_flag=True, help="Replace files that already exist.")
def command(directory: Path, title: str | None, url: str | None, author: str | None,
            email: str | None, timezone: str, ci: str | None, force: bool) -> None:
    """Create feedpub.toml, posts/ with an example post, .gitignore and CI files.

    Missing values are asked for on a terminal; in scripts give them as flags
    (feedpub init --title "My Blog" --url https://blog.example.com). Existing files are
    kept unless --force. In a Jekyll site (_config.yml) only what it lacks is written,
    and the example post goes into _posts/ unless it already has posts.
    """
    ui = get_ui()
    if email is not None and not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+", email):
        raise click.BadParameter(f"{email!r} is not an email address like you@example.com", param_hint="--email")
    root = directory
    if root.exists() and not root.is_dir():
        raise click.BadParameter(f"{root} is not a folder", param_hint="DIRECTORY")
    jekyll = read_jekyll_config(root) or {}
    interactive = sys.stdin.isatty()

    defaults_used = []
    answers = {}
    for key, prompt, default in (
        ("title", "Site title", default_title(root)),
        ("url", "Site URL", "https://example.com"),
        ("author", "Author name", ""),
    ):
        given = {"title": title, "url": url, "author": author}[key]
        if given is None and key in jekyll:
            answers[key] = jekyll[key]
            continue
        answers[key], defaulted = _ask(given, prompt, default, interactive, _absolute_url if key == "url" else None)
        if defaulted and default:
            defaults_used.append(f"{key} = {default!r}")

    site = SiteAnswers(title=answers["title"], url=answers["url"], author=answers["author"],
                       email=email or "", timezone=timezone)
    # Validate what was answered before writing anything (even the folder), with the
    # config's own rules: a ConfigError lists every bad value and exits 2.
    build_config({"site": {k: v for k, v in vars(site).items() if v and k != "email"}}, root=root, source="feedpub init")

    plan = plan_init(root, site, now_utc(), ci=ci, force=force)
    try:
        write_plan(plan)
    except OSError as exc:
        raise FeedpubError(f"cannot write: {exc}", path=str(getattr(exc, "filename", "") or root)) from None

    for item in plan:
        shown = _display(item.path)
        if item.action == "keep":
            ui.warn(f"kept {shown} ({item.why})")
        elif item.action == "update":
            ui.info(f"updated {shown} ({item.why})")
        else:
            ui.info(f"{'replaced' if item.action == 'overwrite' else 'created'} {shown}")
            ui.detail(f"  {len(item.content.encode('utf-8'))} bytes")
    if defaults_used and plan[0].action != "keep":
        ui.warn("no terminal to ask, so defaults were used: " + ", ".join(defaults_used)
                + "; edit feedpub.toml or pass --title/--url/--author")
    if any(item.action != "keep" for item in plan):
        where = "" if root.resolve() == Path.cwd().resolve() else f"cd {root} && "
        ui.info(f"next: {where}feedpub new \"My first post\", then feedpub build and feedpub serve")
    else:
        ui.info("nothing to do: every file exists (use --force to replace them)")


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
