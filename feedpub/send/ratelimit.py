"""A token bucket shared by the worker threads: at most ``rate`` requests per second."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``acquire()`` blocks until a request may go out. ``rate <= 0`` means no limit.

    ``burst`` tokens may be spent at once (default: one second's worth, at least 1), so
    a provider allowing 10 requests/s sees at most 10 in any second, never a spike.
    ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, float(burst if burst is not None else self.rate))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # The "theoretical arrival time" of the next request (GCRA). It starts so that
        # only one token is available at first: no burst of a whole second at start-up.
        self._tat = clock() + (self.capacity - 1.0) / self.rate if self.rate > 0 else 0.0

    def acquire(self) -> float:
        """Reserve the next slot and wait for it; return the seconds waited.

        Each caller reserves its slot under the lock and sleeps outside it, so waiting
        workers never block each other and the order of slots is the order of calls.
        """
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            wait = max(0.0, tat - (self.capacity - 1.0) / self.rate - now)
            self._tat = tat + 1.0 / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait
