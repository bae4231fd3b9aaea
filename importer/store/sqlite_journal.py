"""The upload journal, what targets accepted, and the local ledger, in SQLite.

importer/run/journal.py owns the crash protocol (pending before sent, done with the remote ids
after); importer/targets/local.py owns what the embedded ledger promises.  Here is only how each
step is written.  Each method is atomic on its own and joins a transaction the caller holds, so
the journal can land a ledger batch, record it and mark it accepted as one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from importer.core.models import Outcome, Transaction, UploadResult
from importer.store.connection import SqliteBase, marks
from importer.store.rows import TXN_COLUMNS, now_iso, transaction_from_row, transaction_row

_BATCH = "INSERT INTO batches (target, key, run_id, size, created_at, status, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
_ITEM = "INSERT INTO batch_items (batch_id, position, external_id, remote_id) VALUES (?, ?, ?, ?)"
_LEDGER = (
    f"INSERT INTO ledger ({TXN_COLUMNS}, run_id, stored_at) VALUES ({marks(len(TXN_COLUMNS.split(', ')) + 2)}) "
    "ON CONFLICT (external_id) DO NOTHING"
)
# Ledger rows whose pair differs from the stored record's (most have none): only they need the
# pair copied, which costs as much per row as the insert.
_UNPAIRED = (
    "SELECT l.external_id FROM ledger l LEFT JOIN transactions t ON t.external_id = l.external_id "
    "WHERE l.external_id IN ({}) AND coalesce(l.pair_id, '') <> coalesce(t.pair_id, '')"
)
_COPY_PAIR = (
    "UPDATE ledger SET pair_id = (SELECT pair_id FROM transactions t WHERE t.external_id = ledger.external_id) "
    "WHERE external_id = ?"
)


_UPDATE_LEDGER = f"UPDATE ledger SET ({TXN_COLUMNS}) = ({marks(len(TXN_COLUMNS.split(', ')))}) WHERE external_id = ?"


class JournalSql(SqliteBase):
    """Batches, accepted records and the `ledger` table."""

    # the journal ------------------------------------------------------------------------------

    def begin_batch(self, target: str, key: str, run_id: int, external_ids: Sequence[str], done: bool = False) -> int:
        """Journal a batch as pending, or as done with the external ids as remote ids; returns its id."""
        now = now_iso()
        row = (target, key, run_id, len(external_ids), now, "done" if done else "pending", now if done else None)
        with self.transaction():
            batch_id = int(self.db.execute(_BATCH, row).lastrowid or 0)
            items = [(batch_id, n, ext, ext if done else None) for n, ext in enumerate(external_ids)]
            self.db.executemany(_ITEM, items)
        return batch_id

    def finish_batch(self, target: str, batch_id: int, results: Sequence[UploadResult], run_id: int, status: str) -> None:
        """Close batch `batch_id` as `status`, with the remote ids and the accepted records, atomically."""
        updates = [(r.remote_id, batch_id, r.external_id) for r in results if r.outcome is not Outcome.REJECTED]
        with self.transaction():
            self.mark_accepted(target, results, run_id)
            self.db.executemany("UPDATE batch_items SET remote_id = ? WHERE batch_id = ? AND external_id = ?", updates)
            self.db.execute("UPDATE batches SET status = ?, finished_at = ? WHERE id = ?", (status, now_iso(), batch_id))

    def fail_batch(self, batch_id: int, status: str, error: str) -> None:
        """Close batch `batch_id` as `failed` (nothing landed), or leave it `pending` with the error."""
        with self.transaction():
            self.db.execute("UPDATE batches SET status = ?, error = ?, finished_at = ? WHERE id = ?",
                            (status, error, now_iso(), batch_id))

    def pending_batches(self, target: str) -> list[tuple[int, str, tuple[str, ...]]]:
        """(id, key, external ids in order) of `target`'s batches still pending, oldest first."""
        query = "SELECT id, key FROM batches WHERE target = ? AND status = 'pending' ORDER BY id"
        return [(batch_id, key, self._items(batch_id)) for batch_id, key in self.db.execute(query, (target,)).fetchall()]

    def _items(self, batch_id: int) -> tuple[str, ...]:
        rows = self.db.execute("SELECT external_id FROM batch_items WHERE batch_id = ? ORDER BY position", (batch_id,))
        return tuple(row[0] for row in rows)

    def transactions_by_id(self, external_ids: Iterable[str]) -> dict[str, Transaction]:
        """The stored transactions among `external_ids`, by external id."""
        rows = self.rows_for(f"SELECT {TXN_COLUMNS} FROM transactions WHERE external_id IN ({{}})", external_ids)
        return {t.external_id or "": t for t in map(transaction_from_row, rows)}

    # what targets accepted ----------------------------------------------------------------------

    def accepted_ids(self, target: str, external_ids: Iterable[str]) -> set[str]:
        """The subset of `external_ids` that `target` has already confirmed."""
        query = "SELECT external_id FROM accepted WHERE target = ? AND external_id IN ({})"
        return {row[0] for row in self.rows_for(query, external_ids, target)}

    def mark_accepted(self, target: str, results: Iterable[UploadResult], run_id: int) -> None:
        """Record confirmed records; a duplicate the target already held counts as confirmed too."""
        accepted_at = now_iso()
        rows = [(target, r.external_id, r.remote_id, run_id, accepted_at)
                for r in results if r.outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE)]
        with self.transaction():
            self.db.executemany("INSERT INTO accepted VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)

    # the local ledger -------------------------------------------------------------------------

    def ledger_ids(self, external_ids: Iterable[str]) -> set[str]:
        """The subset of `external_ids` already in the ledger."""
        return {row[0] for row in self.rows_for("SELECT external_id FROM ledger WHERE external_id IN ({})", external_ids)}

    def add_to_ledger(self, txns: Sequence[Transaction], run_id: int) -> None:
        """Write `txns` into the ledger (one already there stays as it was), each with the pair
        its stored record has (importer/dedupe/transfers.py)."""
        stored_at = now_iso()
        ids = [t.external_id for t in txns if t.external_id]
        with self.transaction():
            self.db.executemany(_LEDGER, ((*transaction_row(t), run_id, stored_at) for t in txns))
            unpaired = [row[0] for row in self.rows_for(_UNPAIRED, ids)]
            self.db.executemany(_COPY_PAIR, [(ext,) for ext in unpaired])

    def update_in_ledger(self, txns: Sequence[Transaction]) -> None:
        """Replace the ledger's records of `txns` (held there) with these values."""
        with self.transaction():
            self.db.executemany(_UPDATE_LEDGER, ((*transaction_row(t), t.external_id) for t in txns))

    def delete_from_ledger(self, external_ids: Sequence[str]) -> None:
        """Remove these records from the ledger."""
        with self.transaction():
            self.db.executemany("DELETE FROM ledger WHERE external_id = ?", [(i,) for i in external_ids])
