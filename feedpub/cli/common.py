"""What every command shares: terminal output, --json, the config, error handling."""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import Config, load_config
from ..errors import ConfigError, FeedpubError, Problem

T = TypeVar("T")


class Ui:
    """Output for humans on stderr/stdout, respecting --quiet, --verbose and NO_COLOR."""

    def __init__(self, quiet: bool = False, verbose: int = 0) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.color = None if "NO_COLOR" not in os.environ else False

    def info(self, message: str) -> None:
        if not self.quiet:
            click.echo(message, color=self.color)

    def detail(self, message: str, level: int = 1) -> None:
        if self.verbose >= level and not self.quiet:
            click.echo(message, err=True, color=self.color)

    def warn(self, message: str) -> None:
        if not self.quiet:
            click.echo(click.style("warning: ", fg="yellow") + message, err=True, color=self.color)

    def error(self, message: str) -> None:
        click.echo(click.style("error: ", fg="red", bold=True) + message, err=True, color=self.color)

    def problems(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            if p.severity == "error":
                click.echo(str(p), err=True, color=self.color)
            elif not self.quiet and (p.severity == "warning" or self.verbose):
                click.echo(str(p), err=True, color=self.color)

    def json(self, data: Any) -> None:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))

    @contextmanager
    def progress(self, items: Iterable[T], *, length: int | None = None, label: str = "") -> Iterator[Iterable[T]]:
        """A progress bar on a terminal (stderr); nothing in CI, pipes or with --quiet."""
        if self.quiet or not sys.stderr.isatty() or os.environ.get("CI"):
            yield items
            return
        with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
            yield bar


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def get_ui() -> Ui:
    ctx = click.get_current_context()
    return ctx.find_object(Ui) or Ui()


def config_option(f):  # noqa: ANN001, ANN201 - click decorator
    return click.option(
        "-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
        help="Config file (default: feedpub.toml, [tool.feedpub] in pyproject.toml, or _config.yml).",
    )(f)


def load(config_path: Path | None) -> Config:
    """Load the config, printing its warnings (unknown keys) once."""
    config = load_config(config_path)
    ui = get_ui()
    for w in config.warnings:
        ui.warn(f"{w.location()}: {w.message}")
    return config


def now_utc() -> datetime:
    """The one place the CLI reads the clock; library code takes ``now`` as a parameter.

    ``FEEDPUB_NOW`` (ISO 8601) pins it, for reproducible runs and tests.
    """
    pinned = os.environ.get("FEEDPUB_NOW")
    if pinned:
        value = datetime.fromisoformat(pinned)
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def run_guarded(group: click.Group, argv: list[str]) -> int:
    """Run the CLI; turn feedpub errors into a message on stderr and an exit code."""
    try:
        result = group.main(args=argv, prog_name="feedpub", standalone_mode=False)
        if isinstance(result, int) and not isinstance(result, bool):
            # click (standalone_mode=False) returns an Exit's code instead of raising it,
            # so a command's CommandFailed(1) arrives here as a plain 1.
            return result
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except FeedpubError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    return 0


class CommandFailed(click.exceptions.Exit):
    """Raise from a command to exit with a code after it printed its own report."""

    def __init__(self, code: int = 1) -> None:
        super().__init__(code)
