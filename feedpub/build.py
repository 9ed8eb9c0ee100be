"""``feedpub build``: posts -> Site -> rendered feeds -> files, one named object per step.

    site     = scan(config, now)                   every post's metadata, newest first
    (stop)                                         a bad post fails the build, nothing written
    renderer = Renderer(site)                      renders a post when an output asks for it
    plan     = plan_feeds(site, renderer.render)   every feed file's bytes, in memory
    (stop)                                         a post that fails to render: same rule
    outputs  = write_plan(plan, out_dir)           all files replaced together
    outputs += write_web_copies(...)               the sent digests' web copies

With ``keep_going`` the bad posts are left out (each named in ``problems``), the good
ones are published, and the report's ``ok`` is False so the CLI still exits 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .config import Config
from .errors import BuildError, Problem
from .feed_memo import FeedMemo
from .feeds import plan_feeds, write_plan
from .model import Output, Site


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build read and wrote."""

    posts: int                                  # posts read and publishable
    skipped: tuple[tuple[str, str], ...]        # (relpath, reason): drafts, future, not posts
    problems: tuple[Problem, ...]               # errors (posts left out) and warnings
    outputs: tuple[Output, ...]
    rendered: int = 0                           # posts rendered for the feeds

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self, relative_to: Path | None = None) -> dict[str, Any]:
        def show(path: Path) -> str:
            if relative_to is not None:
                try:
                    return str(path.relative_to(relative_to))
                except ValueError:
                    pass
            return str(path)

        return {
            "ok": self.ok,
            "posts": self.posts,
            "rendered": self.rendered,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "problems": [problem_dict(p) for p in self.problems],
            "outputs": [
                {"path": show(o.path), "kind": o.kind, "entries": o.entries, "changed": o.changed, "label": o.label}
                for o in self.outputs
            ],
        }


def problem_dict(p: Problem) -> dict[str, Any]:
    return {"path": p.path, "line": p.line, "severity": p.severity, "message": p.message, "key": p.key}


def build(
    config: Config,
    now: datetime,
    *,
    out_dir: Path | None = None,
    future: bool | None = None,
    drafts: bool | None = None,
    keep_going: bool = False,
) -> BuildReport:
    """Build every feed into ``out_dir`` (default ``[paths] out``).

    Raises ``BuildError`` (with every problem) and writes nothing when a post has an
    error, unless ``keep_going``; raises ``OutputError`` when a file cannot be written
    (the previous files are then left as they were).
    """
    from .parallel import frozen_heap

    with frozen_heap():   # the scanned site is not garbage: the cyclic GC need not walk it
        return _build(config, now, out_dir=out_dir, future=future, drafts=drafts, keep_going=keep_going)


def _build(
    config: Config, now: datetime, *, out_dir: Path | None, future: bool | None, drafts: bool | None, keep_going: bool,
) -> BuildReport:
    from .posts import scan          # imported here: scanning pulls in YAML/Markdown stacks
    from .parallel import gc_paused_then_frozen, prerender
    from .render import Renderer

    out_dir = Path(out_dir) if out_dir is not None else config.out_dir
    with gc_paused_then_frozen():   # scanning makes ~50 objects a post and no garbage
        site = scan(config, now, future=future, drafts=drafts, cache_dir=config.cache_dir)
    if site.errors and not keep_going:
        raise BuildError(list(site.problems))

    renderer = Renderer(site, cache_dir=config.cache_dir)
    memo = FeedMemo(config.cache_dir, out_dir)      # unchanged feed files are not regenerated
    plan = plan_feeds(                              # cache misses are rendered on every core first
        site, renderer.render, memo, prepare=lambda posts: prerender(renderer, posts, config.build.jobs),
    )
    problems = [*site.problems, *plan.problems, *memo.notices]
    if plan.errors and not keep_going:
        raise BuildError(problems)

    outputs = write_plan(plan, out_dir)
    before = len(memo.notices)
    memo.save()
    problems.extend(memo.notices[before:])
    outputs += write_digest_web_copies(site, renderer.render, config, out_dir)
    problems += renderer.notices          # e.g. a corrupt render-cache entry that was rebuilt
    return BuildReport(
        posts=len(site.posts),
        skipped=tuple(site.skipped),
        problems=tuple(problems),
        outputs=tuple(outputs),
        rendered=plan.rendered,
    )


def write_digest_web_copies(site: Site, render, config: Config, out_dir: Path) -> list[Output]:  # noqa: ANN001
    """The web copies of the digests the send journal records as sent (none: nothing)."""
    journal = config.path(config.send.journal)
    if not journal.is_file():
        return []   # checked first: the digest stack (Jinja2, css-inline) is not imported then
    from .digest.archive import write_web_copies
    from .send.journal import sent_digests

    return write_web_copies(site, render, config, out_dir, sent_digests(journal))
