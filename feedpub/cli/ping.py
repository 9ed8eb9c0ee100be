"""feedpub ping: tell the WebSub hub that the feeds changed."""
from __future__ import annotations

from pathlib import Path

import click

from ..feeds import url
from ..feeds.selection import select_feeds
from ..feeds.websub import publish
from .common import CommandFailed, config_option, get_ui, load, now_utc


@click.command("ping")
@config_option
@click.option("--hub", metavar="URL", help="Hub to ping (default: [feeds] hub).")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Retries per feed on 429, 5xx and network errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(config_path: Path | None, hub: str | None, retries: int, as_json: bool) -> None:
    """Tell the WebSub hub that the feeds changed (hub.mode=publish), after 'feedpub build'.

    Pings the hub once for the main feed and every category and tag feed, in every
    format; subscribers of the hub then get the new posts in real time. Exits 1 when the
    hub did not accept every ping.
    """
    from ..posts import scan

    ui = get_ui()
    config = load(config_path)
    hub = hub or config.feeds.hub
    if not hub:
        raise click.UsageError("no hub: set [feeds] hub = \"https://…\" in the config, or pass --hub URL")
    if not hub.startswith(("http://", "https://")):
        raise click.UsageError(f"--hub must be an http(s) URL, got {hub!r}")
    site = scan(config, now_utc())
    urls = [url(config, path) for spec in select_feeds(site) if spec.kind != "archive"
            for path in spec.paths.values()]
    results = publish(hub, urls, retries=retries)
    if as_json:
        ui.json({"hub": hub, "results": [
            {"url": r.url, "ok": r.ok, "status": r.status, "attempts": r.attempts, "error": r.error}
            for r in results]})
    else:
        for r in results:
            if r.ok:
                ui.info(f"pinged {hub} for {r.url} ({r.status})")
            else:
                ui.error(f"{hub} did not accept {r.url} after {r.attempts} attempt(s): {r.error}")
        ok = sum(r.ok for r in results)
        ui.info(f"{ok} of {len(results)} feed(s) announced to {hub}")
    if not all(r.ok for r in results):
        raise CommandFailed(1)
