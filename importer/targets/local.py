"""The embedded default target: a ledger table inside the state database.

A batch is written in one SQLite transaction and the ledger is keyed by external id, so a run
killed at any point leaves each transaction in the ledger exactly once or not at all; a batch
sent again after such a kill answers "duplicate" for what already landed.  Because the ledger
lives in the state database, it declares `Ability.IN_STATE`: the upload journal writes a batch,
its record and what was accepted in that same transaction (`write_in_state`), with nothing pending in
between.  Otherwise it is a target like the others: `undo` removes its records through `delete`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from importer.config.settings import TargetSettings
from importer.core.models import Outcome, Transaction, UploadResult
from importer.store.sqlite import TXN_COLUMNS, State, now_iso, transaction_row
from importer.targets.base import Ability, Target, not_held

_INSERT = f"INSERT OR IGNORE INTO ledger ({TXN_COLUMNS}, run_id, stored_at) VALUES ({', '.join('?' * (len(TXN_COLUMNS.split(',')) + 2))})"
_UPDATE = f"UPDATE ledger SET ({TXN_COLUMNS}) = ({', '.join('?' * len(TXN_COLUMNS.split(',')))}) WHERE external_id = ?"


class LocalLedger(Target):
    """Stores transactions in the `ledger` table of the state file."""

    name = "local"
    batch_size = 5000
    idempotent = True  # keyed by external id: a batch sent twice lands once
    abilities = frozenset({Ability.IN_STATE, Ability.LOOKUP, Ability.UPDATE, Ability.DELETE})

    def __init__(self, state: State, run_id: int = 0, settings: TargetSettings | None = None) -> None:
        self.state = state
        self.run_id = run_id

    def send(self, batch: Sequence[Transaction], idempotency_key: str = "") -> list[UploadResult]:
        with self.state.transaction() as db:
            return self.write_in_state(db, batch)

    def write_in_state(self, db: sqlite3.Connection, batch: Sequence[Transaction]) -> list[UploadResult]:
        """`send` inside a transaction the caller holds (it commits nothing)."""
        # One lookup and one executemany instead of a statement per record: what was already
        # in the ledger (or earlier in this batch) answers "duplicate", as INSERT OR IGNORE would.
        fresh = self._fresh(batch)
        stored_at = now_iso()
        db.executemany(_INSERT, ((*transaction_row(t), self.run_id, stored_at) for t in batch))
        # A paired transfer leg carries its pair into the ledger (see importer/dedupe/transfers.py).
        db.executemany(
            "UPDATE ledger SET pair_id = (SELECT pair_id FROM transactions t WHERE t.external_id = ledger.external_id) "
            "WHERE external_id = ?",
            [(ext,) for ext in self._unpaired(batch)],
        )
        return [
            UploadResult(external_id=t.external_id or "", outcome=outcome, remote_id=t.external_id)
            for t, outcome in zip(batch, fresh)
        ]

    def _unpaired(self, batch: Sequence[Transaction]) -> list[str]:
        """The batch's ledger rows whose pair differs from the stored record's (most have none):
        only they need the UPDATE, which costs as much per row as the insert."""
        query = ("SELECT l.external_id FROM ledger l LEFT JOIN transactions t ON t.external_id = l.external_id "
                 "WHERE l.external_id IN ({}) AND l.pair_id IS NOT t.pair_id")  # fmt: skip
        return [row[0] for row in self.state.rows_for(query, [t.external_id for t in batch if t.external_id])]

    def _fresh(self, batch: Sequence[Transaction]) -> list[Outcome]:
        """Per record: ACCEPTED if inserting it will add a row, DUPLICATE if its id is already there."""
        held = set(self.lookup(batch))
        outcomes: list[Outcome] = []
        for txn in batch:
            ext = txn.external_id
            outcomes.append(Outcome.DUPLICATE if ext is not None and ext in held else Outcome.ACCEPTED)
            if ext is not None:  # SQLite keys NULLs as distinct, so only real ids can repeat
                held.add(ext)
        return outcomes

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        query = "SELECT external_id FROM ledger WHERE external_id IN ({})"
        return {row[0]: row[0] for row in self.state.rows_for(query, [t.external_id for t in txns if t.external_id])}

    def update(self, txns: Sequence[Transaction]) -> list[UploadResult]:
        held = self.lookup(txns)
        with self.state.transaction() as db:
            db.executemany(_UPDATE, ((*transaction_row(t), t.external_id) for t in txns if t.external_id in held))
        return [_updated(t) if t.external_id in held else not_held(self.name, t) for t in txns]

    def delete(self, remote_ids: Sequence[str]) -> None:
        with self.state.transaction() as db:
            db.executemany("DELETE FROM ledger WHERE external_id = ?", [(i,) for i in remote_ids])

    def close(self) -> None:
        """Nothing to release: the state owns the connection."""


def _updated(txn: Transaction) -> UploadResult:
    return UploadResult(external_id=txn.external_id or "", outcome=Outcome.ACCEPTED, remote_id=txn.external_id)
