"""The state database in SQLite, the embedded default `Store` (importer/store/base.py).

Tables: `runs` (one row per run that changed something; dry runs and runs that changed nothing
move to `quiet_runs`), `files` (every statement file by sha256),
`transactions` (every categorised transaction by external id, once: `ledger_run` says the local
target holds it, and the `ledger` view shows those), `accepted` (which external ids each other
target has confirmed, with the remote id),
`held` (rows held as probable duplicates, and what the user decided), `batches` (the upload
journal), `accounts` and `statement_balances`.  Every table is created by the numbered migrations
of migrations.py.

`State` is this module's class and the name the rest of the package has always used; it is built
from one class per table area (`CoreSql` here: runs, files, stored transactions, aliases, held
rows and accounts; `sqlite_stream`, `sqlite_history`, `sqlite_journal`, `sqlite_dedupe`,
`sqlite_reports`) over one connection (`connection.py`).  Those classes speak the SQL both engines
share (sqlbase.py), so postgres.py's `PostgresStore` is the same classes over a PostgreSQL
connection.  `SqliteStore` names `State` beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from importer.core.accounts import Account
from importer.core.models import Transaction
from importer.store.connection import SqliteBase
from importer.store.migrations import MIGRATIONS, _apply, migrate
from importer.store.rows import (
    _RAW_JSON,
    ASSIGN_ROW,
    TXN_COLUMNS,
    _tags_json,
    as_stored,
    assigned_row,
    now_iso,
    transaction_from_row,
    transaction_row,
)
from importer.store.sql_budget import BudgetSql, SqliteRates
from importer.store.sql_workers import WorkersSql, worker_name
from importer.store.sqlbase import BY_ID, LANDED_LATER, NEXT_ID, by_id
from importer.store.sqlite_dedupe import DedupeSql
from importer.store.sqlite_history import HistorySql
from importer.store.sqlite_journal import JournalSql
from importer.store.sqlite_reports import ReportsSql
from importer.store.sqlite_stream import _STORE, StreamSql

__all__ = [
    "MIGRATIONS",
    "RUN_STATUSES",
    "TXN_COLUMNS",
    "_RAW_JSON",
    "SqliteStore",
    "State",
    "_apply",
    "_tags_json",
    "migrate",
    "now_iso",
    "transaction_from_row",
    "transaction_row",
]

# How a run ended: `interrupted` is also what a run still marked `running` becomes when the next
# one starts (it was killed); `undoing`/`undone` are set by importer/run/history.py.
RUN_STATUSES = frozenset({"running", "ok", "failed", "interrupted", "undoing", "undone"})


# Whether a run left a trace beyond the files it read (a quiet run leaves none: see `quiet_run`).
# Rows it landed are its own (the first line) or landed later (LANDED_LATER).
_CHANGED = f"""
SELECT EXISTS (SELECT 1 FROM transactions WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM accepted WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM batches WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM aliases WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM transactions WHERE ledger_run = :run AND {LANDED_LATER})
    OR EXISTS (SELECT 1 FROM held WHERE run_id = :run OR decided_run_id = :run)
    OR EXISTS (SELECT 1 FROM run_files WHERE run_id = :run AND stored > 0)
"""
_QUIET_COPY = """
INSERT INTO quiet_runs (started_at, finished_at, command, status, files, parsed, follows)
SELECT r.started_at, r.finished_at, r.command, r.status,
       (SELECT count(*) FROM run_files f WHERE f.run_id = r.id),
       (SELECT coalesce(sum(parsed), 0) FROM run_files f WHERE f.run_id = r.id),
       (SELECT coalesce(max(id), 0) FROM runs WHERE id < r.id)
FROM runs r WHERE r.id = :run
"""
_NEW_RUN = f"INSERT INTO runs (id, started_at, command, owner) SELECT {NEXT_ID}, ?, ?, ? FROM runs RETURNING id"
_FILES_LAST_RUN = """
UPDATE files SET last_run_id = (SELECT max(run_id) FROM run_files f WHERE f.sha256 = files.sha256)
WHERE last_run_id = :run
"""


class CoreSql(StreamSql, WorkersSql):
    """Runs, files, stored transactions, aliases, held rows and accounts: the core of every SQL
    store, over the streaming import's queries (`store_transactions` shares its file rows)."""

    # runs -----------------------------------------------------------------------------------

    def begin_run(self, command: str) -> int:
        """Number a new run of kind `command`, owned by this store; a run still marked running
        whose owner is gone was killed: interrupted (see sql_workers.py for who is gone)."""
        for run_id, run_command in self._interrupt_dead():
            if run_command == "dry-run":  # a dry run changed nothing, killed or not
                self.quiet_run(run_id)
        with self.transaction():
            # The highest number plus one, as SQLite numbers rows: a quiet run's number is reused.
            run_id = int(self.db.execute(_NEW_RUN, (now_iso(), command, worker_name())).fetchone()[0])
            self.own_run(run_id)
            return run_id

    def _interrupt_dead(self) -> list[tuple[int, str]]:
        """Mark the dead owners' runs interrupted; the ones this call marked (each is marked once)."""
        dead = self.dead_runs()
        try:
            with self.transaction():
                return [(run, command) for run, command in dead if self._interrupt(run)]
        finally:
            self.release_dead([run for run, _ in dead])

    def _interrupt(self, run_id: int) -> bool:
        marked = self.db.execute(
            "UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'", (run_id,)
        )
        return marked.rowcount == 1

    def finish_run(self, run_id: int, status: str) -> None:
        """Record how run `run_id` ended; a dry run, or a run that ended `ok` having changed nothing,
        becomes a quiet run and gives its number back (see `quiet_run`)."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self.transaction():
            self.db.execute("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (now_iso(), status, run_id))
        self.disown_run(run_id)
        command = self.db.execute("SELECT command FROM runs WHERE id = ?", (run_id,)).fetchone()
        if command and (command[0] == "dry-run" or (status == "ok" and not self._changed(run_id))):
            self.quiet_run(run_id)

    def _changed(self, run_id: int) -> bool:
        """Whether run `run_id` stored, sent, matched, released or undid anything."""
        return bool(self.db.execute(_CHANGED, {"run": run_id}).fetchone()[0])

    def quiet_run(self, run_id: int) -> None:
        """Move run `run_id` from `runs` to `quiet_runs`, with what it read.  Runs are numbered by
        SQLite's rowid, which gives the next run the highest number plus one: the number is
        reused.  A row anywhere still referring to the run makes SQLite refuse (foreign keys are
        on), and the run simply keeps its number."""
        try:
            with self.transaction():
                self.db.execute(_QUIET_COPY, {"run": run_id})
                self.db.execute("DELETE FROM run_files WHERE run_id = ?", (run_id,))
                self.db.execute(_FILES_LAST_RUN, {"run": run_id})
                self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        except self.integrity_errors:
            pass  # something refers to it: it did something after all, and stays a numbered run

    # files ----------------------------------------------------------------------------------

    def record_file(self, sha256: str, path: Path, size: int, run_id: int) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO files (sha256, path, size, first_seen_at, last_run_id) VALUES (?, ?, ?, ?, ?) "
                # The path stays the one its rows were first stored from (they show it as theirs);
                # run_files keeps the path each run read it by.
                "ON CONFLICT(sha256) DO UPDATE SET last_run_id = excluded.last_run_id, size = excluded.size",
                (sha256, str(path), size, now_iso(), run_id),
            )

    # transactions ---------------------------------------------------------------------------

    def store_transactions(
        self, txns: Sequence[Transaction], run_id: int, file_sha256: str | None, status: str = "ok"
    ) -> int:
        """Store categorised transactions not stored before; returns how many were new."""
        with self.transaction():
            first = txns[0] if txns else None
            file_id, path, columns = (
                self.file_row(file_sha256, first.source.path, list(first.raw)) if first else (None, None, None)
            )
            # A generator, not a list: executemany binds one row at a time, and a list of a million
            # encoded rows would be the largest thing in memory.
            rows = ((*as_stored(t, path, columns), file_id, run_id, status, t.external_id) for t in txns)
            stored = max(self.db.executemany(_STORE, rows).rowcount, 0)
            if stored < len(txns):  # stored before, or (once in ages) an id whose key another has
                self.refuse_collisions(
                    [t.external_id for t in txns if t.external_id], first.source.path if first else ""
                )
            return stored

    def set_status(self, external_ids: Sequence[str], status: str) -> None:
        """`ok` for a stored record to be sent, `review` for one held as a probable duplicate."""
        # Read first, write only what changes: an UPDATE per record cost as much as storing it.
        changing = [(status, *by_id(e)) for e, old in self.statuses(external_ids).items() if old != status]
        with self.transaction():
            self.db.executemany(f"UPDATE transactions SET status = ? WHERE {BY_ID}", changing)

    def statuses(self, external_ids: Iterable[str]) -> dict[str, str]:
        """The stored status of each of `external_ids` that is stored."""
        return dict(self.stored_for("SELECT external_id, status FROM transactions WHERE {}", external_ids))

    def add_aliases(self, aliases: Sequence[tuple[str, str, str]], run_id: int) -> None:
        """Remember (external id, canonical id, reason): that id is the stored record `canonical`."""
        created = now_iso()
        with self.transaction():
            self.db.executemany(
                "INSERT INTO aliases VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(*a, run_id, created) for a in aliases],
            )

    def replace_transaction(self, old_id: str, new: Transaction, run_id: int) -> None:
        """A pending line became `new`: update the stored record, what targets accepted and the
        local ledger in place (one transaction), and keep the old id as an alias of the new one."""
        new_id = new.external_id or ""
        with self.transaction():
            self.db.execute(f"UPDATE transactions SET {ASSIGN_ROW} WHERE {BY_ID}", (*assigned_row(new), *by_id(old_id)))
            self.db.execute("UPDATE accepted SET external_id = ? WHERE external_id = ?", (new_id, old_id))
            self.db.execute("UPDATE aliases SET canonical_id = ? WHERE canonical_id = ?", (new_id, old_id))
            self.db.execute("UPDATE held SET match_id = ? WHERE match_id = ?", (new_id, old_id))
            self.db.execute(
                "INSERT INTO aliases VALUES (?, ?, 'pending-posted', ?, ?) ON CONFLICT (external_id) DO UPDATE SET "
                "canonical_id = excluded.canonical_id, reason = excluded.reason, run_id = excluded.run_id, "
                "created_at = excluded.created_at",
                (old_id, new_id, run_id, now_iso()),
            )

    def record_run_file(self, run_id: int, sha256: str, path: Path, fmt: str | None, parsed: int, stored: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE files SET format = ? WHERE sha256 = ?", (fmt, sha256))
            self.db.execute(
                "INSERT INTO run_files VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, sha256) DO UPDATE SET "
                "path = excluded.path, format = excluded.format, parsed = excluded.parsed, stored = excluded.stored",
                (run_id, sha256, str(path), fmt, parsed, stored),
            )

    # rows held as probable duplicates ------------------------------------------------------

    def hold(self, held: Sequence[tuple[str, str | None]], run_id: int) -> None:
        """Remember (external id, id of the stored record it resembles) for rows held for review;
        a row held again keeps its number and the run that first held it."""
        rows = [(ext, match, run_id, now_iso()) for ext, match in held]
        with self.transaction():
            self.db.executemany(
                "INSERT INTO held (external_id, match_id, run_id, held_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(external_id) DO UPDATE SET match_id = coalesce(excluded.match_id, held.match_id)",
                rows,
            )

    def held_rows(self, status: str = "review") -> list[tuple[Any, ...]]:
        """(number, run id, file sha256, *the held row's `TXN_COLUMNS`, *its match's) of every row
        whose stored status is `status` (`review`: held; `dropped`), by file then number."""
        held = ", ".join("t." + c for c in TXN_COLUMNS.split(", "))
        match = ", ".join("m." + c for c in TXN_COLUMNS.split(", "))
        return self.db.execute(
            f"SELECT h.id, h.run_id, t.file_sha256, {held}, {match} FROM held h "
            "JOIN transaction_rows t ON t.id_key = id_key(h.external_id) AND t.external_id = h.external_id "
            "LEFT JOIN transaction_rows m ON m.id_key = id_key(h.match_id) AND m.external_id = h.match_id "
            "WHERE t.status = ? ORDER BY t.source_path, h.id",
            (status,),
        ).fetchall()

    def decide_held(self, external_ids: Sequence[str], decision: str, run_id: int | None) -> None:
        """`released` (stored `ok`, sent by run `run_id`) or `dropped` (never imported, never held
        again): the row's status and the decision change together."""
        status = {"released": "ok", "dropped": "dropped"}[decision]
        now = now_iso()
        with self.transaction():
            self.db.executemany(
                f"UPDATE transactions SET status = ? WHERE {BY_ID}", [(status, *by_id(e)) for e in external_ids]
            )
            self.db.executemany(
                "UPDATE held SET decision = ?, decided_run_id = ?, decided_at = ? WHERE external_id = ?",
                [(decision, run_id, now, e) for e in external_ids],
            )

    def stored_transactions(self, table: str = "transactions") -> list[Transaction]:
        if table not in {"transactions", "ledger"}:
            raise ValueError(table)
        view = "transaction_rows" if table == "transactions" else "ledger"
        cursor = self.db.execute(f"SELECT {TXN_COLUMNS} FROM {view} ORDER BY date, external_id")
        return [transaction_from_row(row) for row in cursor]

    # accounts -------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """Every account, with its identifiers, in the order they were created."""
        identifiers: dict[str, list[str]] = {}
        for identifier, key in self.db.execute(
            "SELECT identifier, account_key FROM account_identifiers ORDER BY rowid"
        ):
            identifiers.setdefault(key, []).append(identifier)
        rows = self.db.execute("SELECT key, name, recipe, basis, currency FROM accounts ORDER BY rowid")
        return [
            Account(key, name, recipe, basis, currency, tuple(identifiers.get(key, ())))
            for key, name, recipe, basis, currency in rows
        ]

    def save_accounts(self, accounts: Iterable[Account]) -> None:
        """Store new accounts and new identifiers of known ones (a rename is `rename_account`)."""
        created = now_iso()
        with self.transaction():
            for a in accounts:
                self.db.execute(
                    "INSERT INTO accounts (key, name, recipe, basis, currency, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (a.key, a.name, a.recipe, a.basis, a.currency, created),
                )
                self.db.executemany(
                    "INSERT INTO account_identifiers VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [(i, a.key) for i in a.identifiers],
                )

    def rename_account(self, old: str, new: str) -> int:
        """Show account `old` as `new` everywhere a name is kept; its key and ids do not change.
        Returns how many stored transactions now show the new name."""
        with self.transaction():
            self.db.execute("UPDATE accounts SET name = ? WHERE name = ?", (new, old))
            moved = self.db.execute("UPDATE transactions SET account = ? WHERE account = ?", (new, old)).rowcount
            for column in ("transfer_to", "target_account"):
                self.db.execute(f"UPDATE transactions SET {column} = ? WHERE {column} = ?", (new, old))
            self.db.execute("UPDATE statement_balances SET account = ? WHERE account = ?", (new, old))
        return int(moved)

    def account_activity(self) -> dict[str, tuple[str | None, str | None, int]]:
        """Per account name: its first and last transaction date and how many are stored."""
        rows = self.db.execute("SELECT account, MIN(date), MAX(date), COUNT(*) FROM transactions GROUP BY account")
        return {name: (first, last, count) for name, first, last, count in rows}

    def file_accounts(self, sha256: str, before_run: int | None = None) -> set[str]:
        """The accounts the rows stored from the file `sha256` belong to (by runs before `before_run`)."""
        rows = self.db.execute(
            "SELECT DISTINCT account FROM transaction_rows WHERE file_sha256 = ? AND run_id < ?",
            (sha256, before_run if before_run is not None else 1 << 62),
        )
        return {name for (name,) in rows}

    def fingerprints(
        self, start: dt.date, end: dt.date, other_than: str, not_from: str | None = None
    ) -> Iterator[tuple[str, str, str, str]]:
        """(account, date, amount, description) of the rows stored between `start` and `end`
        under another account than `other_than` (and from another file than `not_from`), for
        the "seen under another name" check."""
        yield from self.db.execute(
            "SELECT account, date, amount, description FROM transaction_rows WHERE date BETWEEN ? AND ? AND account <> ? "
            "AND file_sha256 IS DISTINCT FROM ?",
            (start.isoformat(), end.isoformat(), other_than, not_from),
        )


class State(CoreSql, HistorySql, JournalSql, DedupeSql, ReportsSql, BudgetSql, SqliteBase):
    """A handle on the state database in SQLite; use as a context manager to close it."""

    def __enter__(self) -> State:
        return self

    def copy_to(self, path: Path) -> State:
        """A new state database at `path` holding what this one holds now (a dry run's scratch copy)."""
        copy = State(path)
        self.db.backup(copy.db)
        return copy

    def open_rates(self) -> SqliteRates:
        return SqliteRates(self.path)


SqliteStore = State
