"""feedpub unsubscribe: add addresses to the local suppression list, or check a one-click URL."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from ..send.recipients import is_valid_email
from ..send.suppress import SuppressionList, read_import
from .common import CommandFailed, config_option, get_ui, load, now_utc

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


@click.command("unsubscribe")
@config_option
@click.argument("address", required=False)
@click.option("--reason", default="", help="Why (kept in the list beside the date), e.g. 'asked by email'.")
@click.option("--import", "import_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Add every address in FILE: a CSV with an 'email' column, or one address per line.")
@click.option("--verify", "verify_url", metavar="URL",
              help="Check that URL accepts an RFC 8058 one-click unsubscribe POST; changes no list.")
@click.option("--insecure", is_flag=True, help="With --verify: accept an http:// URL (a local test endpoint).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(config_path: Path | None, address: str | None, reason: str, import_file: Path | None,
            verify_url: str | None, insecure: bool, as_json: bool) -> None:
    """Never send the digest to ADDRESS again (the [send] suppress list).

    Matching ignores case and takes the whole address. The list is a CSV
    (email,reason,date) created on first use and edited atomically, so it can be
    committed and changed by hand. Addresses your provider suppressed (bounces,
    complaints) are fetched by `feedpub send` itself.
    """
    chosen = [x for x in (address, import_file, verify_url) if x]
    if len(chosen) != 1:
        raise click.UsageError("give one of: ADDRESS, --import FILE, --verify URL")
    if verify_url:
        _verify(verify_url, insecure=insecure, as_json=as_json)
        return
    ui = get_ui()
    config = load(config_path)
    if not config.send.suppress:
        raise click.UsageError('no suppression list is configured: set [send] suppress = "unsubscribed.csv" in the config')
    path = config.path(config.send.suppress)
    today = now_utc().astimezone(config.tz).date()
    suppressions = SuppressionList(path)
    if address:
        if not is_valid_email(address.strip()):
            raise click.BadParameter(f"'{address}' is not a valid email address", param_hint="ADDRESS")
        result = suppressions.add([(address, reason)], today=today)
    else:
        entries, invalid = [], []
        for line, found, text in read_import(import_file):  # type: ignore[arg-type]
            if found is None:
                invalid.append((line, text))
            else:
                entries.append((found, reason or f"imported from {import_file.name}"))  # type: ignore[union-attr]
        result = suppressions.add(entries, today=today)
        result.invalid.extend(invalid)
    if as_json:
        ui.json({"list": str(path), "added": result.added, "already": result.already,
                 "invalid": [{"line": line, "text": text} for line, text in result.invalid]})
        return
    for line, text in result.invalid:
        where = f"{import_file}:{line}: " if import_file and line else ""
        ui.warn(f"{where}{text}; skipped")
    if address:
        if result.added:
            ui.info(f"{address} will not receive the digest again ({path})")
        else:
            ui.info(f"{address} was already on the suppression list ({path})")
        return
    ui.info(f"added {len(result.added)} address(es) to {path}; {len(result.already)} already there; "
            f"{len(result.invalid)} invalid skipped")


def _verify(url: str, *, insecure: bool, as_json: bool) -> None:
    """POST ``List-Unsubscribe=One-Click`` the way a mailbox provider does (RFC 8058)."""
    import httpx

    ui = get_ui()
    problems: list[str] = []
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("https", "http"):
        raise click.BadParameter("give an http(s) URL", param_hint="--verify")
    if scheme != "https" and not insecure:
        problems.append("RFC 8058 requires an https:// URL; mail clients ignore other one-click links (--insecure to test a local endpoint)")
    status: int | None = None
    if not problems:
        try:
            with httpx.Client(timeout=10.0, follow_redirects=False) as client:
                response = client.post(
                    url, content=ONE_CLICK_BODY.encode("ascii"),
                    headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "feedpub unsubscribe --verify"},
                )
            status = response.status_code
            if 300 <= status < 400:
                problems.append(f"answered HTTP {status} (a redirect to {response.headers.get('location', '?')}); "
                                "mail clients do not follow redirects for one-click unsubscribes")
            elif not 200 <= status < 300:
                problems.append(f"answered HTTP {status}; a one-click POST must succeed with 2xx, without cookies or a login")
        except httpx.HTTPError as exc:
            problems.append(f"no usable answer: {type(exc).__name__}: {exc}")
    if as_json:
        ui.json({"url": url, "ok": not problems, "status": status, "problems": problems})
    elif problems:
        for p in problems:
            ui.error(p)
    else:
        ui.info(f"ok: {url} accepted a one-click unsubscribe POST (HTTP {status})")
    if problems:
        raise CommandFailed(1)
