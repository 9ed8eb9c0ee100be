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


class _LazyGroup(click.Group):
    """Imports a command's module when that command runs, and every module only when
    something asks for all of them (help, completion, ``cli.commands``).

    The command modules import what their command needs (httpx for send and ping,
    Jinja2 and css-inline for the digest): importing them all made every
    ``feedpub build`` pay ~0.15 s for libraries it never calls.
    """

    _all_loaded = True   # _register() sets it False once the module names are known

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        if not self._all_loaded:
            self._all_loaded = True
            for module in _MODULES:
                _load(module)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = value

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _accept_output_flags(cmd)
        self._commands[name or cmd.name] = cmd  # type: ignore[index]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self._commands.get(cmd_name)
        if command is None and not self._all_loaded:
            module = cmd_name.replace("-", "_")
            if module in _MODULES:
                _load(module)
                command = self._commands.get(cmd_name)
        return command if command is not None else self.commands.get(cmd_name)


_MODULES: list[str] = []


def _accept_output_flags(cmd: click.Command) -> None:
    """Let ``feedpub build -q`` mean ``feedpub -q build``, as users of other tools expect.

    The flags update the group's ``Ui`` (set before a subcommand parses its options).
    """
    names = {p.name for p in cmd.params}

    def quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(Ui).quiet = True

    def verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
        if value:
            ctx.ensure_object(Ui).verbose += value

    if "quiet" not in names:
        cmd.params.append(click.Option(["-q", "--quiet"], is_flag=True, expose_value=False,
                                       callback=quiet, help="Print errors only."))
    if "verbose" not in names:
        cmd.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False,
                                       callback=verbose, help="Print more detail (repeat for more)."))


def _load(module_name: str) -> None:
    module = importlib.import_module(f"{__name__}.{module_name}")
    command = getattr(module, "command", None)
    if isinstance(command, click.Command):
        cli.add_command(command)


@click.group(cls=_LazyGroup, context_settings=CONTEXT_SETTINGS)
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
    """Find the command modules (each named like its command, ``-`` as ``_``); load lazily."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        _MODULES.append(info.name)
    cli._all_loaded = False  # type: ignore[attr-defined]


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    return run_guarded(cli, argv if argv is not None else sys.argv[1:])
