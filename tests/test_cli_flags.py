"""--quiet and --verbose work before or after the command name, for every command."""
from __future__ import annotations

import os

import pytest

from feedpub.cli import cli, main

POST = "---\ntitle: Hello\ndate: 2024-01-02 10:00:00 +00:00\n---\nBody.\n"


@pytest.fixture
def site(make_site, monkeypatch):
    root = make_site({"posts/2024-01-02-hello.md": POST})
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("argv", [["-q", "build"], ["build", "-q"], ["build", "--quiet"]])
def test_quiet_anywhere_prints_nothing(site, capsys, argv) -> None:
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert (site / "public" / "feed.xml").is_file()


def test_quiet_still_reports_errors_on_stderr(site, capsys) -> None:
    (site / "posts" / "2024-01-03-bad.md").write_text("---\ndate: nope\n---\n", "utf-8")
    assert main(["build", "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "posts/2024-01-03-bad.md:2" in err


def test_verbose_after_the_command_name_adds_detail(site, capsys) -> None:
    main(["build"])
    capsys.readouterr()
    assert main(["build"]) == 0
    plain = capsys.readouterr()
    assert main(["build", "-v"]) == 0
    verbose = capsys.readouterr()
    assert "unchanged" in verbose.out + verbose.err
    assert len(verbose.out + verbose.err) > len(plain.out + plain.err)


def test_every_command_accepts_the_output_flags() -> None:
    for name, command in cli.commands.items():
        opts = {o for p in command.params for o in getattr(p, "opts", [])}
        if hasattr(command, "commands"):
            continue  # a nested group: its own subcommands are covered when registered
        assert {"-q", "--quiet", "-v", "--verbose"} <= opts, name
