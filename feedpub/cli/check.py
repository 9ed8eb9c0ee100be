"""feedpub check: validate the config and every post (scan + render), write nothing."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..build import problem_dict
from ..errors import ConfigError, PostError, Problem
from ..feeds import plan_feeds
from ..model import Post, RenderedPost
from .common import CommandFailed, config_option, get_ui, now_utc


@click.command("check")
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "github", "json"]), default="text",
              show_default=True,
              help="text: path:line: message; github: workflow commands that annotate the files "
                   "in a pull request; json: a list of objects.")
@click.option("--future", is_flag=True, help="Check posts dated in the future as published.")
@click.option("--drafts", is_flag=True, help="Check drafts as published.")
def command(config_path: Path | None, fmt: str, future: bool, drafts: bool) -> None:
    """Check the configuration and every post without writing anything.

    Every post is read and rendered, and the feeds are built in memory, so anything that
    would fail or warn in 'feedpub build' is reported here, each as path:line: message.
    Exits 1 when there is an error (2 when the configuration itself is invalid).
    """
    from ..config import load_config

    ui = get_ui()
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        _emit(exc.problems, fmt, ui, source=exc.config_path)
        raise CommandFailed(exc.exit_code) from None
    try:
        problems = check_site(config, future=future or None, drafts=drafts or None)
    except ConfigError as exc:     # e.g. feed paths that collide or leave the output folder
        _emit([*config.warnings, *exc.problems], fmt, ui)
        raise CommandFailed(exc.exit_code) from None
    problems = [*config.warnings, *problems]
    _emit(problems, fmt, ui)
    if any(p.severity == "error" for p in problems):
        raise CommandFailed(1)


def check_site(config, *, future=None, drafts=None) -> list[Problem]:  # noqa: ANN001
    """Every problem of every post: scanning, rendering, and building the feeds in memory."""
    from ..posts import scan
    from ..render import Renderer

    site = scan(config, now_utc(), future=future, drafts=drafts)
    problems: list[Problem] = list(site.problems)
    renderer = Renderer(site)   # no cache: check writes nothing
    done: dict[str, RenderedPost] = {}

    def render(post: Post) -> RenderedPost:
        if post.id not in done:
            done[post.id] = renderer.render(post)
        return done[post.id]

    for post in site.posts:
        try:
            problems.extend(render(post).warnings)
        except PostError as exc:
            problems.append(Problem(exc.path or post.relpath, exc.line, exc.message))
    # The feeds themselves (XML-unsafe text, empty listed categories) without writing them.
    plan = plan_feeds(site, render)
    seen = set(problems)
    for p in plan.problems:
        if p not in seen:
            problems.append(p)
            seen.add(p)
    return _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _emit(problems: list[Problem], fmt: str, ui, source: str | None = None) -> None:  # noqa: ANN001
    if fmt == "json":
        click.echo(json.dumps([problem_dict(p) for p in problems], indent=2, ensure_ascii=False))
        return
    if fmt == "github":
        for p in problems:
            click.echo(github_command(p))
        return
    for p in problems:
        if p.severity == "error" or not ui.quiet:
            click.echo(str(p))
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if not ui.quiet:
        click.echo(f"{errors} error(s), {warnings} warning(s)" if problems else "no problems found", err=True)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(p: Problem) -> str:
    """A GitHub Actions workflow command: ``::error file=posts/x.md,line=3::message``."""
    level = {"error": "error", "warning": "warning"}.get(p.severity, "notice")
    props = []
    if p.path:
        props.append(f"file={_escape_property(p.path)}")
        if p.line:
            props.append(f"line={p.line}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_escape_data(p.message)}"
