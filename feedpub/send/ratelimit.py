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
        self._tokens = 1.0  # start nearly empty: no burst of a whole second's worth at once
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting if needed; return the seconds waited."""
        if self.rate <= 0:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                need = (1.0 - self._tokens) / self.rate
            # Sleep outside the lock so other workers can refill-check meanwhile.
            self._sleep(need)
            waited += need
