"""feedpub build: write the feeds (and the sent digests' web copies) into the output folder."""
from __future__ import annotations

import os
from pathlib import Path

import click

from ..build import BuildReport, build, problem_dict
from ..errors import BuildError
from .common import CommandFailed, config_option, get_ui, load, now_utc


@click.command("build")
@config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: [paths] out, public/).")
@click.option("--future", is_flag=True, default=None, help="Publish posts dated in the future.")
@click.option("--drafts", is_flag=True, default=None, help="Publish drafts (draft: true).")
@click.option("--keep-going", is_flag=True,
              help="Publish the good posts when some have errors (still exits 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
def command(config_path: Path | None, out_dir: Path | None, future: bool | None, drafts: bool | None,
            keep_going: bool, as_json: bool) -> None:
    """Build the Atom, RSS and JSON feeds of the blog.

    A post with an error fails the build and nothing is written; the error names the
    file and line. With --keep-going the good posts are published and the exit code is
    still 1. Files whose bytes did not change are not rewritten.
    """
    ui = get_ui()
    config = load(config_path)
    try:
        report = build(config, now_utc(), out_dir=out_dir, future=future or None,
                       drafts=drafts or None, keep_going=keep_going)
    except BuildError as exc:
        if as_json:
            ui.json({"ok": False, "error": exc.message, "problems": [problem_dict(p) for p in exc.problems],
                     "outputs": []})
            raise CommandFailed(1) from None
        ui.problems(exc.problems)
        raise
    ui.problems(report.problems)
    if as_json:
        ui.json(report.as_dict(relative_to=Path.cwd()))
    else:
        _print(report, ui)
    if not report.ok:
        if not as_json:
            ui.error(f"{len(report.errors)} post(s) have errors and were left out")
        raise CommandFailed(1)


FEEDS = ("atom", "rss", "json")


def _print(report: BuildReport, ui) -> None:  # noqa: ANN001
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    ui.info(f"read {report.posts} post(s){skipped}")
    for rel, reason in report.skipped:
        ui.detail(f"  skipped {rel}: {reason}")
    changed = sum(1 for o in report.outputs if o.changed)
    for o in report.outputs:
        if o.changed or ui.verbose:
            what = f"{o.kind}, {o.entries} entr{'y' if o.entries == 1 else 'ies'}" if o.kind in FEEDS else o.kind
            label = f", {o.label}" if o.label else ""
            ui.info(f"{'wrote' if o.changed else 'unchanged'} {_rel(o.path)} ({what}{label})")
    unchanged = len(report.outputs) - changed
    ui.info(f"{changed} file(s) written, {unchanged} unchanged")


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
