"""The streaming import's queries (importer/run/file_import.py): storing a batch from its columns,
and reading back one import's new rows after its commit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from importer.core.batch import TxBatch
from importer.core.models import Transaction
from importer.store.connection import SqliteBase, marks
from importer.store.rows import _RAW_JSON, TXN_COLUMNS, _tags_json, now_iso, transaction_from_row

_STORE = (  # also `State.store_transactions`'s
    f"INSERT INTO transactions ({TXN_COLUMNS}, file_sha256, run_id, stored_at, status) "
    f"VALUES ({marks(len(TXN_COLUMNS.split(', ')) + 4)}) ON CONFLICT DO NOTHING"
)


class StreamSql(SqliteBase):
    def store_batch(self, batch: TxBatch, rows: Sequence[int], run_id: int, file_sha256: str) -> int:
        """Store rows `rows` of `batch` as new `ok` records, straight from its columns (no
        `Transaction` per row); returns how many were new.  Equal to `store_transactions` of
        those rows (tests/test_file_import.py)."""
        if not rows:
            return 0
        stored_at = now_iso()
        encoded = _BatchRows(batch)
        values = (encoded.row(i) + (file_sha256, run_id, stored_at, "ok") for i in rows)
        with self.transaction():
            before = self.db.total_changes
            self.db.executemany(_STORE, values)
            return self.db.total_changes - before

    def representatives(self, run_id: int, sha256: str, after: int) -> list[Transaction]:
        """One row of each (account, currency, category, target account, transfer) of `new_rows`:
        what a target maps before the upload."""
        rows = self.db.execute(
            f"SELECT {TXN_COLUMNS} FROM transactions WHERE rowid IN (SELECT min(rowid) FROM transactions "
            "WHERE rowid > ? AND run_id = ? AND file_sha256 = ? AND status = 'ok' "
            "GROUP BY account, currency, category, target_account, transfer_to)", (after, run_id, sha256))
        return [transaction_from_row(row) for row in rows]

    def last_row(self) -> int:
        """A mark before the rows stored next (`new_rows` and its kin read what follows it)."""
        return int(self.db.execute("SELECT coalesce(max(rowid), 0) FROM transactions").fetchone()[0])

    def transfers_stored(self, run_id: int, sha256: str, after: int) -> int:
        """How many rows run `run_id` stored `ok` from file `sha256` after the mark `after` are one
        leg of a transfer."""
        query = ("SELECT count(*) FROM transactions WHERE rowid > ? AND run_id = ? AND file_sha256 = ? "
                 "AND status = 'ok' AND transfer_to IS NOT NULL")
        return int(self.db.execute(query, (after, run_id, sha256)).fetchone()[0])

    def new_rows(self, run_id: int, sha256: str, after: int, size: int) -> Iterator[list[Transaction]]:
        """The rows run `run_id` stored `ok` from file `sha256` after the mark `after` (one
        import of that file: a run may read two copies of it), in file order, `size` at a time."""
        cursor = self.db.execute(
            f"SELECT {TXN_COLUMNS} FROM transactions WHERE rowid > ? AND run_id = ? AND file_sha256 = ? "
            "AND status = 'ok' ORDER BY rowid", (after, run_id, sha256))
        while rows := cursor.fetchmany(size):
            yield [transaction_from_row(row) for row in rows]


class _BatchRows:
    """The `TXN_COLUMNS` values of a batch's rows, as `transaction_row` gives them per Transaction:
    each column's texts are made once per distinct value (dates and amounts repeat)."""

    def __init__(self, batch: TxBatch) -> None:
        self.batch = batch
        self.days = {d: d.isoformat() for d in set(batch.date)}
        self.amounts = {a: str(a) for a in set(batch.amount)}
        self.columns = [batch.column(name) for name in _OPTIONAL_TEXT]
        self.balance, self.value_date = batch.column("balance"), batch.column("value_date")
        self.tags, self.raw = batch.column("tags"), batch.column("raw")
        self.record = batch.column("record") if batch.record is not None else [None] * len(batch)

    def row(self, i: int) -> tuple[object, ...]:
        b = self.batch
        payee, memo, bank_id, category, target_account, notes, transfer_to, rule_id, ext = (c[i] for c in self.columns)
        balance, value_date = self.balance[i], self.value_date[i]
        return (
            ext, b.account, self.days[b.date[i]], self.amounts[b.amount[i]], b.currency[i], b.description[i],
            payee, memo, bank_id, None if balance is None else str(balance),
            None if value_date is None else value_date.isoformat(), category, target_account,
            _tags_json(self.tags[i]), notes, transfer_to, rule_id, b.path, b.line[i], self.record[i],
            _RAW_JSON(self.raw[i]),
        )


_OPTIONAL_TEXT = ("payee", "memo", "bank_id", "category", "target_account", "notes", "transfer_to", "rule_id",
                  "external_id")
