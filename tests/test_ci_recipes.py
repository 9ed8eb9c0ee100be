"""The CI recipes in docs/ci: they parse, name only real feedpub commands and flags, and
the GitHub and GitLab files validate against the published schemas (check-jsonschema's
builtin copies, so no network).

``FEEDPUB_REGEN_DOCS=1`` copies templates/ci (what ``init --ci`` writes) over docs/ci.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from feedpub.cli import cli
from feedpub.scaffold import CI_RECIPES

from conftest import REPO

DOCS = REPO / "docs" / "ci"
TEMPLATES = REPO / "templates" / "ci"
RECIPES = sorted(name for files in CI_RECIPES.values() for name in files)
SCHEMAS = {
    "github-pages.yml": "vendor.github-workflows",
    "github-digest.yml": "vendor.github-workflows",
    "gitlab-ci.yml": "vendor.gitlab-ci",
}
# What each recipe must run, at least: a recipe that stopped building or sending fails here.
MUST_RUN = {
    "github-pages.yml": {"check", "build", "ping"},
    "github-digest.yml": {"digest", "send"},
    "gitlab-ci.yml": {"check", "build", "digest", "send", "ping"},
    "bitrise.yml": {"check", "build", "digest", "send", "ping"},
}
CONTROL = {"&&", "||", ";", "|", "(", ")", "&", ";;", "|&"}


def test_docs_ci_is_what_init_writes():
    if os.environ.get("FEEDPUB_REGEN_DOCS") == "1":
        for name in RECIPES:
            shutil.copyfile(TEMPLATES / name, DOCS / name)
    for name in RECIPES:
        assert (DOCS / name).read_text("utf-8") == (TEMPLATES / name).read_text("utf-8"), (
            f"docs/ci/{name} differs from templates/ci/{name}; edit templates/ci and run "
            "FEEDPUB_REGEN_DOCS=1 pytest tests/test_ci_recipes.py"
        )
    assert sorted(p.name for p in TEMPLATES.glob("*.yml")) == RECIPES


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def feedpub_commands(text: str) -> list[list[str]]:
    """Every ``feedpub ...`` invocation in shell text, as argv without the program name."""
    found = []
    for line in text.splitlines():
        if "feedpub " not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:
            continue  # a line of a multi-line shell construct; none of ours call feedpub that way
        segment: list[str] = []
        for tok in tokens + [";"]:
            if tok in CONTROL:
                if segment and segment[0] == "feedpub":
                    found.append(segment[1:])
                segment = []
            else:
                segment.append(tok)
        # redirections: drop ">" / ">>" / "2>" and the file after them
    return [_strip_redirects(args) for args in found]


def _strip_redirects(args: list[str]) -> list[str]:
    out, skip = [], False
    for tok in args:
        if skip:
            skip = False
            continue
        if tok in (">", ">>", "<", "2>", "2>&1", "&>") or tok.endswith(">"):
            skip = tok != "2>&1"
            continue
        out.append(tok)
    return out


def check_command(args: list[str]) -> str | None:
    """None if ``feedpub ARGS`` names a real command with real flags and valid values (as
    click parses them, without running anything), else click's complaint."""
    import click

    try:
        with cli.make_context("feedpub", list(args)) as ctx:
            rest = [*(getattr(ctx, "_protected_args", None) or []), *ctx.args]
            if not rest:
                return f"no feedpub command in {args!r}"
            name, command, rest = cli.resolve_command(ctx, rest)
            with command.make_context(name, rest, parent=ctx):
                return None
    except click.ClickException as exc:
        return exc.format_message()
    except click.exceptions.Exit as exc:  # --help/--version: not a command line a recipe runs
        return f"exits early ({exc.exit_code})"


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_parses_and_runs_only_real_commands(name):
    data = yaml.safe_load((DOCS / name).read_text("utf-8"))
    assert isinstance(data, dict)
    commands = [cmd for s in _strings(data) for cmd in feedpub_commands(s)]
    named = {c[0] for c in commands if c}
    assert MUST_RUN[name] <= named, f"{name} runs {sorted(named)}, expected at least {sorted(MUST_RUN[name])}"
    for args in commands:
        problem = check_command(args)
        assert problem is None, f"{name}: 'feedpub {shlex.join(args)}' is not a valid command line:\n{problem}"


def test_command_checker_catches_bad_commands_and_flags():
    assert check_command(["init", "--ci", "github"]) is None
    assert check_command(["init", "--no-such-flag"]) is not None
    assert check_command(["no-such-command"]) is not None
    assert check_command(["init", "--ci", "jenkins"]) is not None
    assert check_command([]) is not None
    assert feedpub_commands('feedpub check --format json > out.json || (cat out.json; exit 1)') == [["check", "--format", "json"]]
    assert feedpub_commands("pip install feedpub && feedpub build  # comment") == [["build"]]


def _check_jsonschema() -> str:
    exe = Path(sys.executable).with_name("check-jsonschema")
    if exe.exists():
        return str(exe)
    found = shutil.which("check-jsonschema")
    if not found:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return found


def _validate(path: Path, schema: str) -> subprocess.CompletedProcess:
    return subprocess.run([_check_jsonschema(), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_recipe_validates_against_the_published_schema(name):
    proc = _validate(DOCS / name, SCHEMAS[name])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name, breakage", [
    ("github-digest.yml", lambda d: d["jobs"]["digest"].pop("runs-on")),
    ("github-pages.yml", lambda d: d["jobs"]["deploy"]["concurrency"].update({"cancel-in-progress": "sometimes"})),
    ("gitlab-ci.yml", lambda d: d["digest"].update({"when": "every-tuesday"})),
])
def test_schema_check_rejects_a_broken_recipe(tmp_path, name, breakage):
    data = yaml.safe_load((DOCS / name).read_text("utf-8"))
    breakage(data)
    broken = tmp_path / name
    broken.write_text(yaml.safe_dump(data), "utf-8")
    assert _validate(broken, SCHEMAS[name]).returncode != 0


def test_digest_workflow_never_cancels_a_send_and_keeps_the_journal():
    wf = yaml.safe_load((DOCS / "github-digest.yml").read_text("utf-8"))
    assert wf["concurrency"]["cancel-in-progress"] is False
    assert wf[True]["schedule"][0]["cron"]            # PyYAML reads `on:` as True
    steps = wf["jobs"]["digest"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/cache/restore@") for u in uses)
    assert any(u.startswith("actions/cache/save@") for u in uses)
    commit = next(s for s in steps if s.get("name") == "Commit the send journal")
    assert "git push" in commit["run"] and commit["if"].startswith("always()")
    send = next(s for s in steps if "feedpub send" in s.get("run", ""))
    assert all(v.startswith("${{ secrets.") for v in send["env"].values())
    gitlab = yaml.safe_load((DOCS / "gitlab-ci.yml").read_text("utf-8"))
    assert gitlab["digest"]["resource_group"] and gitlab["digest"]["interruptible"] is False
    assert gitlab["pages"]["artifacts"]["paths"] == ["public"]


def test_bitrise_workflows_chain_to_real_workflows_and_steps():
    data = yaml.safe_load((DOCS / "bitrise.yml").read_text("utf-8"))
    assert data["format_version"] and data["default_step_lib_source"].startswith("https://")
    workflows = data["workflows"]
    assert {"feeds", "digest"} <= set(workflows)
    for name, flow in workflows.items():
        for ref in flow.get("before_run", []) + flow.get("after_run", []):
            assert ref in workflows, f"{name} runs unknown workflow {ref}"
        for step in flow.get("steps", []):
            (step_id, options), = step.items()
            assert re.fullmatch(r"[a-z0-9-]+@\d+", step_id), step_id
            if step_id.startswith("script@"):
                content = next(i["content"] for i in options["inputs"] if "content" in i)
                assert content.startswith("#!/usr/bin/env bash\nset -euo pipefail\n")
    # the digest workflow rebuilds the site afterwards (the digest's web copy)
    assert workflows["digest"]["after_run"] == ["_publish"]


def test_digest_workflow_starts_the_pages_workflow_by_the_name_init_gives_it():
    wf = yaml.safe_load((DOCS / "github-digest.yml").read_text("utf-8"))
    run = next(s["run"] for s in wf["jobs"]["digest"]["steps"] if "gh workflow run" in s.get("run", ""))
    started = shlex.split(run)[3]
    assert started == Path(CI_RECIPES["github"]["github-pages.yml"]).name
    pages = yaml.safe_load((DOCS / "github-pages.yml").read_text("utf-8"))
    assert "workflow_dispatch" in pages[True]       # `gh workflow run` needs it
    assert wf["permissions"]["actions"] == "write"
