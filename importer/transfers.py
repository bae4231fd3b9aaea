"""Own-account transfers: the two legs of money moved between two of the user's accounts.

Imported on their own, a transfer from checking to savings looks like an expense in one account
and an income in the other.  When both legs are stored (from one file, two files, or two runs),
they are paired: both get `transfer_to` (the other leg's account) and one `pair_id`, in the
stored records and in the local ledger, whose `ledger_book` view shows the pair as one transfer.

Two stored lines are legs of one transfer when they are in different accounts (both known to the
importer, hence the user's), in the same currency, for opposite amounts, dated within
`window_days`, neither already paired, and something says "transfer": a rule pointed one at the
other's account (`transfer_to` / `target_account`), or a description uses a transfer word.
The nearest date wins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence

from importer.models import Transaction
from importer.state import TXN_COLUMNS, State, transaction_from_row

TRANSFER_WORDS = re.compile(
    r"transfer|\bxfer\b|\btrf\b|umbuchung|übertrag|virement|overboeking|to savings|from savings|to checking|from checking",
    re.IGNORECASE,
)


def pair_id(a: str, b: str) -> str:
    """The same two legs always give the same pair id."""
    return "t:" + hashlib.sha256("|".join(sorted((a, b))).encode()).hexdigest()[:16]


def looks_like_transfer(txn: Transaction, other: Transaction) -> bool:
    hinted = {txn.transfer_to, txn.target_account} & {other.account} or {other.transfer_to, other.target_account} & {txn.account}
    return bool(hinted) or any(TRANSFER_WORDS.search(t.description) for t in (txn, other))


def pair_transfers(state: State, txns: Sequence[Transaction], window_days: int = 3) -> list[Transaction]:
    """Pair each of `txns` (just stored) with its other leg where one is stored; returns `txns`
    with `transfer_to` set on the paired ones."""
    for txn in txns:
        other = _other_leg(state, txn, window_days)
        if other is not None:
            _pair(state, txn, other)
    return _with_pairs(state, txns)


def _with_pairs(state: State, txns: Sequence[Transaction]) -> list[Transaction]:
    """`txns` with the `transfer_to` of those paired now or by an earlier run."""
    paired: dict[str, str] = {}
    ids = [t.external_id or "" for t in txns]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = state.db.execute(
            f"SELECT external_id, transfer_to FROM transactions WHERE pair_id IS NOT NULL "
            f"AND external_id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        paired.update(rows)
    return [t.model_copy(update={"transfer_to": paired[t.external_id or ""]}) if t.external_id in paired else t for t in txns]


def _other_leg(state: State, txn: Transaction, window_days: int) -> Transaction | None:
    if not txn.amount:
        return None
    window = dt.timedelta(days=window_days)
    rows = state.db.execute(
        f"SELECT {TXN_COLUMNS} FROM transactions WHERE account <> ? AND currency = ? AND date BETWEEN ? AND ? "
        "AND pair_id IS NULL AND status = 'ok' AND external_id <> ? "
        "AND NOT EXISTS (SELECT 1 FROM transactions WHERE external_id = ? AND pair_id IS NOT NULL)",
        (txn.account, txn.currency, (txn.date - window).isoformat(), (txn.date + window).isoformat(),
         txn.external_id, txn.external_id),
    )  # fmt: skip
    legs = [t for t in map(transaction_from_row, rows) if t.amount == -txn.amount and looks_like_transfer(txn, t)]
    return min(legs, key=lambda t: (abs((t.date - txn.date).days), t.external_id or ""), default=None)


def _pair(state: State, a: Transaction, b: Transaction) -> None:
    """Both legs, stored and in the ledger, name each other (one transaction)."""
    pid = pair_id(a.external_id or "", b.external_id or "")
    with state.transaction() as db:
        for leg, other in ((a, b), (b, a)):
            for table in ("transactions", "ledger"):
                db.execute(
                    f"UPDATE {table} SET pair_id = ?, transfer_to = coalesce(transfer_to, ?) WHERE external_id = ?",
                    (pid, other.account, leg.external_id),
                )
