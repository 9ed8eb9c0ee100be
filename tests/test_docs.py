"""The README documents every command and config key, generated from the code.

``FEEDPUB_REGEN_DOCS=1 pytest tests/test_docs.py`` rewrites the README's reference
section; without it a drift fails with the command to run.
"""
from __future__ import annotations

import os
import re

import click
import pytest

from feedpub.cli import cli
from feedpub.cli.config_reference import markdown, reference_markdown
from feedpub.config import reference_rows

from conftest import REPO

README = REPO / "README.md"
COMMANDS = sorted(cli.commands)


def section(text: str, name: str) -> str:
    match = re.search(rf"<!-- section: {name} -->\n(.*?)<!-- /section: {name} -->", text, re.S)
    assert match, f"README.md has no section {name!r}"
    return match.group(1)


def test_readme_reference_is_generated_from_the_code():
    text = README.read_text("utf-8")
    current = section(text, "reference")
    expected = reference_markdown()
    if os.environ.get("FEEDPUB_REGEN_DOCS") == "1" and current != expected:
        start = f"<!-- section: reference -->\n"
        text = text.replace(start + current, start + expected, 1)
        README.write_text(text, "utf-8")
        current = expected
    assert current == expected, (
        "the README's reference section is out of date with the code; run "
        "FEEDPUB_REGEN_DOCS=1 .venv/bin/python -m pytest tests/test_docs.py"
    )


def test_every_config_key_is_in_the_readme():
    text = section(README.read_text("utf-8"), "reference")
    for key, *_ in reference_rows():
        assert f"| `{key}` |" in text, key
    assert markdown() in text


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(name):
    command = cli.commands[name]
    assert (command.help or "").strip(), f"feedpub {name} has no --help text"
    assert command.get_short_help_str().strip()
    ctx = click.Context(command, info_name=name)
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and "--help" not in param.opts:
            assert (param.help or "").strip(), f"feedpub {name} {param.opts[0]} has no help"
    readme = README.read_text("utf-8")
    assert f"#### `feedpub {name}`" in readme, f"feedpub {name} is not in the README's reference"


def test_help_runs_for_every_command():
    from click.testing import CliRunner

    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: feedpub {name}" in result.output or f"Usage: cli {name}" in result.output


def test_readme_sections_are_each_there_once():
    text = README.read_text("utf-8")
    for name in ("quickstart", "ci", "reference"):
        assert text.count(f"<!-- section: {name} -->") == 1
        assert text.count(f"<!-- /section: {name} -->") == 1
        assert section(text, name).strip(), f"the README's {name} section is empty"


def test_readme_links_to_every_ci_recipe():
    text = section(README.read_text("utf-8"), "ci")
    for recipe in (REPO / "docs" / "ci").glob("*.yml"):
        assert f"docs/ci/{recipe.name}" in text
