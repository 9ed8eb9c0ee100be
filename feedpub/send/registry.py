"""Which module builds which provider's ``Sender``.

Contract for a provider factory (``"module:factory"`` in ``PROVIDERS``): it is called as
``factory(config, env, client)`` with the ``[send]`` section (``SendConfig``; its path
keys, ``outbox`` and ``journal``, are already absolute, and ``base_url`` already holds
``FEEDPUB_BASE_URL`` when the config left it empty), the environment as a read-only
mapping (the only place secrets come from), and an ``httpx.Client`` or ``None`` (build
your own with ``timeout=config.timeout`` then; tests and the benchmark pass one that
talks to 127.0.0.1). It returns an object satisfying ``feedpub.send.base.Sender``. It
reads every key it needs up front and raises ``CredentialsError`` naming the missing
environment variable (``"POSTMARK_SERVER_TOKEN is not set; ..."``) or ``SendError``
naming the missing ``[send]`` key, so a dry run catches both before anything is sent.
Secrets must never reach output, logs, the journal or an exception: ``feedpub send``
registers every variable in ``feedpub.send.redact.SECRET_ENV_VARS`` with the redactor
before any factory runs, and a factory that reads any other secret registers it itself
(``register_secret``). It must not send, sleep, retry or journal: the engine
(``feedpub.send.deliver``) does all of that.
"""
from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import SendError

if TYPE_CHECKING:  # httpx is imported by the providers themselves, only when used
    import httpx

    from ..config import SendConfig
    from .base import Sender

PROVIDERS: dict[str, str] = {
    "outbox": "feedpub.send.outbox:factory",
    "smtp": "feedpub.send.smtp:factory",
    "postmark": "feedpub.send.postmark:factory",
    "sendgrid": "feedpub.send.sendgrid:factory",
    "mailgun": "feedpub.send.mailgun:factory",
    "resend": "feedpub.send.resend:factory",
    "ses": "feedpub.send.ses:factory",
    "brevo": "feedpub.send.brevo:factory",
}


def make_sender(config: "SendConfig", env: Mapping[str, str], *, client: "httpx.Client | None" = None) -> "Sender":
    """Build the ``Sender`` named by ``config.provider``, importing its module only now."""
    name = config.provider
    target = PROVIDERS.get(name)
    if target is None:
        raise SendError(
            f"unknown provider '{name}'",
            hint=f"set [send] provider to one of: {', '.join(PROVIDERS)}",
        )
    if not config.base_url and env.get("FEEDPUB_BASE_URL"):
        config = dataclasses.replace(config, base_url=env["FEEDPUB_BASE_URL"])
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise SendError(
            f"provider '{name}' is not available in this installation ({module_name} is missing)",
            hint="reinstall feedpub, or choose another [send] provider",
        ) from None
    factory: Any = getattr(module, attr)
    return factory(config, env, client)
