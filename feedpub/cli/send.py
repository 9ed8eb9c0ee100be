"""feedpub send: deliver the digest to the subscribers (a dry run unless --yes)."""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..config import Config
from ..errors import ConfigError, CredentialsError, FeedpubError, Problem
from ..model import Email
from ..send import SendReport, deliver, plan, send_test_copy
from ..send.journal import Journal, unfinished_digests
from ..send.recipients import RecipientSource, parse_recipient
from ..send.redact import redact, register_env
from ..send.registry import PROVIDERS, make_sender
from ..send.unsubscribe import Unsubscribe
from .common import CommandFailed, Ui, config_option, get_ui, load, now_utc

SAMPLE = 5


@click.command("send")
@config_option
@click.option("--since", "since_text", metavar="DATE", help="Posts published on or after DATE (as for feedpub digest).")
@click.option("--last", type=click.IntRange(min=1), metavar="N", help="The newest N posts (as for feedpub digest).")
@click.option("--provider", type=click.Choice(list(PROVIDERS)), help="Override [send] provider.")
@click.option("--recipients", "recipients_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="CSV of recipients (header row: email, optional name); overrides [send] recipients and to.")
@click.option("--yes", "-y", is_flag=True, help="Really send. Without it, print what would be sent and send nothing.")
@click.option("--to", "to_address", metavar="ADDRESS", help="Send one test copy to ADDRESS only; the journal is not touched.")
@click.option("--resume-unknown", is_flag=True,
              help="Send again the batches a killed run left unconfirmed (nobody is missed; some may get two).")
@click.option("--skip-unknown", is_flag=True,
              help="Treat the batches a killed run left unconfirmed as delivered (nobody gets two; some may get none).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan or the result as JSON.")
def command(config_path: Path | None, since_text: str | None, last: int | None, provider: str | None,
            recipients_file: Path | None, yes: bool, to_address: str | None, resume_unknown: bool,
            skip_unknown: bool, as_json: bool) -> None:
    """Send the digest to the subscribers through the configured provider.

    The digest is the one 'feedpub digest' renders with the same --since/--last. Without
    --yes this is a dry run: it prints who would get what, through which provider, and
    sends nothing. Each batch is recorded in the send journal before and after it goes
    out, so an interrupted or failed send is resumed by running the same command again:
    recipients already sent are skipped.

    \b
    Exit codes:
      0  sent, a dry run, or nothing to send
      1  a batch failed: fix the cause and run the same command again
      2  bad usage or configuration, or a missing key
      3  the journal needs --resume-unknown or --skip-unknown, or is locked
    """
    if since_text and last:
        raise click.UsageError("use --since or --last, not both")
    if resume_unknown and skip_unknown:
        raise click.UsageError("use --resume-unknown or --skip-unknown, not both")
    ui = get_ui()
    register_env(os.environ)
    try:
        _run(ui, config_path, since_text, last, provider, recipients_file, yes, to_address,
             "resume" if resume_unknown else "skip" if skip_unknown else "stop", as_json)
    except FeedpubError as exc:
        # Whatever a provider or the engine put in the message, no key leaves this process.
        exc.message = redact(exc.message)
        exc.args = (exc.message,)
        if exc.hint:
            exc.hint = redact(exc.hint)
        raise


def _run(ui: Ui, config_path: Path | None, since_text: str | None, last: int | None, provider: str | None,
         recipients_file: Path | None, yes: bool, to_address: str | None, unknown: str, as_json: bool) -> None:
    config = load(config_path)
    send_cfg = dataclasses.replace(
        config.send,
        provider=provider or config.send.provider,
        outbox=str(config.path(config.send.outbox)),
        journal=str(config.path(config.send.journal)),
    )
    if not send_cfg.from_:
        raise ConfigError([Problem(config.source, None, "[send] from is required to send, e.g. from = \"Blog <news@example.com>\"", key="send.from")])
    now = now_utc()
    journal_path = Path(send_cfg.journal)
    email = _render(ui, config, send_cfg.journal, now, since_text, last)
    if email is None:
        message = "nothing new to send: no posts " + (
            f"since {since_text}" if since_text else "since the last digest" if not last else "found")
        ui.json({"sent": False, "message": message}) if as_json else ui.info(message)
        return
    try:
        unsubscribe = Unsubscribe.from_config(send_cfg, os.environ)
        missing_secret: CredentialsError | None = None
    except CredentialsError as exc:
        if yes:
            raise
        # A dry run still shows the plan, then fails with the same message a real send would.
        unsubscribe, missing_secret = Unsubscribe.from_config(dataclasses.replace(send_cfg, unsubscribe_url=""), os.environ), exc
    _verbose_logging(ui)
    sender = make_sender(send_cfg, os.environ)
    try:
        where = f" -> {send_cfg.outbox}" if sender.name == "outbox" else ""
        if to_address:
            _test_copy(ui, email, sender, unsubscribe, to_address, yes, as_json, where)
            _raise_if(missing_secret)
            return
        if send_cfg.audience:  # the provider keeps the list: one broadcast, journaled (feedpub.send.audience)
            from ._providers import broadcast
            broadcast(ui, email, sender, send_cfg.audience, journal_path, now, yes, unknown, as_json)
            _raise_if(missing_secret)
            return
        source = _recipients(ui, config, send_cfg, recipients_file)
        if yes:  # the provider's own suppressions (bounces, complaints), merged for this run
            from ._providers import merge_provider_suppressions
            merge_provider_suppressions(ui, source, sender, as_json)
        p = plan(email, source, journal_path, sender.batch_size, sample=SAMPLE)
        source.reported.set()  # type: ignore[attr-defined]  # the send streams the file again: warn once
        if p.recipients == 0:
            raise ConfigError([Problem(config.source, None, f"no recipients in {source.label}: set [send] to, [send] recipients or --recipients FILE", key="send.to")])
        _warn_unfinished(ui, journal_path, email.digest_id)
        if not yes:
            _dry_run(ui, email, sender.name, where, source.label, p, journal_path, as_json, unknown, sender.idempotent)
            _raise_if(missing_secret)
            return
        if p.complete:
            msg = f"digest {email.digest_id} was already sent to every recipient; nothing to send"
            ui.json({"dry_run": False, "subject": email.subject, **_empty_report(email, sender.name, p).as_dict(), "message": msg}) if as_json else ui.info(msg)
            return
        with _progress(ui, p.recipients) as tick:
            report = deliver(
                email, source, sender, Journal(journal_path), now=now,
                concurrency=send_cfg.concurrency, rate=send_cfg.rate_limit, retries=send_cfg.retries,
                unknown=unknown,  # type: ignore[arg-type]
                unsubscribe=unsubscribe, progress=tick,
            )
    finally:
        sender.close()
    _summary(ui, report, email, where, journal_path, as_json)
    if not report.ok:
        raise CommandFailed(1)


def _render(ui: Ui, config: Config, journal: str, now: datetime, since_text: str | None, last: int | None) -> Email | None:
    """The digest ``feedpub digest`` renders for the same flags (None: nothing new)."""
    from ..digest.compose import compose
    from ..digest.select import parse_since

    since = parse_since(since_text, config.tz) if since_text else None
    result = compose(config, now, since=since, last=last, journal=Path(journal))
    ui.problems(result.site.problems)
    return result.email


def _recipients(ui: Ui, config: Config, send_cfg: Any, recipients_file: Path | None) -> RecipientSource:
    csv_path = recipients_file or (config.path(send_cfg.recipients) if send_cfg.recipients else None)
    reported = threading.Event()

    def on_problem(problem: Problem) -> None:
        if not reported.is_set():
            ui.warn(f"{problem.location()}: {problem.message}")

    source = RecipientSource(
        csv_path=csv_path, addresses=() if csv_path else send_cfg.to,
        suppress=config.path(send_cfg.suppress) if send_cfg.suppress else None, on_problem=on_problem,
    )
    source.reported = reported  # type: ignore[attr-defined]
    return source


def _warn_unfinished(ui: Ui, journal: Path, digest_id: str) -> None:
    """A different digest was only partly sent: its readers may see some posts twice."""
    for other, count in unfinished_digests(journal).items():
        if other != digest_id and count:
            ui.warn(f"digest {other} was sent to only {count} recipient(s) before it stopped, and this is a "
                    "different digest (the chosen posts changed since), so those readers may get some posts "
                    "again; to finish that one instead, run feedpub send with the --since/--last it was sent with")


def _dry_run(ui: Ui, email: Email, provider: str, where: str, label: str, p: Any, journal: Path,
             as_json: bool, unknown: str, idempotent: bool) -> None:
    if as_json:
        ui.json({"dry_run": True, "digest_id": email.digest_id, "subject": email.subject, "posts": len(email.post_ids),
                 "provider": provider, "recipients_from": label, **p.as_dict()})
        return
    ui.info("Dry run: nothing was sent. Add --yes to send.")
    ui.info(f"Digest:     {email.subject!r} ({len(email.post_ids)} {'post' if len(email.post_ids) == 1 else 'posts'}, id {email.digest_id})")
    ui.info(f"Provider:   {provider}{where}")
    more = f", and {p.recipients - len(p.first)} more" if p.recipients > len(p.first) else ""
    ui.info(f"Recipients: {p.recipients} from {label}: {', '.join(p.first)}{more}")
    if p.complete:
        ui.info(f"Journal:    {journal}: this digest was already sent to every recipient; nothing would be sent")
        return
    ui.info(f"Journal:    {journal}: {p.already_sent} already sent; {p.to_send} to send in {p.batches} {'batch' if p.batches == 1 else 'batches'}")
    if p.unknown and not idempotent and unknown == "stop":
        ui.warn(f"{p.unknown} recipient(s) are in batches a killed run left unconfirmed: sending will stop and "
                "ask for --resume-unknown or --skip-unknown")


def _raise_if(error: CredentialsError | None) -> None:
    """After a dry run printed its plan: the problem a real send would stop on."""
    if error is not None:
        raise error


def _test_copy(ui: Ui, email: Email, sender: Any, unsubscribe: Unsubscribe, to_address: str, yes: bool,
               as_json: bool, where: str) -> None:
    recipient = parse_recipient(to_address)
    if recipient is None:
        raise click.BadParameter(f"'{to_address}' is not an email address", param_hint="--to")
    if not yes:
        msg = f"Dry run: would send one test copy of {email.subject!r} to {recipient.email} through {sender.name}{where}. Add --yes to send."
        ui.json({"dry_run": True, "test_copy": recipient.email, "provider": sender.name, "subject": email.subject}) if as_json else ui.info(msg)
        return
    message_id = send_test_copy(email, recipient, sender, unsubscribe=unsubscribe)
    if as_json:
        ui.json({"dry_run": False, "test_copy": recipient.email, "provider": sender.name, "message_id": message_id})
    else:
        ui.info(f"Sent a test copy of {email.subject!r} to {recipient.email} through {sender.name}{where} (the journal is unchanged)")


@contextmanager
def _progress(ui: Ui, total: int) -> Iterator[Any]:
    """A thread-safe ``tick(n)`` for the engine, drawing a bar on a terminal only."""
    lock = threading.Lock()
    with ui.progress(range(total), length=total, label="Sending") as bar:
        update = getattr(bar, "update", None)

        def tick(n: int) -> None:
            if update is not None:
                with lock:
                    update(n)

        yield tick


def _summary(ui: Ui, report: SendReport, email: Email, where: str, journal: Path, as_json: bool) -> None:
    if as_json:
        ui.json({"dry_run": False, "subject": email.subject, "journal": str(journal), **report.as_dict()})
    else:
        parts = [f"sent {report.sent} of {report.recipients} {'recipient' if report.recipients == 1 else 'recipients'} through {report.provider}{where}"]
        if report.already_sent:
            parts.append(f"{report.already_sent} already sent earlier")
        if report.rejected:
            parts.append(f"{len(report.rejected)} refused by the provider")
        parts.append(f"{report.batches} {'batch' if report.batches == 1 else 'batches'}, {report.retries} {'retry' if report.retries == 1 else 'retries'}")
        line = "; ".join(parts)
        if report.complete:
            line += f"; digest {report.digest_id} recorded as sent in {journal}"
        ui.info(line[0].upper() + line[1:])
        for address, reason in report.rejected[:SAMPLE]:
            ui.warn(f"{address}: refused: {reason}")
    if not report.ok:
        for f in report.failed[:SAMPLE]:
            ui.error(f"a batch of {len(f.recipients)} failed: {f.reason}")
        if len(report.failed) > SAMPLE:
            ui.error(f"... and {len(report.failed) - SAMPLE} more failed batches (see {journal})")
        if report.stopped:
            ui.error(f"sending stopped: {report.stopped}")
        missing = report.recipients - report.sent - report.already_sent - len(report.rejected)
        ui.error(f"{missing} of {report.recipients} recipients did not get the digest yet. "
                 "Fix the cause above, then run the same command again: it resumes from the journal and "
                 "skips everyone already sent.")


def _empty_report(email: Email, provider: str, p: Any) -> SendReport:
    return SendReport(email.digest_id, provider, recipients=p.recipients, already_sent=p.recipients,
                      complete=True, already_complete=True)


class _StderrHandler(logging.Handler):
    """Writes each record, redacted, to the current stderr (``click.echo``)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(redact(self.format(record)), err=True)
        except Exception:  # noqa: BLE001 - logging must never break a send
            self.handleError(record)


def _verbose_logging(ui: Ui) -> None:
    """``-v``: the providers' request dumps (``feedpub.send`` loggers), redacted, on stderr."""
    if not ui.verbose or ui.quiet:
        return
    logger = logging.getLogger("feedpub.send")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.DEBUG)
