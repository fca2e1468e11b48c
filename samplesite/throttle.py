"""Per-client request accounting: the 429 rate limit, the search captcha, and request statistics.

Clients are told apart by their remote address, like the real sites do. The clock is injectable so
tests can make "a burst" exact instead of racing the wall clock.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable


class SlidingWindow:
    """How many events each client had within the last `window_s` seconds."""

    def __init__(self, window_s: float, clock: Callable[[], float]):
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def count(self, client: str) -> int:
        events = self._events[client]
        cutoff = self._clock() - self.window_s
        while events and events[0] <= cutoff:
            events.popleft()
        return len(events)

    def add(self, client: str) -> None:
        self._events[client].append(self._clock())

    def clear(self) -> None:
        self._events.clear()


class Throttle:
    """Decides, per request, whether to serve it, answer 429, or send the client to the captcha."""

    def __init__(
        self,
        rate_limit: float = 0,
        captcha_after: int = 0,
        captcha_window_s: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate_limit = rate_limit
        self.captcha_after = captcha_after
        self._lock = threading.Lock()
        self._second = SlidingWindow(1.0, clock)
        self._searches = SlidingWindow(captcha_window_s, clock)

    def over_rate_limit(self, client: str) -> bool:
        """True when this request would be more than `rate_limit` in one second (0 disables).

        Refused requests are not counted, so a client that backs off for Retry-After gets through."""
        if self.rate_limit <= 0:
            return False
        with self._lock:
            if self._second.count(client) >= self.rate_limit:
                return True
            self._second.add(client)
            return False

    def needs_captcha(self, client: str) -> bool:
        """True once a client made more than `captcha_after` search requests within the window.

        Blocked attempts count too: a crawler that keeps hammering stays blocked, one that pauses
        for the window is let back in (as Sogou does after its cool-down)."""
        if self.captcha_after <= 0:
            return False
        with self._lock:
            self._searches.add(client)
            return self._searches.count(client) > self.captcha_after

    def reset(self) -> None:
        with self._lock:
            self._second.clear()
            self._searches.clear()


class RequestStats:
    """Request counts per path, per full URL and per status, for exactly-once assertions."""

    # The request log keeps the latest this many requests (a long demo run must not grow without bound).
    LOG_SIZE = 100_000

    def __init__(self):
        self._lock = threading.Lock()
        self._paths: Counter[str] = Counter()
        self._urls: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._log: deque[tuple[float, str, int]] = deque(maxlen=self.LOG_SIZE)

    def record(self, path: str, query: str, status: int, arrived: float | None = None) -> None:
        url = f"{path}?{query}" if query else path
        with self._lock:
            self._paths[path] += 1
            self._urls[url] += 1
            self._statuses[str(status)] += 1
            self._log.append((time.monotonic() if arrived is None else arrived, url, status))

    def log(self) -> list[tuple[float, str, int]]:
        """(arrival time on time.monotonic(), path?query, status) of each request, in order of answer:
        the site's own record of how fast its clients asked (politeness checks count per window)."""
        with self._lock:
            return sorted(self._log)

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "total": sum(self._paths.values()),
                "paths": dict(self._paths),
                "urls": dict(self._urls),
                "statuses": dict(self._statuses),
            }

    def reset(self) -> None:
        with self._lock:
            self._paths.clear()
            self._urls.clear()
            self._statuses.clear()
            self._log.clear()
