"""The API rate budget in the state, shared by every worker uploading with one token.

Two workers sending to one service with one token spend one budget: each keeping its own count
(importer/targets/limits.py's `RateLimiter`) would together send twice what the server allows.
So on a shared state the budget lives in three tables (migration 9), one set of rows per service
and token (a hash of it: the token itself is never stored):

    rate_limits    (service, token) → blocked_until      the row a worker locks to take from the
                                                         budget; a Retry-After pauses everyone
    rate_budgets   … budget → capacity, level, at        per advertised limit: a token bucket's
                                                         level at `refilled_at`, or a window's total
    rate_spent     booking → stamp, cost                 a window's log, aged out as it passes

`SharedRates.hold` is one short transaction on a connection of its own (the file's transaction
may be open on the store's main one and must neither wait for the budget nor carry it): it locks
the `rate_limits` row (PostgreSQL: `SELECT ... FOR UPDATE`; SQLite: `BEGIN IMMEDIATE` locks the
file), reads the state, lets the limiter decide, writes the state back and commits.  What a
budget's numbers mean, and the decisions, are the limiter's; here is only where they are kept.
Times are the callers' clock (wall time, so that processes on several machines agree).

A database error on that connection (the server restarted, the session was ended, a table is
missing) is the state's failure, not the upload's: it leaves here as a `StateError` naming the
state (its password masked) and what to do, never as the driver's exception.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from importer.config.state_location import PgUrl, mask
from importer.core.errors import StateError
from importer.store.sqlbase import Db, SqlBase, marks

Key = tuple[str, str]  # (service, hash of the token)

# The token's row, locked; then its budgets' rows.  Two statements, not one join: under READ
# COMMITTED a join that waited for the lock returns the locked row as now but the joined rows as
# they were when it began, before the worker it waited for wrote them.
_LOCK = "SELECT blocked_until FROM rate_limits WHERE service = ? AND token = ?"
_LEVELS = "SELECT budget, capacity, level, refilled_at, oldest FROM rate_budgets WHERE service = ? AND token = ?"
_SAVE = (
    "INSERT INTO rate_budgets (service, token, budget, capacity, level, refilled_at, oldest) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (service, token, budget) DO UPDATE SET capacity = excluded.capacity, "
    "level = excluded.level, refilled_at = excluded.refilled_at, oldest = excluded.oldest"
)
_AGED = "DELETE FROM rate_spent WHERE service = ? AND token = ? AND budget = ? AND stamp <= ? RETURNING cost"
_OLDEST = "SELECT min(stamp) FROM rate_spent WHERE service = ? AND token = ? AND budget = ?"
_LOG = "SELECT stamp, cost FROM rate_spent WHERE service = ? AND token = ? AND budget = ? ORDER BY stamp"
_BOOK = "INSERT INTO rate_spent (booking, service, token, budget, stamp, cost) VALUES (?, ?, ?, ?, ?, ?)"


@dataclass
class Level:
    """One advertised limit as stored: its capacity (None until a response said it), a bucket's
    tokens at `at` or a window's total spent, and no later than its log's oldest stamp (None: an
    empty log), so that a log with nothing to age out is not asked to (restamps only move later)."""

    capacity: int | None = None
    level: float = 0.0
    at: float = 0.0
    oldest: float | None = None


@dataclass
class Held:
    """The budget of one service and token, read under its lock; changed in place, then saved
    (what changed only: most answers change nothing)."""

    key: Key
    blocked_until: float
    levels: dict[str, Level] = field(default_factory=dict)
    read: tuple[float, dict[str, Level]] = (0.0, {})  # as read, to save only what changed
    booked: list[tuple[object, ...]] = field(default_factory=list)  # bookings to insert

    def level(self, budget: str) -> Level:
        return self.levels.setdefault(budget, Level())


class SharedRates:
    """The rate budgets of a shared state, on a connection of their own (`db`)."""

    _BEGIN: ClassVar[str] = "BEGIN"
    _FOR_UPDATE: ClassVar[str] = " FOR UPDATE"

    def __init__(self, db: Db, where: Path | PgUrl, errors: tuple[type[Exception], ...]) -> None:
        """`where`: the state, for messages; `errors`: what the engine raises for a database error."""
        self.db = db
        self.where = where
        self.errors = errors
        self.lock = threading.Lock()  # one connection: this process's threads take turns on it

    @contextmanager
    def hold(self, key: Key) -> Iterator[Held]:
        """The budget of `key`, locked against every other worker until the block ends (saved then)."""
        with self.lock, self._translated():
            self.db.execute(self._BEGIN)
            try:
                held = self._read(key)
                yield held
                self._save(held)
            except BaseException:
                with suppress(*self.errors):  # a connection the server ended cannot roll back: it is gone
                    self.db.rollback()
                raise
            self.db.commit()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The engine's errors inside the block as a `StateError`: the user's message, not a traceback."""
        try:
            yield
        except self.errors as exc:
            raise budget_failed(self.where, exc) from None

    def _read(self, key: Key) -> Held:
        row = self.db.execute(_LOCK + self._FOR_UPDATE, key).fetchone()
        if row is None:  # the token's first use: its row, then as above
            self.db.execute("INSERT INTO rate_limits (service, token) VALUES (?, ?) ON CONFLICT DO NOTHING", key)
            row = self.db.execute(_LOCK + self._FOR_UPDATE, key).fetchone()
        held = Held(key, float(row[0]))
        for budget, capacity, level, at, oldest in self.db.execute(_LEVELS, key).fetchall():
            held.levels[budget] = Level(capacity, float(level), float(at), None if oldest is None else float(oldest))
        held.read = (held.blocked_until, {budget: replace(level) for budget, level in held.levels.items()})
        return held

    def _save(self, held: Held) -> None:
        self._insert_booked(held)
        blocked, levels = held.read
        if held.blocked_until != blocked:
            update = "UPDATE rate_limits SET blocked_until = ? WHERE service = ? AND token = ?"
            self.db.execute(update, (held.blocked_until, *held.key))
        rows = [
            (*held.key, b, v.capacity, v.level, v.at, v.oldest) for b, v in held.levels.items() if levels.get(b) != v
        ]
        if rows:
            self.db.executemany(_SAVE, rows)

    def _insert_booked(self, held: Held) -> None:
        if held.booked:
            self.db.executemany(_BOOK, held.booked)
            held.booked.clear()

    def age(self, held: Held, budget: str, before: float) -> float:
        """Forget the log's bookings stamped at or before `before`; what they cost together."""
        level = held.level(budget)
        if level.oldest is None or level.oldest > before:
            return 0.0
        self._insert_booked(held)
        removed = sum(float(cost) for (cost,) in self.db.execute(_AGED, (*held.key, budget, before)).fetchall())
        oldest = self.db.execute(_OLDEST, (*held.key, budget)).fetchone()[0]
        level.oldest = None if oldest is None else float(oldest)
        return removed

    def log(self, held: Held, budget: str) -> Iterator[tuple[float, float]]:
        """The log of a window, oldest first: (stamp, cost)."""
        self._insert_booked(held)
        for stamp, cost in self.db.execute(_LOG, (*held.key, budget)).fetchall():
            yield float(stamp), float(cost)

    def book(self, held: Held, budget: str, stamp: float, cost: float) -> str:
        """Add a booking to the window's log (written when the hold ends); its id, to `restamp` it."""
        booking = uuid.uuid4().hex
        held.booked.append((booking, *held.key, budget, stamp, cost))
        level = held.level(budget)
        level.oldest = stamp if level.oldest is None else min(level.oldest, stamp)
        return booking

    def restamp(self, bookings: list[str], stamp: float) -> None:
        """Move bookings to `stamp` (when the server answered), each on its own: no lock needed."""
        if bookings:
            with self.lock, self._translated():
                self.db.execute(
                    f"UPDATE rate_spent SET stamp = ? WHERE booking IN ({marks(len(bookings))})", (stamp, *bookings)
                )

    def close(self) -> None:
        with suppress(*self.errors):  # closing a connection the server already ended
            self.db.close()


def budget_failed(where: Path | PgUrl, exc: Exception) -> StateError:
    """The error for a database failure at the shared budget: the state named (never its
    password), the engine's reason, and what to do."""
    reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]  # the driver's first line: the cause
    reason = mask(reason, where) if isinstance(where, PgUrl) else reason
    return StateError(
        f"cannot use the API rate budget kept in the state database {where}: {reason}. The upload stopped "
        "there. Check that the database server is running and reachable and that every worker runs the same "
        "importer version, then run again: what was stored is kept, and the next run sends what was not sent "
        "(a batch whose answer was not recorded is first checked with the service)."
    )


class SqliteRates(SharedRates):
    """On SQLite: `BEGIN IMMEDIATE` takes the file's write lock, which is the row's lock too."""

    _BEGIN = "BEGIN IMMEDIATE"
    _FOR_UPDATE = ""

    def __init__(self, path: Path) -> None:
        # Threads of the uploader's pool call in turn (under `lock`), hence check_same_thread.
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        super().__init__(db, path, (sqlite3.Error,))
        # A budget lost to a power cut is relearnt from the next answer's headers: no sync per commit.
        self.db.execute("PRAGMA synchronous=OFF")


class BudgetSql(SqlBase):
    """The store's side: `shared_rates`, the budget its workers share, opened when first asked for.

    A state only one process uses at a time (SQLite: its run lock) has none: the limiter's own
    count is the whole truth there, at no cost.  A shared one (PostgreSQL) overrides it."""

    _rates: SharedRates | None = None

    def shared_rates(self) -> SharedRates | None:
        return None

    def open_rates(self) -> SharedRates:
        """A new handle on the state's budget tables, on its own connection (tests, a shared state)."""
        raise NotImplementedError

    def close(self) -> None:
        if self._rates is not None:
            self._rates.close()
            self._rates = None
        super().close()
