"""Public web copies of the digests that were sent ("view in browser").

``feedpub build`` calls ``write_web_copies`` with the send journal's sent digests. Each
copy is re-rendered from its post ids with the date it was sent, so nothing but the
ids needs storing and the files are the same on every build. The copies leave out the
personal parts (unsubscribe link) and the self-link. Two digests sent on the same day:
the first keeps ``YYYY-MM-DD.html``, the next get ``YYYY-MM-DD-2.html`` and so on.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .. import atomicio, templating
from ..config import Config
from ..model import Output, Post, RenderedPost, Site
from .render import human_date, render_digest
from .select import Digest


class SentDigestLike(Protocol):
    """What the send journal records of a digest (feedpub.send.journal.SentDigest)."""

    digest_id: str
    date: datetime
    post_ids: tuple[str, ...]
    subject: str


def write_web_copies(
    site: Site,
    render: Callable[[Post], RenderedPost],
    config: Config,
    out_dir: Path,
    sent: Sequence[SentDigestLike],
) -> list[Output]:
    """Write ``<out>/<[digest] archive>/YYYY-MM-DD.html`` per sent digest, plus ``index.html``."""
    if not sent:
        return []
    folder = out_dir / config.digest.archive.strip("/")
    by_id = {p.id: p for p in site.posts}
    outputs: list[Output] = []
    entries = []
    taken: dict[str, int] = {}
    for item in sorted(sent, key=lambda s: (s.date, s.digest_id)):
        posts = sorted((by_id[i] for i in item.post_ids if i in by_id), key=lambda p: p.sort_key, reverse=True)
        if not posts:
            continue  # every post of it was deleted or unpublished since
        day = item.date.astimezone(config.tz).date().isoformat()
        taken[day] = taken.get(day, 0) + 1
        name = f"{day}.html" if taken[day] == 1 else f"{day}-{taken[day]}.html"
        cap = config.digest.max_posts
        digest = Digest(digest_id=item.digest_id, posts=tuple(posts[:cap]), more=tuple(posts[cap:]),
                        date=item.date, reason="sent digest")
        email = render_digest(digest, render, config, item.date, web=True, subject=item.subject)
        path = folder / name
        outputs.append(Output(path=path, kind="digest-web", entries=len(posts),
                              changed=atomicio.write_text(path, email.html), label=item.subject))
        entries.append({"name": name, "subject": item.subject, "date": human_date(item.date.astimezone(config.tz)),
                        "date_iso": day, "count": len(posts)})
    if not entries:
        return outputs
    env = templating.environment(config)
    html = templating.render(env, "digests_index.html.j2", {
        "site": {"title": config.site.title, "url": config.site_url + "/", "lang": config.site.lang},
        "digests": list(reversed(entries)),
    })
    index = folder / "index.html"
    outputs.append(Output(path=index, kind="digest-index", entries=len(entries),
                          changed=atomicio.write_text(index, html)))
    return outputs
