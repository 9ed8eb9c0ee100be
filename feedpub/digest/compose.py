"""The whole digest step for one site: scan, choose the posts, render the email.

``feedpub digest`` and ``feedpub send`` both call ``compose`` so they always agree on
which posts a digest holds and what it looks like.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..config import Config
from ..model import Email, Site
from .render import render_digest
from .select import Digest, select


@dataclass(frozen=True, slots=True)
class Composed:
    site: Site
    digest: Digest | None        # None: nothing new
    email: Email | None
    last_sent: datetime | None   # what "since the last digest" meant (None: nothing sent yet)


def compose(
    config: Config,
    now: datetime,
    *,
    since: datetime | None = None,
    last: int | None = None,
    journal: Path | None = None,
) -> Composed:
    """Scan the posts, select the digest (--since / --last / the journal / the window), render it.

    ``journal`` overrides ``[send] journal`` (e.g. ``feedpub send --journal``).
    """
    from ..posts import scan
    from ..render import Renderer
    from ..send.journal import last_sent_at

    site = scan(config, now)
    journal = journal if journal is not None else config.path(config.send.journal)
    last_sent = last_sent_at(journal) if since is None and last is None else None
    digest = select(site, now=now, since=since, last=last, last_sent=last_sent)
    if digest is None:
        return Composed(site, None, None, last_sent)
    email = render_digest(digest, Renderer(site, cache_dir=config.cache_dir).render, config, now)
    return Composed(site, digest, email, last_sent)
