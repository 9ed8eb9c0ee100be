"""feedpub new: start a post file with its front matter, named the way Jekyll names it."""
from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from pathlib import Path

import click

from ..config import find_config
from ..scaffold import create_post, jekyll_slug
from .common import config_option, get_ui, load, now_utc


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_date(value: str, tz: zoneinfo.ZoneInfo) -> datetime | date:
    """``2024-07-18`` stays a date; a time without an offset is in the site's time zone."""
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date; use 2024-07-18, 2024-07-18T08:20 or 2024-07-18T08:20:00-06:00",
            param_hint="--date",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


@click.command("new")
@click.argument("title")
@click.option("--date", "date_", metavar="ISO", help="Post date (default: now in the site's time zone), e.g. 2024-07-18 or 2024-07-18T08:20.")
@click.option("--categories", metavar="A,B", help="Comma-separated categories.")
@click.option("--tags", metavar="A,B", help="Comma-separated tags.")
@click.option("--draft", is_flag=True, help="Mark the post as a draft (draft: true): left out until built with --drafts.")
@click.option("--slug", help="File name slug (default: made from the title the way Jekyll does).")
@config_option
def command(title: str, date_: str | None, categories: str | None, tags: str | None,
            draft: bool, slug: str | None, config_path: Path | None) -> None:
    """Create posts/YYYY-MM-DD-slug.md with front matter and print its path.

    Never replaces an existing post. The posts folder and time zone come from the
    config ([paths] posts, [site] timezone); without a config, posts/ and UTC.
    """
    ui = get_ui()
    if config_path is not None or find_config(Path.cwd()) is not None:
        config = load(config_path)
        posts_dir, tz = config.posts_dir, config.tz
    else:
        posts_dir = Path("_posts") if Path("_posts").is_dir() and not Path("posts").is_dir() else Path("posts")
        tz = zoneinfo.ZoneInfo("UTC")
        ui.warn("no feedpub.toml here (run 'feedpub init'); using posts/ and UTC")
    when = parse_date(date_, tz) if date_ else now_utc().astimezone(tz).replace(microsecond=0)
    path = create_post(posts_dir, title, when, categories=_split(categories), tags=_split(tags), draft=draft,
                       slug=jekyll_slug(slug) if slug is not None else None)
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = path
    # The path goes to stdout even with --quiet: scripts use it ($EDITOR "$(feedpub new ...)").
    click.echo(str(shown))
