"""Client-side rate limiting that slows down before the server has to say 429.

Each service advertises its budget in headers (`X-RateLimit-Limit`/`-Remaining`, duitmyself's
`-Minute`/`-Day` pairs), in the service's units: requests, or records for Wallet v1.  Two shapes:

* a window (rolling or fixed): the limiter keeps a log of what this client spent inside the
  window and lets a request go when the log plus its cost fits the limit.  A sliding log never
  exceeds a fixed or a rolling window of the same size.  When the server reports less left than
  the log explains (an earlier run, another client), the difference is booked now;
* a token bucket (Wallet REST): refilled continuously at limit/window, so the limiter paces to
  the refill rate instead of waiting a whole window for its first bookings to age out (which
  left the bucket idle for most of that window).  The server's `Remaining` caps the estimate.

`Retry-After` blocks everything until it has passed.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class _Budget:
    """A window: the log of what was spent in it, [when, cost] entries, and their running total."""

    window: float
    limit: int | None = None
    spent: collections.deque[list[float]] = field(default_factory=collections.deque)
    total: float = 0.0

    def used(self, now: float) -> int:
        while self.spent and self.spent[0][0] <= now - self.window:
            self.total -= self.spent.popleft()[1]
        return int(self.total + 0.5)

    def wait(self, now: float, cost: int) -> float:
        """Seconds until `cost` more fits (0 when it fits now)."""
        if self.limit is None:
            return 0.0
        need: float = self.used(now) + min(cost, self.limit) - self.limit  # the log's costs are floats
        if need <= 0:
            return 0.0
        for stamp, spent in self.spent:
            need -= spent
            if need <= 0:
                return stamp + self.window - now
        return self.window

    def book(self, now: float, cost: float) -> list[float]:
        entry = [now, cost]
        self.spent.append(entry)
        self.total += cost
        return entry

    def sync(self, limit: int, remaining: int, now: float) -> None:
        self.limit = limit
        unexplained = (limit - remaining) - self.used(now)
        if unexplained > 0:
            self.book(now, float(unexplained))


@dataclass
class _Bucket:
    """A token bucket of `limit` tokens refilled over `window` seconds, as this client sees it."""

    window: float
    limit: int | None = None
    tokens: float = 0.0
    at: float = 0.0

    def _refill(self, now: float) -> None:
        if self.limit is not None:
            self.tokens = min(float(self.limit), self.tokens + (now - self.at) * self.limit / self.window)
        self.at = now

    def wait(self, now: float, cost: int) -> float:
        if self.limit is None:
            return 0.0
        self._refill(now)
        need = min(cost, self.limit) - self.tokens
        return 0.0 if need <= 0 else need * self.window / self.limit

    def book(self, now: float, cost: float) -> list[float]:
        self._refill(now)
        self.tokens -= cost
        return [now, cost]  # settling moves nothing: a bucket has no log to age out

    def sync(self, limit: int, remaining: int, now: float) -> None:
        """The server's count caps ours; ours may be lower (requests it has not counted yet)."""
        if self.limit is None:
            self.tokens, self.at = float(remaining), now
        self.limit = limit
        self._refill(now)
        self.tokens = min(self.tokens, float(remaining))


class Cancelled(Exception):
    """The run stopped (Ctrl-C) while a request waited for its budget: it was never sent."""


class RateLimiter:
    """Paces requests to the budgets named by `windows`: header suffix → window in seconds."""

    def __init__(
        self, windows: Mapping[str, float] | None = None, prefix: str = "X-RateLimit", *, bucket: bool = False
    ) -> None:
        """`bucket`: the service refills its budgets continuously (a token bucket), not per window."""
        self.prefix = prefix
        kind = _Bucket if bucket else _Budget
        self.budgets: dict[str, _Budget | _Bucket] = {
            suffix: kind(window) for suffix, window in (windows or {}).items()
        }
        self.blocked_until = 0.0
        self.lock = threading.Lock()
        self.waited = 0.0
        # Set when the run stops: a worker waiting for the budget gives up at once, so Ctrl-C
        # against a rate-limited service ends within a second, not after the window.
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        """Wake every waiting `acquire` with `Cancelled`; later ones fail at once."""
        self.cancelled.set()

    def pause(self, seconds: float) -> None:
        """Sleep `seconds` (a retry's back-off) unless the run stops first (`Cancelled`)."""
        if self.cancelled.wait(seconds):
            raise Cancelled("the run was stopped during a retry's back-off")

    def acquire(self, cost: int = 1) -> list[list[float]]:
        """Block until a request of `cost` units fits every budget, then book it.

        Returns the bookings; `settle` them when the answer arrives, so a booking ages out
        a window after the server counted it, not a window after we asked (else the client
        would think the budget free a round trip before the server does).
        """
        while True:
            if self.cancelled.is_set():
                raise Cancelled("the run was stopped while it waited for the rate limit")
            with self.lock:
                now = time.monotonic()
                delay = max([self.blocked_until - now, *(b.wait(now, cost) for b in self.budgets.values())])
                if delay <= 0:
                    return [budget.book(now, float(cost)) for budget in self.budgets.values()]
            self.waited += delay
            if self.cancelled.wait(min(delay, 5.0)):
                raise Cancelled("the run was stopped while it waited for the rate limit")

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

    def _sync(self, budget: _Budget | _Bucket, headers: Mapping[str, str], suffix: str, now: float) -> None:
        limit = _int(headers.get(f"{self.prefix}-Limit{suffix}"))
        remaining = _int(headers.get(f"{self.prefix}-Remaining{suffix}"))
        if limit is not None and remaining is not None:
            budget.sync(limit, remaining, now)


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
