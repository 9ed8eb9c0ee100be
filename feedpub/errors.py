"""feedpub's exceptions and diagnostics.

Every error a user can cause names where it happened (file, line, config key) and,
where there is one, what to do about it::

    FeedpubError                 base; .path .line .hint
    ├── ConfigError              feedpub.toml / _config.yml; carries every Problem at once
    ├── PostError                one post cannot be read (bad UTF-8, YAML, dates, ...)
    │   └── RenderError          a post's Markdown/Liquid could not be rendered
    ├── BuildError               the build as a whole failed (bad posts without --keep-going)
    ├── OutputError              an output could not be written (disk full, permissions)
    ├── DigestError              a digest could not be chosen or rendered
    └── SendError                delivery failed
        ├── ProviderError        the provider answered with an error (.status, .retryable)
        ├── CredentialsError     an environment variable with a key is missing
        └── JournalError         the send journal is locked, corrupt or ambiguous

A ``Problem`` is one diagnostic (an error or a warning) found while checking config or
posts; ``feedpub check`` prints them as ``path:line: message``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One diagnostic about an input file or a config key."""

    path: str | None
    line: int | None
    message: str
    severity: Severity = "error"
    key: str | None = None

    def location(self) -> str:
        if self.path and self.line:
            return f"{self.path}:{self.line}"
        return self.path or "feedpub"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.location()}: {prefix}{self.message}"


class FeedpubError(Exception):
    """Base class: an error feedpub reports to the user without a traceback."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    def as_problem(self) -> Problem:
        return Problem(self.path, self.line, self.message)

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(FeedpubError):
    """The configuration is invalid; ``problems`` lists every bad key, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem], *, path: str | None = None) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid configuration:\n{lines}", path=None)
        self.config_path = path

    def __str__(self) -> str:
        return self.message


class PostError(FeedpubError):
    """A post cannot be read or understood."""


class RenderError(PostError):
    """A post's body could not be rendered."""


class BuildError(FeedpubError):
    """The build failed; ``problems`` holds every post error found."""

    def __init__(self, problems: list[Problem], message: str | None = None) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(
            message or f"{len(errors)} post(s) have errors; nothing was written",
            hint="fix the posts named above, or publish the good ones with --keep-going",
        )


class OutputError(FeedpubError):
    """An output file could not be written."""


class DigestError(FeedpubError):
    """A digest could not be selected or rendered."""


class SendError(FeedpubError):
    """Delivery failed."""


class ProviderError(SendError):
    """The email provider answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}", hint=hint)
        self.provider = provider
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class CredentialsError(SendError):
    """A required secret is missing from the environment."""

    exit_code = 2


class JournalError(SendError):
    """The send journal is locked, unreadable, or holds a batch in an unknown state."""

    exit_code = 3
