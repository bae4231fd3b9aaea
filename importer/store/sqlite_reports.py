"""What the reports read: statement balances (importer/reports/gaps.py) and spending
(importer/reports/spending.py), in SQLite.

The reports own what counts (a gap, spending); here is only how it is fetched and recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from importer.core.errors import StateError
from importer.store.base import Balance
from importer.store.sqlbase import SqlBase, marks

_BALANCES = (
    "INSERT INTO statement_balances (account, file_sha256, path, currency, start_date, end_date, opening, closing, "
    "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, file_sha256) DO UPDATE SET "
    "path = excluded.path, currency = excluded.currency, start_date = excluded.start_date, "
    "end_date = excluded.end_date, opening = excluded.opening, closing = excluded.closing, "
    "recorded_at = excluded.recorded_at"
)
_NEIGHBOUR = (
    "SELECT path, start_date, end_date, closing, opening FROM statement_balances WHERE account = ? "
    "AND file_sha256 <> ? AND opening IS NOT NULL AND closing IS NOT NULL AND {where}"
)
_BEFORE = "end_date <= ? ORDER BY end_date DESC"
_AFTER = "start_date >= ? ORDER BY start_date"
# What counts as spending: importer/reports/spending.py says why each kind of line is left out.
_SPENDING = (
    "SELECT currency, substr(date, 1, 7), category, amount FROM transactions "
    "WHERE status = 'ok' AND pair_id IS NULL AND transfer_to IS NULL "
    "AND NOT (coalesce(category, '') = 'Transfer' OR coalesce(category, '') LIKE 'Transfer:%')"
)


class ReportsSql(SqlBase):
    """The `statement_balances` table, and sums over the stored transactions."""

    def record_balances(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Remember (account, file sha256, path, currency, start, end, opening, closing, recorded
        at) per statement; a statement recorded before is replaced."""
        with self._balances("record statement balances"), self.transaction():
            self.db.executemany(_BALANCES, rows)

    def balance_neighbour(self, account: str, digest: str, day: dt.date, before: bool) -> Balance | None:
        """The nearest statement of `account` from another file than `digest`, with both balances
        known, ending on or before `day` (`before`) or starting on or after it."""
        query = _NEIGHBOUR.format(where=_BEFORE if before else _AFTER)
        with self._balances("read statement balances"):
            row = self.db.execute(query + " LIMIT 1", (account, digest, day.isoformat())).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]))

    def statement_spans(self, account: str, day: dt.date) -> bool:
        """Whether a recorded statement of `account` runs over `day`."""
        query = "SELECT 1 FROM statement_balances WHERE account = ? AND start_date <= ? AND end_date >= ? LIMIT 1"
        return self.db.execute(query, (account, day.isoformat(), day.isoformat())).fetchone() is not None

    def has_transaction_between(self, account: str, first: dt.date, last: dt.date) -> bool:
        """Whether a transaction of `account` dated from `first` to `last` is stored."""
        query = "SELECT 1 FROM transactions WHERE account = ? AND date BETWEEN ? AND ? LIMIT 1"
        return self.db.execute(query, (account, first.isoformat(), last.isoformat())).fetchone() is not None

    def statement_accounts(self, paths: Sequence[str]) -> set[str]:
        """The accounts of the statements recorded from files at `paths`."""
        if not paths:  # `IN ()` is no standard SQL
            return set()
        query = f"SELECT DISTINCT account FROM statement_balances WHERE path IN ({marks(len(paths))})"
        return {row[0] for row in self.db.execute(query, list(paths))}

    @contextmanager
    def _balances(self, doing: str) -> Iterator[None]:
        """A database error as a StateError: a balance record lost only weakens a warning, and the
        routine says so and goes on (importer/run/routine.py)."""
        try:
            yield
        except self.database_errors as exc:
            raise StateError(f"cannot {doing} in {self.path}: {exc}") from None

    def spending_rows(self) -> Iterator[tuple[str, str, str | None, str]]:
        """(currency, month YYYY-MM, category, amount as decimal text) of every stored line that is spending."""
        yield from self.db.execute(_SPENDING)
