"""Who gets the digest: ``[send] to``, or a CSV file streamed row by row.

The CSV has a header row with an ``email`` column and optionally ``name`` (any order,
any case, other columns ignored). Invalid addresses are reported with their line number
and skipped; an address seen before (compared case-insensitively) is sent once. Rows are
read lazily, so 100,000 subscribers cost one row of memory plus a set of the addresses
already seen.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from ..errors import Problem, SendError

# Deliberately plain: one @, no spaces or angle brackets, a dotted domain of sane labels.
# It rejects what providers reject up front; it does not pretend to implement RFC 5322.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")

OnProblem = Callable[[Problem], None]


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    name: str = ""

    @property
    def key(self) -> str:
        """The identity used for duplicates and the journal: the lower-cased address."""
        return self.email.lower()


def is_valid_email(address: str) -> bool:
    if len(address) > 254 or ".." in address:
        return False
    local, _, _domain = address.rpartition("@")
    if not local or len(local) > 64 or local.startswith(".") or local.endswith("."):
        return False
    return _EMAIL.match(address) is not None


def parse_recipient(text: str) -> Recipient | None:
    """``ann@example.com`` or ``Ann <ann@example.com>``; None when it is not an address."""
    text = text.strip()
    if "<" in text:
        name, address = parseaddr(text)
    else:
        name, address = "", text
    address = address.strip()
    if not is_valid_email(address):
        return None
    return Recipient(address, name.strip())


def from_list(addresses: Iterable[str], *, source: str = "[send] to", on_problem: OnProblem | None = None) -> Iterator[Recipient]:
    for i, text in enumerate(addresses, start=1):
        recipient = parse_recipient(str(text))
        if recipient is None:
            _report(on_problem, Problem(source, None, f"entry {i}: '{text}' is not a valid email address; skipped", severity="warning"))
            continue
        yield recipient


def read_csv(path: Path, *, on_problem: OnProblem | None = None) -> Iterator[Recipient]:
    """Stream a recipients CSV; raise SendError when the file or its header is unusable."""
    display = str(path)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise SendError("recipients file not found", path=display, hint="check [send] recipients or --recipients") from None
    except OSError as exc:
        raise SendError(f"cannot read recipients file: {exc.strerror or exc}", path=display) from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SendError(f"cannot read the header row: {exc}", path=display, line=1) from None
        if header is None:
            return
        columns = [h.strip().lower() for h in header]
        if "email" not in columns:
            raise SendError(
                f"the header row has no 'email' column (found: {', '.join(header) or 'nothing'})",
                path=display, line=1,
                hint="the first line must name the columns, e.g. 'email,name'",
            )
        ei = columns.index("email")
        ni = columns.index("name") if "name" in columns else None
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise SendError(f"cannot read the recipients file: {exc}", path=display, line=reader.line_num + 1) from None
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            address = row[ei].strip() if ei < len(row) else ""
            if not is_valid_email(address):
                shown = address or "(empty)"
                _report(on_problem, Problem(display, line, f"'{shown}' is not a valid email address; skipped", severity="warning"))
                continue
            name = row[ni].strip() if ni is not None and ni < len(row) else ""
            yield Recipient(address, name)


def unique(recipients: Iterable[Recipient], *, exclude: Callable[[str], bool] | None = None) -> Iterator[Recipient]:
    """Each address once (the first spelling wins), minus those ``exclude(key)`` rejects."""
    seen: set[str] = set()
    for r in recipients:
        key = r.key
        if key in seen:
            continue
        seen.add(key)
        if exclude is not None and exclude(key):
            continue
        yield r


def read_suppressed(path: Path | None) -> frozenset[str]:
    """Lower-cased addresses never to send to (``[send] suppress``); empty when absent."""
    if path is None or not path.is_file():
        return frozenset()
    return frozenset(r.key for r in read_csv(path))


class RecipientSource:
    """A re-iterable recipient list: each ``iter()`` streams the source again.

    The CLI iterates once to count and preview (dry run, progress bar length) and once
    to send, without holding every recipient in memory.
    """

    def __init__(
        self,
        *,
        csv_path: Path | None = None,
        addresses: Iterable[str] = (),
        suppress: Path | None = None,
        on_problem: OnProblem | None = None,
    ) -> None:
        self.csv_path = csv_path
        self.addresses = tuple(addresses)
        self.suppress_path = suppress
        self.on_problem = on_problem
        self._suppressed: frozenset[str] | None = None
        self.label = str(csv_path) if csv_path is not None else "[send] to"

    def add_suppressed(self, addresses: Iterable[str]) -> None:
        """Never send to ``addresses`` either (the provider's own list, for this run only)."""
        if self._suppressed is None:
            self._suppressed = read_suppressed(self.suppress_path)
        self._suppressed = self._suppressed | frozenset(a.strip().lower() for a in addresses)

    def __iter__(self) -> Iterator[Recipient]:
        if self._suppressed is None:
            self._suppressed = read_suppressed(self.suppress_path)
        suppressed = self._suppressed
        raw = read_csv(self.csv_path, on_problem=self.on_problem) if self.csv_path is not None else from_list(self.addresses, on_problem=self.on_problem)
        return unique(raw, exclude=suppressed.__contains__ if suppressed else None)


def _report(on_problem: OnProblem | None, problem: Problem) -> None:
    if on_problem is not None:
        on_problem(problem)
