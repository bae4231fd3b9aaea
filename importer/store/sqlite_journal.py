"""The upload journal, what targets accepted, and the local ledger, in SQLite.

importer/run/journal.py owns the crash protocol (pending before sent, done with the remote ids
after); importer/targets/local.py owns what the embedded ledger promises.  Here is only how each
step is written.  Each method is atomic on its own and joins a transaction the caller holds, so
the journal can land a ledger batch, record it and mark it accepted as one unit.

Each transaction is written once (migration 7): a batch row holds its external ids only while it
is pending (what reconciling needs), and how many were confirmed once done; what the local ledger
holds is the stored row's `ledger_run`, so "accepted by local" is that mark, not another row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from importer.core.models import Outcome, Transaction, UploadResult
from importer.store.base import LEDGER_TARGET
from importer.store.rows import ASSIGN_ROW, TXN_COLUMNS, assigned_row, now_iso, transaction_from_row, transaction_row
from importer.store.sqlbase import BY_ID, NEXT_ID, SqlBase, by_id, marks

# Numbered as SQLite numbers rows, the highest plus one, on both engines (sqlbase.NEXT_ID).
_BATCH = (
    "INSERT INTO batches (id, target, key, run_id, size, created_at, status, finished_at, external_ids, confirmed) "
    f"SELECT {NEXT_ID}, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM batches RETURNING id"
)
_FINISH = "UPDATE batches SET status = ?, finished_at = ?, confirmed = ?, external_ids = NULL WHERE id = ?"
_IDS_SEPARATOR = "\n"  # external ids never hold a line break (importer/ids/recipe.py: hex digests)
# Landing marks the stored row: the ledger shows it with its pair, as it is the same row.
_LAND = f"UPDATE transactions SET ledger_run = ? WHERE {BY_ID} AND ledger_run IS NULL"
_UPDATE_LEDGER = f"UPDATE transactions SET {ASSIGN_ROW} WHERE {BY_ID} AND ledger_run IS NOT NULL"
# A record landed that was never stored (a target's tests, a caller outside the pipeline): stored
# as it is, without a file, so the ledger can show it.
_STORE_MISSING = (
    f"INSERT INTO transactions ({TXN_COLUMNS}, run_id, id_key) "
    f"VALUES ({marks(len(TXN_COLUMNS.split(', ')) + 1)}, id_key(?)) "
    "ON CONFLICT DO NOTHING"
)


class JournalSql(SqlBase):
    """Batches, accepted records and the local ledger."""

    # the journal ------------------------------------------------------------------------------

    def begin_batch(self, target: str, key: str, run_id: int, external_ids: Sequence[str], done: bool = False) -> int:
        """Journal a batch as pending, or as done with the external ids as remote ids; returns its id."""
        now, size = now_iso(), len(external_ids)
        ids = None if done else _IDS_SEPARATOR.join(external_ids)
        row = (
            target,
            key,
            run_id,
            size,
            now,
            "done" if done else "pending",
            now if done else None,
            ids,
            size if done else None,
        )
        with self.transaction():
            return int(self.db.execute(_BATCH, row).fetchone()[0])

    def finish_batch(
        self, target: str, batch_id: int, results: Sequence[UploadResult], run_id: int, status: str
    ) -> None:
        """Close batch `batch_id` as `status`, with the remote ids and the accepted records, atomically."""
        confirmed = sum(r.outcome is not Outcome.REJECTED for r in results)
        with self.transaction():
            self.mark_accepted(target, results, run_id)
            self.db.execute(_FINISH, (status, now_iso(), confirmed, batch_id))

    def fail_batch(self, batch_id: int, status: str, error: str) -> None:
        """Close batch `batch_id` as `failed` (nothing landed), or leave it `pending` with the error."""
        with self.transaction():
            self.db.execute(
                "UPDATE batches SET status = ?, error = ?, finished_at = ? WHERE id = ?",
                (status, error, now_iso(), batch_id),
            )

    def pending_batches(self, target: str) -> list[tuple[int, str, tuple[str, ...]]]:
        """(id, key, external ids in order) of `target`'s batches still pending, oldest first."""
        query = "SELECT id, key, external_ids FROM batches WHERE target = ? AND status = 'pending' ORDER BY id"
        rows = self.db.execute(query, (target,)).fetchall()
        return [(batch_id, key, tuple(ids.split(_IDS_SEPARATOR)) if ids else ()) for batch_id, key, ids in rows]

    def transactions_by_id(self, external_ids: Iterable[str]) -> dict[str, Transaction]:
        """The stored transactions among `external_ids`, by external id."""
        rows = self.stored_for(f"SELECT {TXN_COLUMNS} FROM transaction_rows WHERE {{}}", external_ids)
        return {t.external_id or "": t for t in map(transaction_from_row, rows)}

    # what targets accepted ----------------------------------------------------------------------

    def accepted_ids(self, target: str, external_ids: Iterable[str]) -> set[str]:
        """The subset of `external_ids` that `target` has already confirmed."""
        if target == LEDGER_TARGET:
            return self.ledger_ids(external_ids)
        query = "SELECT external_id FROM accepted WHERE target = ? AND external_id IN ({})"
        return {row[0] for row in self.rows_for(query, external_ids, target)}

    def mark_accepted(self, target: str, results: Iterable[UploadResult], run_id: int) -> None:
        """Record confirmed records; a duplicate the target already held counts as confirmed too."""
        confirmed = [r for r in results if r.outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE)]
        if target == LEDGER_TARGET:  # the ledger's record is the stored row: mark it landed
            with self.transaction():
                self.db.executemany(_LAND, [(run_id, *by_id(r.external_id)) for r in confirmed])
            return
        accepted_at = now_iso()
        rows = [(target, r.external_id, r.remote_id, run_id, accepted_at) for r in confirmed]
        with self.transaction():
            self.db.executemany("INSERT INTO accepted VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)

    # the local ledger -------------------------------------------------------------------------

    def ledger_ids(self, external_ids: Iterable[str]) -> set[str]:
        """The subset of `external_ids` already in the ledger."""
        query = "SELECT external_id FROM transactions WHERE ledger_run IS NOT NULL AND {}"
        return {row[0] for row in self.stored_for(query, external_ids)}

    def add_to_ledger(self, txns: Sequence[Transaction], run_id: int) -> None:
        """Land `txns` in the ledger (one already there stays as it was, with the run that landed
        it): their stored records, marked.  A record not stored is stored first, under `run_id`."""
        with self.transaction():
            stored = self.db.executemany(_STORE_MISSING, ((*transaction_row(t), run_id, t.external_id) for t in txns))
            if stored.rowcount < len(txns):
                self.refuse_collisions([t.external_id for t in txns if t.external_id], "the ledger")
            self.db.executemany(_LAND, [(run_id, *by_id(t.external_id)) for t in txns if t.external_id])

    def update_in_ledger(self, txns: Sequence[Transaction]) -> None:
        """Replace the ledger's records of `txns` (held there) with these values: the stored
        records, which are the ledger's."""
        with self.transaction():
            self.db.executemany(_UPDATE_LEDGER, ((*assigned_row(t), *by_id(t.external_id)) for t in txns))

    def delete_from_ledger(self, external_ids: Sequence[str]) -> None:
        """Remove these records from the ledger (the stored records stay, no longer landed)."""
        with self.transaction():
            self.db.executemany(
                f"UPDATE transactions SET ledger_run = NULL WHERE {BY_ID}", [by_id(i) for i in external_ids]
            )
