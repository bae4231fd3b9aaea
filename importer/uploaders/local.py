"""The embedded default target: a ledger table inside the state database.

A batch is written in one SQLite transaction and the ledger is keyed by external id, so a run
killed at any point leaves each transaction in the ledger exactly once or not at all; a batch
sent again after such a kill answers "duplicate" for what already landed.
"""

from __future__ import annotations

from collections.abc import Sequence

from importer.config import TargetSettings
from importer.models import Outcome, Transaction, UploadResult
from importer.state import TXN_COLUMNS, State, now_iso, transaction_row


class LocalLedger:
    """Stores transactions in the `ledger` table of the state file."""

    name = "local"
    batch_size = 5000
    idempotent = True  # keyed by external id: a batch sent twice lands once

    def __init__(self, state: State, run_id: int = 0, settings: TargetSettings | None = None) -> None:
        self.state = state
        self.run_id = run_id

    def send(self, batch: Sequence[Transaction], idempotency_key: str = "") -> list[UploadResult]:
        marks = ", ".join("?" * (len(TXN_COLUMNS.split(",")) + 2))
        results: list[UploadResult] = []
        with self.state.transaction() as db:
            for txn in batch:
                cursor = db.execute(
                    f"INSERT OR IGNORE INTO ledger ({TXN_COLUMNS}, run_id, stored_at) VALUES ({marks})",
                    (*transaction_row(txn), self.run_id, now_iso()),
                )
                outcome = Outcome.ACCEPTED if cursor.rowcount == 1 else Outcome.DUPLICATE
                results.append(UploadResult(external_id=txn.external_id or "", outcome=outcome, remote_id=txn.external_id))
            # A paired transfer leg carries its pair into the ledger (see importer/transfers.py).
            db.executemany(
                "UPDATE ledger SET pair_id = (SELECT pair_id FROM transactions t WHERE t.external_id = ledger.external_id) "
                "WHERE external_id = ?",
                [(t.external_id,) for t in batch],
            )
        return results

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        ids = [t.external_id for t in txns if t.external_id]
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.state.db.execute(f"SELECT external_id FROM ledger WHERE external_id IN ({marks})", chunk)
            found.update((row[0], row[0]) for row in rows)
        return found

    def delete(self, remote_ids: Sequence[str]) -> None:
        with self.state.transaction() as db:
            db.executemany("DELETE FROM ledger WHERE external_id = ?", [(i,) for i in remote_ids])

    def close(self) -> None:
        """Nothing to release: the state owns the connection."""
