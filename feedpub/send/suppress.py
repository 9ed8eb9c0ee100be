"""Who must never be emailed: the local suppression list and the providers' own lists.

The local list is a CSV (``[send] suppress``) with the columns ``email,reason,date``,
created on first use. The recipients reader (``recipients.read_suppressed``) reads its
``email`` column, so a suppressed address is skipped whatever the recipients file says.
Matching is on the whole address, case-insensitively; the spelling first written is kept.

Edits are atomic and serialized: an exclusive lock on ``<file>.lock`` (so two
``feedpub unsubscribe`` runs, or one beside a web hook, cannot lose each other's lines),
then the whole new file written beside the old one, fsync'd and renamed over it
(``atomicio``), so a crash leaves either the old list or the new one, never half.

Providers keep lists too (bounces, complaints, unsubscribes through their own links).
``provider_suppressions`` asks a sender that can be asked (``fetch_suppressions``) and
says so when it cannot, so the summary can name the provider.
"""
from __future__ import annotations

import csv
import fcntl
import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .. import atomicio
from ..errors import ProviderError, SendError
from .recipients import is_valid_email, parse_recipient, read_csv

HEADER = ("email", "reason", "date")


@dataclass
class AddResult:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)     # were on the list before
    invalid: list[tuple[int | None, str]] = field(default_factory=list)  # (line, text)


class SuppressionList:
    """The local CSV of addresses never to send to."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def addresses(self) -> frozenset[str]:
        """Every suppressed address, lower-cased (empty when the file does not exist)."""
        return frozenset(key for key, _ in self._rows())

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and address.strip().lower() in self.addresses()

    def _rows(self) -> Iterator[tuple[str, list[str]]]:
        if not self.path.is_file():
            return
        with open(self.path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                return
            columns = [h.strip().lower() for h in header]
            if "email" not in columns:
                raise SendError(
                    "the suppression list has no 'email' column", path=str(self.path), line=1,
                    hint="its first line must be 'email,reason,date'",
                )
            ei = columns.index("email")
            for row in reader:
                if ei < len(row) and row[ei].strip():
                    yield row[ei].strip().lower(), row

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def add(self, entries: Iterable[tuple[str, str]], *, today: date) -> AddResult:
        """Add ``(address, reason)`` pairs; already listed or invalid ones are reported, not added."""
        result = AddResult()
        with self._locked():
            existing = self.path.read_text("utf-8-sig") if self.path.is_file() else ""
            known = self.addresses()
            new_rows: list[tuple[str, str, str]] = []
            for address, reason in entries:
                address = address.strip()
                if not is_valid_email(address):
                    result.invalid.append((None, f"'{address}' is not a valid email address"))
                    continue
                key = address.lower()
                if key in known:
                    result.already.append(address)
                    continue
                known = known | {key}
                new_rows.append((address, " ".join(reason.split()), today.isoformat()))
                result.added.append(address)
            if not new_rows and existing:
                return result
            out = io.StringIO()
            if existing:
                out.write(existing if existing.endswith("\n") else existing + "\n")
            writer = csv.writer(out, lineterminator="\n")
            if not existing:
                writer.writerow(HEADER)
            writer.writerows(new_rows)
            atomicio.write_text(self.path, out.getvalue())
        return result


def read_import(path: Path) -> Iterator[tuple[int | None, str | None, str]]:
    """Addresses to import: a CSV with an ``email`` column, or one address per line.

    Yields ``(line, address, text)``; for an invalid entry ``address`` is None and
    ``text`` says what is wrong with it.
    """
    try:
        with open(path, encoding="utf-8-sig") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise SendError("file not found", path=str(path)) from None
    if "email" in [c.strip().lower() for c in next(csv.reader([first]), [])]:
        problems: dict[int, str] = {}
        for r in read_csv(path, on_problem=lambda p: problems.__setitem__(p.line or 0, p.message)):
            yield None, r.email, r.email
        for line, message in sorted(problems.items()):
            yield line, None, message.removesuffix("; skipped")
        return
    with open(path, encoding="utf-8-sig") as fh:
        for number, text in enumerate(fh, start=1):
            text = text.strip()
            if not text or text.startswith("#"):
                continue
            recipient = parse_recipient(text)
            if recipient is None:
                yield number, None, f"'{text}' is not a valid email address"
            else:
                yield number, recipient.email, text


@dataclass(frozen=True, slots=True)
class ProviderSuppressions:
    provider: str
    addresses: frozenset[str] | None    # None: the provider cannot be asked
    note: str = ""                       # why not, for the summary


def provider_suppressions(sender: object) -> ProviderSuppressions:
    """Ask the provider for its suppressed addresses (lower-cased), once, for this run."""
    name = str(getattr(sender, "name", "provider"))
    fetch = getattr(sender, "fetch_suppressions", None)
    if fetch is None:
        return ProviderSuppressions(name, None, f"{name} keeps no suppression list feedpub can read")
    try:
        found = fetch()
    except ProviderError as exc:
        raise ProviderError(
            f"could not fetch its suppression list: {exc.message}", provider=name, status=exc.status,
            retryable=exc.retryable, retry_after=exc.retry_after,
            hint="without it feedpub might mail someone who bounced or complained; try again",
        ) from None
    if found is None:
        return ProviderSuppressions(name, None, f"{name} offers no suppression list through its API")
    return ProviderSuppressions(name, frozenset(a.strip().lower() for a in found if a and a.strip()))
