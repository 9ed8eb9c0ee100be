"""feedpub digest: render the newsletter digest into digest.html, digest.txt and digest.eml."""
from __future__ import annotations

import dataclasses
import webbrowser
from pathlib import Path

import click

from .. import atomicio
from ..digest import fill_unsubscribe, to_mime
from ..digest.compose import compose
from ..digest.render import preview_unsubscribe_url, size_warning
from ..digest.select import parse_since
from ..errors import DigestError
from .common import config_option, get_ui, load, now_utc

PREVIEW_FROM = "newsletter@example.invalid"


@click.command("digest")
@config_option
@click.option("--since", "since_text", metavar="DATE",
              help="Posts published on or after DATE (2024-07-18, or ISO 8601 with a time).")
@click.option("--last", type=click.IntRange(min=1), metavar="N", help="The newest N posts.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for digest.html, digest.txt, digest.eml (default: [digest] out, public/digest).")
@click.option("--open", "open_browser", is_flag=True, help="Open digest.html in your web browser.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(config_path: Path | None, since_text: str | None, last: int | None,
            out_dir: Path | None, open_browser: bool, as_json: bool) -> None:
    """Render the digest of the posts since the last one that was sent.

    Without --since or --last it takes the posts newer than the last digest recorded in
    the send journal; when nothing was sent yet, the posts of the last [digest] window
    days. With nothing new it says so, writes nothing and exits 0.
    """
    if since_text and last:
        raise click.UsageError("use --since or --last, not both")
    ui = get_ui()
    config = load(config_path)
    now = now_utc()
    since = parse_since(since_text, config.tz) if since_text else None
    result = compose(config, now, since=since, last=last)
    ui.problems(result.site.problems)
    if result.site.errors:
        raise DigestError(f"{len(result.site.errors)} post(s) have errors; no digest written",
                          hint="fix the posts named above: a digest must not silently leave a post out")
    digest, email, last_sent = result.digest, result.email, result.last_sent
    if digest is None or email is None:
        message = "nothing new: no posts " + (
            f"since {since_text}" if since_text else
            f"since the last digest ({last_sent:%Y-%m-%d})" if last_sent else
            f"in the last {config.digest.window} days (no digest was sent yet; try --last N or --since DATE)"
        ) + "; no digest written"
        if as_json:
            ui.json({"digest": None, "message": message})
        else:
            ui.info(message)
        return

    if not email.from_addr:
        ui.warn(f"[send] from is not set; digest.eml uses {PREVIEW_FROM} until you set it")
        email = dataclasses.replace(email, from_addr=f"{config.site.title} <{PREVIEW_FROM}>")
    # The preview files are addressed like the first configured recipient's copy.
    first = config.send.to[0] if config.send.to else "subscriber@example.com"
    unsubscribe = preview_unsubscribe_url(config, first)
    preview = fill_unsubscribe(email, unsubscribe) if unsubscribe else email
    message = to_mime(preview, to=", ".join(config.send.to))
    out = out_dir if out_dir is not None else config.path(config.digest.out)
    paths = {"html": out / "digest.html", "text": out / "digest.txt", "eml": out / "digest.eml"}
    atomicio.write_text(paths["html"], preview.html)
    atomicio.write_text(paths["text"], preview.text)
    atomicio.write_bytes(paths["eml"], message.as_bytes())
    size = len(preview.html.encode("utf-8"))
    warning = size_warning(preview.html)
    if warning:
        ui.warn(warning)
    if as_json:
        ui.json({
            "digest": {
                "id": email.digest_id, "subject": email.subject, "reason": digest.reason,
                "posts": len(digest.posts), "more": len(digest.more),
                "post_ids": list(email.post_ids), "html_bytes": size,
                "paths": {k: str(v) for k, v in paths.items()}, "warnings": [warning] if warning else [],
            }
        })
    else:
        count = str(digest.count)
        if digest.more:
            count += f" ({len(digest.posts)} shown, {len(digest.more)} under More posts)"
        ui.info(f"Subject: {email.subject}")
        ui.info(f"Posts:   {count}, chosen as {digest.reason}")
        ui.info(f"Size:    {size / 1024:.1f} KB HTML")
        for path in paths.values():
            ui.info(f"Wrote    {path}")
    if open_browser:
        webbrowser.open(paths["html"].resolve().as_uri())
