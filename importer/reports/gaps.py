"""Gaps in what was imported: a month with no statement, a balance chain that does not join.

Each imported statement's opening and closing balance is kept per account in the store
(`Store.record_balances`), tied to the file it came from: `undo` of the run that imported the
file forgets them with it, so the warnings after an undo are those from before the run.

A statement's balances come from the file when it states them (OFX LEDGERBAL, a CSV profile's
opening/closing), else from the transactions' running balances, else are unknown; one known
end gives the other (opening + sum of amounts = closing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from importer.core.models import Statement, Transaction
from importer.store.base import Store
from importer.store.rows import now_iso


@dataclass(frozen=True)
class Gap:
    """Something the user should look at: `kind` is "missing-month" or "balance-chain"."""

    kind: str
    account: str
    message: str


def balances(statement: Statement) -> tuple[Decimal | None, Decimal | None]:
    """(opening, closing) of `statement`, derived as far as the file allows."""
    total = sum((t.amount for t in statement.transactions), Decimal(0))
    opening, closing = statement.opening_balance, statement.closing_balance
    if opening is None and closing is None:
        closing = chain_end(statement.transactions)
    if opening is None and closing is not None:
        opening = closing - total
    if closing is None and opening is not None:
        closing = opening + total
    return opening, closing


def chain_end(txns: Sequence[Transaction]) -> Decimal | None:
    """The running balance after the last transaction: the one balance no other transaction starts from.

    File order is no guide (some banks list newest first) and same-day order is unknown, so
    the chain is followed by value; when it is not a single chain the answer is None.
    """
    if not txns or any(t.balance is None for t in txns):
        return None
    after = {t.balance for t in txns}
    before = {t.balance - t.amount for t in txns if t.balance is not None}
    ends = after - before
    return ends.pop() if len(ends) == 1 else None


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of `month` (YYYY-MM)."""
    first = dt.date.fromisoformat(month + "-01")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def previous_month(day: dt.date) -> str:
    """YYYY-MM of the calendar month before `day`."""
    return (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


class BalanceBook:
    """The statements imported so far, per account, with their balances."""

    def __init__(self, state: Store) -> None:
        self.state = state

    def record(self, path: Path, statements: Sequence[Statement]) -> list[Gap]:
        """Check each statement against the previous one of its account, then remember it."""
        with path.open("rb") as data:  # in pieces: a million-line file read whole was the run's peak
            digest = hashlib.file_digest(data, "sha256").hexdigest()
        gaps = [gap for s in statements if (gap := self.chain_gap(s, digest)) is not None]
        self.state.record_balances([_row(s, digest) for s in statements])
        return gaps

    def chain_gap(self, statement: Statement, digest: str) -> Gap | None:
        """A gap when `statement` does not join the account's statement before it or after it.

        Both neighbours are checked because files arrive in any order: November imported before
        October is caught when October arrives.
        """
        opening, closing = balances(statement)
        start, end = _dates(statement)
        if start is not None and opening is not None:
            before = self.state.balance_neighbour(statement.account, digest, start, before=True)
            if before is not None and Decimal(before[3]) != opening:
                return _chain_gap(
                    statement.account, (statement.path, opening, start), (before[0], before[3], before[2])
                )
        if end is not None and closing is not None:
            after = self.state.balance_neighbour(statement.account, digest, end, before=False)
            if after is not None and Decimal(after[4]) != closing:
                return _chain_gap(statement.account, (after[0], after[4], after[1]), (statement.path, closing, end))
        return None

    def covers(self, account: str, month: str) -> bool:
        """Whether `account` has a transaction in `month`, or a statement spanning its middle.

        The middle, not any overlap: an OFX statement for October often runs to 1 November, and
        that day alone is no November statement.
        """
        first, last = month_bounds(month)
        middle = first.replace(day=15)
        return self.state.statement_spans(account, middle) or self.state.has_transaction_between(account, first, last)

    def accounts_from(self, paths: Sequence[Path]) -> set[str]:
        """The accounts of the statements recorded from files at `paths`."""
        return self.state.statement_accounts([str(p) for p in paths])


def _chain_gap(account: str, later: tuple[str, object, object], earlier: tuple[str, object, object]) -> Gap:
    """`later` (path, opening, start) does not open where `earlier` (path, closing, end) closed."""
    return Gap(
        "balance-chain",
        account,
        (
            f"account {account}: {later[0]} opens at {later[1]} on {later[2]}, but {earlier[0]} "
            f"closed at {earlier[1]} on {earlier[2]}; a statement between them may be missing."
        ),
    )


def _dates(statement: Statement) -> tuple[dt.date | None, dt.date | None]:
    days = [t.date for t in statement.transactions]
    return statement.start_date or min(days, default=None), statement.end_date or max(days, default=None)


def missing_month(account: str, month: str) -> Gap:
    return Gap(
        "missing-month",
        account,
        (
            f"account {account}: no statement covers {month}. Download that month's export from the bank "
            f"and import it (or drop it into the inbox)."
        ),
    )


def _row(statement: Statement, digest: str) -> tuple[object, ...]:
    opening, closing = balances(statement)
    start, end = _dates(statement)
    return (
        statement.account,
        digest,
        statement.path,
        statement.currency,
        None if start is None else start.isoformat(),
        None if end is None else end.isoformat(),
        None if opening is None else str(opening),
        None if closing is None else str(closing),
        now_iso(),
    )
