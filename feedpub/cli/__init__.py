"""The command line: the only code that knows about argv, exit codes and the terminal.

Each command lives in its own module in this package and exposes a click command named
``command``; they are discovered here, so adding a command touches one new file.

Exit codes: 0 success; 1 a post, build, digest or send failed (or ``check`` found
problems); 2 bad usage or bad configuration; 3 the send journal needs a decision
(--resume-unknown / --skip-unknown) or is locked; 130 interrupted.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from .. import __version__
from .common import Ui, run_guarded

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="feedpub")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", count=True, help="Print more detail (repeat for more).")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Publish a blog's Markdown posts as feeds and as an email newsletter.

    Run 'feedpub COMMAND --help' for the options of one command.
    """
    ctx.obj = Ui(quiet=quiet, verbose=verbose)


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    return run_guarded(cli, argv if argv is not None else sys.argv[1:])
