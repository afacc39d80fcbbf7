"""What one caller may cost: a sliding-window count of answers per caller, in this process's memory.

One process counts for itself: several replicas behind a load balancer each allow the full rate.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key; `limit` 0 allows everything."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> int:
        """Count one event for `key` if the window has room and return 0; else count nothing and return the
        whole seconds until it has room (what `Retry-After` says)."""
        if self.limit <= 0:
            return 0
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                # e.g. limit 20, the oldest of the 20 at t=10, now t=55: room again at t=70, so 15 s
                return max(1, math.ceil(events[0] + self.window_s - now))
            events.append(now)
            if len(self._events) > 10_000:  # forget idle callers (many client addresses with auth off)
                for k in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window_s]:
                    del self._events[k]
            return 0
