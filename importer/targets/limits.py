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

Workers sharing a state (PostgreSQL) share the budget of each service and token too
(`SharedRateLimiter`): the same window and bucket, decided by the same code, kept in the store
(importer/store/sql_budget.py) and changed under its row lock, so two workers together pace to
the limit one would, and a Retry-After one meets pauses the other.  Their clock is wall time, so
workers on several machines agree (to their clocks' sync: milliseconds against windows of a
minute and more).

    acquire ─▶ attempt: under the lock (a thread lock, or the store's row), the longest wait of
               every budget and Retry-After; none: book the cost in each, else sleep and retry
    settle  ─▶ the bookings of a window re-stamped when the answer came
    observe ─▶ each budget corrected from the headers; Retry-After or 429 blocks until then
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from importer.store.sql_budget import Held, Level, SharedRates

# What `acquire` returns for `settle`: a window's log entries (local) or booking ids (shared).
Booked = list[Any]


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
        return _window_wait(self.used(now), self.limit, cost, self.spent, self.window, now)

    def book(self, now: float, cost: float) -> list[float]:
        entry = [now, cost]
        self.spent.append(entry)
        self.total += cost
        return entry

    def sync(self, limit: int, remaining: int, now: float, sent: float | None = None) -> None:
        """`remaining` as the server counted between `sent` and `now`: what it counted that the
        log does not explain is booked now.  The log is read as of `sent`: a booking it ages out
        before `now` may still be in the server's window when it answered, and booking it again
        would hold a unit a whole window that the server frees sooner."""
        self.limit = limit
        unexplained = (limit - remaining) - self.used(now if sent is None else sent)
        if unexplained > 0:
            self.book(now, float(unexplained))


def _window_wait(used: int, limit: int, cost: int, log: Iterable[Sequence[float]], window: float, now: float) -> float:
    """Seconds until `cost` more fits a window holding `used` of `limit`, whose `log` is oldest first."""
    need: float = used + min(cost, limit) - limit  # the log's costs are floats
    if need <= 0:
        return 0.0
    for stamp, spent in log:
        need -= spent
        if need <= 0:
            return stamp + window - now
    return window


@dataclass
class _SharedWindow:
    """A window whose log and total are in the store (`_Budget`'s twin), read under its lock."""

    window: float
    rates: SharedRates
    held: Held
    budget: str  # the header suffix naming it
    level: Level  # capacity, and the log's total as `level`
    aged: bool = False  # the log aged once per hold: `now` does not move inside one

    @property
    def limit(self) -> int | None:
        return self.level.capacity

    def used(self, now: float) -> int:
        if not self.aged:
            self.level.level -= self.rates.age(self.held, self.budget, now - self.window)
            self.aged = True
        return int(self.level.level + 0.5)

    def wait(self, now: float, cost: int) -> float:
        if self.level.capacity is None:
            return 0.0
        used = self.used(now)
        return _window_wait(used, self.level.capacity, cost, self.rates.log(self.held, self.budget), self.window, now)

    def book(self, now: float, cost: float) -> str:
        self.level.level += cost
        return self.rates.book(self.held, self.budget, now, cost)

    def sync(self, limit: int, remaining: int, now: float, sent: float | None = None) -> None:
        self.level.capacity = limit
        unexplained = (limit - remaining) - self.used(now if sent is None else sent)
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

    def sync(self, limit: int, remaining: int, now: float, sent: float | None = None) -> None:
        """The server's count caps ours; ours may be lower (requests it has not counted yet)."""
        if self.limit is None:
            self.tokens, self.at = float(remaining), now
        self.limit = limit
        self._refill(now)
        self.tokens = min(self.tokens, float(remaining))


class Cancelled(Exception):
    """The run stopped (Ctrl-C) while a request waited for its budget: it was never sent."""


Budget = _Budget | _Bucket | _SharedWindow


class RateLimiter:
    """Paces requests to the budgets named by `windows`: header suffix → window in seconds."""

    def __init__(
        self,
        windows: Mapping[str, float] | None = None,
        prefix: str = "X-RateLimit",
        *,
        bucket: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`bucket`: the service refills its budgets continuously (a token bucket), not per window."""
        self.prefix = prefix
        self.windows = dict(windows or {})
        self.bucket = bucket
        self.clock = clock
        kind = _Bucket if bucket else _Budget
        self.budgets: dict[str, Budget] = {suffix: kind(window) for suffix, window in self.windows.items()}
        self.blocked_until = 0.0
        self.lock = threading.Lock()
        self.waited = 0.0
        self.sent = threading.local()  # `at`: when this thread's latest request was let go
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

    def acquire(self, cost: int = 1) -> Booked:
        """Block until a request of `cost` units fits every budget, then book it.

        Returns the bookings; `settle` them when the answer arrives, so a booking ages out
        a window after the server counted it, not a window after we asked (else the client
        would think the budget free a round trip before the server does).
        """
        while True:
            if self.cancelled.is_set():
                raise Cancelled("the run was stopped while it waited for the rate limit")
            delay, booked = self.attempt(cost)
            if booked is not None:
                return booked
            self.waited += delay
            if self.cancelled.wait(min(delay, 5.0)):
                raise Cancelled("the run was stopped while it waited for the rate limit")

    def attempt(self, cost: int) -> tuple[float, Booked | None]:
        """Book `cost` now if it fits: (0, the bookings); else (seconds to wait, None)."""
        with self.lock:
            now = self.clock()
            return self._took(_take(self.budgets, self.blocked_until, now, cost), now)

    def _took(self, taken: tuple[float, Booked | None], now: float) -> tuple[float, Booked | None]:
        """`taken`, remembering when a request was let go, for `observe` on this thread."""
        if taken[1] is not None:
            self.sent.at = now
        return taken

    def settle(self, booked: Booked) -> None:
        with self.lock:
            now = self.clock()
            for entry in booked:
                entry[0] = now

    def observe(self, headers: Mapping[str, str], status: int) -> None:
        """Learn limits and remaining budget from a response; honour Retry-After."""
        with self.lock:
            self.blocked_until = self.learn(self.budgets, self.blocked_until, headers, status)

    def learn(self, budgets: Mapping[str, Budget], blocked: float, headers: Mapping[str, str], status: int) -> float:
        """Sync `budgets` to the headers; when everything is blocked until now (given `blocked`)."""
        now = self.clock()
        sent = min(now, getattr(self.sent, "at", now))
        for suffix, budget in budgets.items():
            self._sync(budget, headers, suffix, now, sent)
        retry_after = retry_after_seconds(headers)
        if retry_after is not None or status == 429:
            return max(blocked, now + (retry_after or 0.0))
        return blocked

    def _sync(self, budget: Budget, headers: Mapping[str, str], suffix: str, now: float, sent: float) -> None:
        limit = _int(headers.get(f"{self.prefix}-Limit{suffix}"))
        remaining = _int(headers.get(f"{self.prefix}-Remaining{suffix}"))
        if limit is not None and remaining is not None:
            budget.sync(limit, remaining, now, sent)


class SharedRateLimiter(RateLimiter):
    """A `RateLimiter` whose budgets are the store's, shared by every worker with this token.

    Each step (`attempt`, `observe`) is one short transaction holding the row of the service and
    token: the budgets are read, decided on by the same code as a worker's own, and written back.
    """

    def __init__(
        self,
        rates: SharedRates,
        service: str,
        token: str,
        windows: Mapping[str, float] | None = None,
        prefix: str = "X-RateLimit",
        *,
        bucket: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(windows, prefix, bucket=bucket, clock=clock)
        self.rates = rates
        self.key = (service, token_key(service, token))

    def attempt(self, cost: int) -> tuple[float, Booked | None]:
        self.sent.answered = None  # an answer before this request is not its answer (`settle`)
        with self._held() as (held, budgets):
            now = self.clock()
            return self._took(_take(budgets, held.blocked_until, now, cost), now)

    def settle(self, booked: Booked) -> None:
        """A window's bookings move to when the answer came (a bucket's have nothing to move): not
        to now, which is later by `observe`'s turn at the shared row, a wait every unit would
        then sit idle for each window."""
        answered, self.sent.answered = getattr(self.sent, "answered", None), None
        stamp = self.clock() if answered is None else answered
        self.rates.restamp([entry for entry in booked if isinstance(entry, str)], stamp)

    def observe(self, headers: Mapping[str, str], status: int) -> None:
        self.sent.answered = self.clock()
        told = (self.prefix.lower(), "retry-after")
        if status != 429 and not any(name.lower().startswith(told) for name in headers):
            return  # nothing to learn: the shared row is left alone
        with self._held() as (held, budgets):
            held.blocked_until = self.learn(budgets, held.blocked_until, headers, status)

    @contextmanager
    def _held(self) -> Iterator[tuple[Held, dict[str, Budget]]]:
        """The shared budgets, locked; a bucket's level written back to its row at the end."""
        with self.rates.hold(self.key) as held:
            budgets = {suffix: self._budget(held, suffix, window) for suffix, window in self.windows.items()}
            yield held, budgets
            for suffix, budget in budgets.items():
                if isinstance(budget, _Bucket):
                    held.levels[suffix] = Level(budget.limit, budget.tokens, budget.at)

    def _budget(self, held: Held, suffix: str, window: float) -> Budget:
        level = held.level(suffix)
        if self.bucket:
            return _Bucket(window, level.capacity, level.level, level.at)
        return _SharedWindow(window, self.rates, held, suffix, level)


def _take(budgets: Mapping[str, Budget], blocked_until: float, now: float, cost: int) -> tuple[float, Booked | None]:
    """Book `cost` in every budget if it fits them all and nothing blocks; else the longest wait."""
    delay = max([blocked_until - now, *(budget.wait(now, cost) for budget in budgets.values())])
    if delay > 0:
        return delay, None
    return 0.0, [budget.book(now, float(cost)) for budget in budgets.values()]


def token_key(service: str, token: str) -> str:
    """What names a token in the store: a hash, salted with the service, never the token itself."""
    return hashlib.sha256(f"importer rate budget\0{service}\0{token}".encode()).hexdigest()[:32]


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
