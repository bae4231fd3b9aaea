"""History and undo in SQLite: what each run read, stored and sent, and forgetting a run.

The queries behind importer/run/history.py, which owns what they mean (run numbers, the order of
an undo, held rows).  Rows come back as plain tuples in the column order each docstring names:
the run floor builds its own records from them.
"""

from __future__ import annotations

from typing import Any

from importer.core.models import Transaction
from importer.store.rows import TXN_COLUMNS, transaction_from_row
from importer.store.sqlbase import LANDED_LATER, SqlBase

# What a run sent is `accepted_records`' rows of the run, counted part by part: the landed rows
# each through their index (migration 11), where the view per run read every landed row.
_SUMMARY = f"""
SELECT r.id, r.started_at, r.finished_at, r.command, r.status,
       (SELECT count(*) FROM run_files f WHERE f.run_id = r.id),
       (SELECT count(*) FROM transactions t WHERE t.run_id = r.id),
       (SELECT count(*) FROM accepted a WHERE a.run_id = r.id)
       + (SELECT count(*) FROM transactions t WHERE t.run_id = r.id AND t.ledger_run = r.id)
       + (SELECT count(*) FROM transactions t WHERE t.ledger_run = r.id AND {LANDED_LATER})
FROM runs r
"""
_QUIET = "SELECT follows, id, NULL, started_at, finished_at, command, status, files, 0, 0 FROM quiet_runs"
_BATCHES = (
    "SELECT id, target, key, status, size, coalesce(confirmed, 0), error FROM batches WHERE run_id = ? ORDER BY id"
)
_LANDED_BY = "WHERE a.run_id = ? OR a.external_id IN (SELECT external_id FROM transactions WHERE run_id = ?)"

_DOOMED = "CREATE TEMP TABLE doomed AS SELECT external_id, pair_id FROM transactions WHERE run_id = ?"
_FORGET = (
    # Rows this run released are held again (their records belong to the run that held them).
    "UPDATE transactions SET status = 'review' WHERE (id_key, external_id) IN "
    "(SELECT id_key(external_id), external_id FROM held WHERE decided_run_id = :run AND decision = 'released')",
    "UPDATE held SET decision = NULL, decided_run_id = NULL, decided_at = NULL WHERE decided_run_id = :run",
    "DELETE FROM held WHERE external_id IN (SELECT external_id FROM doomed)",
    "DELETE FROM accepted WHERE run_id = :run OR external_id IN (SELECT external_id FROM doomed)",
    # What this run landed in the ledger of rows stored before it (released held rows) is no
    # longer landed; the rows it stored go below, ledger and all.
    f"UPDATE transactions SET ledger_run = NULL WHERE ledger_run = :run AND {LANDED_LATER}",
    "UPDATE transactions SET pair_id = NULL, transfer_to = NULL WHERE pair_id IN (SELECT pair_id FROM doomed)",
    "DELETE FROM aliases WHERE run_id = :run OR canonical_id IN (SELECT external_id FROM doomed)",
    "DELETE FROM batches WHERE run_id = :run",
    "DELETE FROM transactions WHERE run_id = :run",
    # A statement's balances go with its file: kept while another run still read that file.
    "DELETE FROM statement_balances WHERE file_sha256 IN (SELECT sha256 FROM run_files WHERE run_id = :run) "
    "AND file_sha256 NOT IN (SELECT sha256 FROM run_files WHERE run_id <> :run)",
    "DELETE FROM files WHERE sha256 IN (SELECT sha256 FROM run_files WHERE run_id = :run) "
    "AND sha256 NOT IN (SELECT sha256 FROM run_files WHERE run_id <> :run)",
    "DELETE FROM run_files WHERE run_id = :run",
    "UPDATE runs SET status = 'undone', finished_at = coalesce(finished_at, started_at) WHERE id = :run",
)


class HistorySql(SqlBase):
    """Runs as `importer history` lists them, and `undo`."""

    def run_rows(self) -> list[tuple[Any, ...]]:
        """(id, started, finished, command, status, files, stored, sent) of every numbered run, newest first."""
        return self.db.execute(_SUMMARY + " ORDER BY r.id DESC").fetchall()

    def quiet_run_rows(self) -> list[tuple[Any, ...]]:
        """(follows, row id, None, started, finished, command, status, files, 0, 0) of every quiet run."""
        return self.db.execute(_QUIET).fetchall()

    def run_row(self, run_id: int) -> tuple[Any, ...] | None:
        """`run_rows`' row of run `run_id`, None when there is no such numbered run."""
        row: tuple[Any, ...] | None = self.db.execute(_SUMMARY + " WHERE r.id = ?", (run_id,)).fetchone()
        return row

    def batch_counts(self, run_id: int) -> dict[str, int]:
        """How many of the run's journalled batches are in each status."""
        rows = self.db.execute("SELECT status, count(*) FROM batches WHERE run_id = ? GROUP BY status", (run_id,))
        return dict(rows.fetchall())

    def run_files(self, run_id: int) -> list[tuple[Any, ...]]:
        """(path, format, sha256, parsed, stored) of every file the run read, by path."""
        query = "SELECT path, format, sha256, parsed, stored FROM run_files WHERE run_id = ? ORDER BY path"
        return self.db.execute(query, (run_id,)).fetchall()

    def run_batches(self, run_id: int) -> list[tuple[Any, ...]]:
        """(id, target, key, status, size, confirmed, error) of every batch the run journalled."""
        return self.db.execute(_BATCHES, (run_id,)).fetchall()

    def run_transactions(self, run_id: int) -> list[Transaction]:
        """The transactions run `run_id` stored, by date then external id."""
        query = f"SELECT {TXN_COLUMNS} FROM transaction_rows WHERE run_id = ? ORDER BY date, external_id"
        return [transaction_from_row(row) for row in self.db.execute(query, (run_id,))]

    def landed_records(self, run_id: int) -> list[tuple[str, Transaction]]:
        """(target, record) of what the run landed or stored and a target holds, by target and date."""
        columns = ", ".join("t." + c for c in TXN_COLUMNS.split(", "))
        rows = self.db.execute(
            f"SELECT a.target, {columns} FROM accepted_records a "
            "JOIN transaction_rows t ON t.id_key = id_key(a.external_id) AND t.external_id = a.external_id "
            f"{_LANDED_BY} ORDER BY a.target, t.date, t.external_id",
            (run_id, run_id),
        )
        return [(row[0], transaction_from_row(row[1:])) for row in rows]

    def landed_remote_ids(self, run_id: int) -> dict[str, list[str]]:
        """target → the remote ids (the external id where a target gave none) of what `landed_records` lists."""
        query = f"SELECT a.target, coalesce(a.remote_id, a.external_id) FROM accepted_records a {_LANDED_BY}"
        rows = self.db.execute(query, (run_id, run_id))
        landed: dict[str, list[str]] = {}
        for target, remote_id in rows:
            landed.setdefault(target, []).append(remote_id)
        return landed

    def released_count(self, run_id: int) -> int:
        """How many held rows run `run_id` released (undo holds them again)."""
        query = "SELECT count(*) FROM held WHERE decided_run_id = ? AND decision = 'released'"
        return int(self.db.execute(query, (run_id,)).fetchone()[0])

    def mark_undoing(self, run_id: int) -> None:
        """Mark run `run_id` as being undone, before any target forgets what it landed."""
        with self.transaction():
            self.db.execute("UPDATE runs SET status = 'undoing' WHERE id = ?", (run_id,))

    def forget_run(self, run_id: int) -> int:
        """Everything run `run_id` added, forgotten in one transaction, and the run marked
        `undone`; returns how many stored transactions went."""
        with self.transaction():
            self.db.execute(_DOOMED, (run_id,))
            count = self.db.execute("SELECT count(*) FROM doomed").fetchone()[0]
            for statement in _FORGET:
                self.db.execute(statement, {"run": run_id})
            self.db.execute("DROP TABLE doomed")
        return int(count)
