"""WebSub publishing: tell the hub that feeds changed (``hub.mode=publish``).

The hub then fetches the feeds and pushes them to subscribers in real time. One POST per
feed URL (form-encoded, as hubs expect); 429, 5xx and network errors are retried with
exponential backoff (honouring ``Retry-After``), other answers are final.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from .. import __version__


@dataclass(frozen=True, slots=True)
class PingResult:
    url: str                 # the feed URL the hub was told about
    ok: bool
    status: int | None       # the hub's last HTTP status (None: no answer)
    attempts: int
    error: str = ""


def publish(
    hub: str,
    urls: Iterable[str],
    *,
    client: httpx.Client | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PingResult]:
    """Ping ``hub`` once for every feed URL; never raises for a hub's or network's failure."""
    own = client is None
    client = client or httpx.Client(timeout=timeout, headers={"User-Agent": f"feedpub/{__version__}"})
    try:
        return [_ping_one(client, hub, url, retries, backoff, sleep) for url in urls]
    finally:
        if own:
            client.close()


def _ping_one(client: httpx.Client, hub: str, url: str, retries: int, backoff: float,
              sleep: Callable[[float], None]) -> PingResult:
    status: int | None = None
    error = ""
    for attempt in range(1, retries + 2):
        wait = backoff * 2 ** (attempt - 1)
        try:
            response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            status = response.status_code
            if 200 <= status < 300:
                return PingResult(url, True, status, attempt)
            error = f"HTTP {status}: {response.text.strip()[:200]}" if response.text.strip() else f"HTTP {status}"
            if status != 429 and status < 500:
                return PingResult(url, False, status, attempt, error)
            wait = max(wait, _retry_after(response))
        if attempt <= retries:
            sleep(min(wait, 60.0))
    return PingResult(url, False, status, retries + 1, error)


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0
