"""feedpub snippet: the <link rel="alternate"> autodiscovery tags for the site's <head>."""
from __future__ import annotations

import html
from pathlib import Path

import click

from .common import config_option, get_ui, load, now_utc

MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}


def link_tags(config, now, *, main_only: bool = False) -> list[str]:  # noqa: ANN001
    """One tag per feed file ``feedpub build`` writes, titled as the feed itself is.

    The feeds come from ``feeds.selection.select_feeds`` (the build's own choice) and the
    titles and URLs from ``feeds.feed_doc``, so the tags always match the files."""
    # imported here: `feedpub --help` and shell completion should not load the feed stack
    from ..feeds import feed_doc
    from ..feeds.selection import select_feeds
    from ..posts import scan

    site = scan(config, now)
    tags = []
    for spec in select_feeds(site):
        if main_only and spec.kind != "main":
            continue
        doc = feed_doc(spec, (), config)
        for fmt in ("atom", "rss", "json"):
            if fmt in doc.urls:
                tags.append(
                    f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
                    f'title="{html.escape(doc.title, quote=True)}" href="{html.escape(doc.urls[fmt], quote=True)}">'
                )
    return tags


@click.command("snippet")
@click.option("--main-only", is_flag=True, help="Only the site-wide feeds, not the category and tag feeds.")
@config_option
def command(main_only: bool, config_path: Path | None) -> None:
    """Print the <link rel="alternate"> tags that let browsers and readers find the feeds.

    Paste them into your pages' <head>: one per feed file, category and tag feeds
    included with their own titles, with absolute URLs from [site] url and baseurl.
    """
    config = load(config_path)
    tags = link_tags(config, now_utc(), main_only=main_only)
    get_ui().detail(f"{len(tags)} feed(s)")
    click.echo("\n".join(tags))
