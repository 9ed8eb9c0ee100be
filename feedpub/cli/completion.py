"""feedpub completion: print the shell completion script (click's own)."""
from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_FEEDPUB_COMPLETE"


@click.command("completion")
@click.argument("shell", required=False, type=click.Choice(SHELLS))
@click.pass_context
def command(ctx: click.Context, shell: str | None) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    bash:  eval "$(feedpub completion bash)"            (in ~/.bashrc)
    zsh:   eval "$(feedpub completion zsh)"             (in ~/.zshrc)
    fish:  feedpub completion fish > ~/.config/fish/completions/feedpub.fish

    Without SHELL, the shell named by $SHELL. The same script comes from
    _FEEDPUB_COMPLETE=bash_source feedpub (or zsh_source, fish_source).
    """
    if shell is None:
        shell = Path(os.environ.get("SHELL", "")).name
        if shell not in SHELLS:
            raise click.UsageError(f"cannot tell the shell from $SHELL={os.environ.get('SHELL', '')!r}; name one of {', '.join(SHELLS)}")
    root = ctx.find_root().command
    cls = get_completion_class(shell)
    assert cls is not None  # SHELLS are click's built-in shells
    click.echo(cls(root, {}, "feedpub", COMPLETE_VAR).source(), nl=False)
