"""feedpub serve: build, serve public/ on 127.0.0.1, rebuild when the inputs change."""
from __future__ import annotations

import errno
import ipaddress
from pathlib import Path

import click

from ..errors import FeedpubError
from .common import config_option, get_ui, load, now_utc


@click.command("serve")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep the default unless you mean to share the preview.")
@click.option("--interval", default=0.5, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between checks for changed posts, templates and config.")
@click.option("--drafts", is_flag=True, help="Also publish drafts (draft: true) in the preview (run feedpub build before deploying public/ by hand).")
@click.option("--future", is_flag=True, help="Also publish posts dated in the future in the preview.")
@config_option
def command(port: int, host: str, interval: float, drafts: bool, future: bool, config_path: Path | None) -> None:
    """Build, serve the output folder and rebuild when a post, template or the config changes.

    The start page links every feed (with the right media types), each category feed
    and a preview of the next digest email with its plain-text part beside it. A build
    that fails keeps serving the last good files and shows the error on that page.
    Ctrl-C stops it.
    """
    # imported here, not for --help or shell completion
    from ..preview import Preview, Watcher, build_with, default_build
    from ..serve import make_server

    ui = get_ui()
    load(config_path)  # fail early, with every config problem, before listening
    build = build_with(drafts=drafts or None, future=future or None) if drafts or future else default_build
    preview = Preview(config_path, now_utc, build=build, log=ui.info)
    state = preview.rebuild()
    if state.error:
        ui.warn("the first build failed; fix it and the preview rebuilds (details on the start page)")
    try:
        server = make_server(preview, host, port, log=lambda m: ui.detail(m))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise FeedpubError(f"port {port} on {host} is in use", hint=f"choose another: feedpub serve --port {port + 1}") from None
        raise FeedpubError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if not _loopback(host):
        ui.warn(f"listening on {host}: other machines can see this preview")
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    # Always printed (even with --quiet): it is the one thing the user needs from this command.
    click.echo(f"Serving {preview.state.out_dir} at http://{shown}:{bound_port}/  (Ctrl-C to stop)", err=False)
    watcher = Watcher(preview, interval)
    watcher.start()
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        ui.info("stopped")
    finally:
        watcher.stop()
        server.server_close()


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
