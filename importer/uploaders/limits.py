"""Client-side rate limiting that slows down before the server has to say 429.

Each service advertises its budget in headers (`X-RateLimit-Limit`/`-Remaining`, duitmyself's
`-Minute`/`-Day` pairs).  The limiter keeps, per budget, a log of what this client spent inside
the budget's window (in the service's units: requests, or records for Wallet v1) and lets a
request go only when the log plus its cost fits the advertised limit.  A sliding log never
exceeds a fixed window, a rolling window or a token bucket of the same size, so one rule fits all
three.  When the server reports less left than the log explains (an earlier run, another client),
the difference is booked now.  `Retry-After` blocks everything until it has passed.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class _Budget:
    window: float
    limit: int | None = None
    spent: collections.deque[list[float]] = field(default_factory=collections.deque)  # [when, cost]

    def used(self, now: float) -> int:
        while self.spent and self.spent[0][0] <= now - self.window:
            self.spent.popleft()
        return int(sum(cost for _, cost in self.spent))

    def wait(self, now: float, cost: int) -> float:
        """Seconds until `cost` more fits (0 when it fits now)."""
        if self.limit is None:
            return 0.0
        need = self.used(now) + min(cost, self.limit) - self.limit
        if need <= 0:
            return 0.0
        for stamp, spent in self.spent:
            need -= spent
            if need <= 0:
                return stamp + self.window - now
        return self.window


class RateLimiter:
    """Paces requests to the budgets named by `windows`: header suffix → window in seconds."""

    def __init__(self, windows: Mapping[str, float] | None = None, prefix: str = "X-RateLimit") -> None:
        self.prefix = prefix
        self.budgets = {suffix: _Budget(window) for suffix, window in (windows or {}).items()}
        self.blocked_until = 0.0
        self.lock = threading.Lock()
        self.waited = 0.0

    def acquire(self, cost: int = 1) -> list[list[float]]:
        """Block until a request of `cost` units fits every budget, then book it.

        Returns the bookings; `settle` them when the answer arrives, so a booking ages out
        a window after the server counted it, not a window after we asked (else the client
        would think the budget free a round trip before the server does).
        """
        while True:
            with self.lock:
                now = time.monotonic()
                delay = max([self.blocked_until - now, *(b.wait(now, cost) for b in self.budgets.values())])
                if delay <= 0:
                    booked = [[now, float(cost)] for _ in self.budgets]
                    for budget, entry in zip(self.budgets.values(), booked):
                        budget.spent.append(entry)
                    return booked
            self.waited += delay
            time.sleep(min(delay, 5.0))

    def settle(self, booked: list[list[float]]) -> None:
        with self.lock:
            now = time.monotonic()
            for entry in booked:
                entry[0] = now

    def observe(self, headers: Mapping[str, str], status: int) -> None:
        """Learn limits and remaining budget from a response; honour Retry-After."""
        with self.lock:
            now = time.monotonic()
            for suffix, budget in self.budgets.items():
                self._sync(budget, headers, suffix, now)
            retry_after = retry_after_seconds(headers)
            if retry_after is not None or status == 429:
                self.blocked_until = max(self.blocked_until, now + (retry_after or 0.0))

    def _sync(self, budget: _Budget, headers: Mapping[str, str], suffix: str, now: float) -> None:
        limit = _int(headers.get(f"{self.prefix}-Limit{suffix}"))
        remaining = _int(headers.get(f"{self.prefix}-Remaining{suffix}"))
        if limit is None or remaining is None:
            return
        budget.limit = limit
        unexplained = (limit - remaining) - budget.used(now)
        if unexplained > 0:
            budget.spent.append([now, float(unexplained)])


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: rare from APIs; a short pause is a safe reading
        return 1.0


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
