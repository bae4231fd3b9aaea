"""The streaming import's queries (importer/run/file_import.py): storing a batch from its columns,
landing one import's new rows in the local ledger, and reading them back for other targets.

A row names its file by `files.id`, created here with the first row stored from it (inside the
file's transaction, so a file that fails leaves no file row either), and keeps its own path only
when it is not that file's.  A row bound for the local ledger is stored already marked landed
(`ledger_run`): marking it afterwards rewrote every page just written and, inside the file's
savepoints, journalled each one first (a quarter of the bytes written by a large import).
Landing then marks only rows stored otherwise (by the dedupe layers' decisions) and journals it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from itertools import chain, repeat
from operator import is_, is_not
from typing import Any

from importer.core.batch import TxBatch
from importer.core.models import Transaction
from importer.store.base import SharedKeys
from importer.store.idkey import id_keys
from importer.store.migrations import KEY_INDEX
from importer.store.rows import TXN_COLUMNS, batch_columns, now_iso, transaction_from_row
from importer.store.sqlbase import NEXT_ID, Db, SqlBase, marks


def _store(columns: Sequence[str]) -> str:
    """Storing rows that give `columns` (those left out are NULL), their file, run and status,
    then their external id again for its key (idkey.py)."""
    named = [*columns, "file_id", "run_id", "status"]
    return (
        f"INSERT INTO transactions ({', '.join(named)}, id_key) VALUES ({marks(len(named))}, id_key(?)) "
        "ON CONFLICT DO NOTHING"
    )


_STORE = _store(TXN_COLUMNS.split(", "))  # also `State.store_transactions`'s
_FILE = "INSERT INTO files (sha256, path, size, first_seen_at) VALUES (?, ?, 0, ?) ON CONFLICT (sha256) DO NOTHING"
_COLUMNS = "UPDATE files SET raw_columns = ? WHERE sha256 = ? AND raw_columns IS NULL"
# One import's new rows: stored by run :run from file :sha after the mark :after, still `ok`.
_IMPORT = "row > :after AND run_id = :run AND file_sha256 = :sha AND status = 'ok'"
_LAND = (
    "UPDATE transactions SET ledger_run = :run WHERE rowid > :after AND run_id = :run AND status = 'ok' "
    "AND ledger_run IS NULL AND file_id = (SELECT id FROM files WHERE sha256 = :sha)"
)
_LANDED = (
    "INSERT INTO batches (id, target, key, run_id, size, confirmed, created_at, status, finished_at) "
    f"SELECT {NEXT_ID}, ?, ?, ?, ?, ?, ?, 'done', ? FROM batches"
)


_NAMES = TXN_COLUMNS.split(", ")
# The stored columns whose values are text (or None): an absent value may be bound as the
# integer 0, which no text equals, and made NULL again by `_ZERO_AS_NULL`.
_TEXTS = frozenset(_NAMES) - {"source_line", "source_record"}
_NONE_AS_0 = {None: 0}.get
_NONES = repeat(None)  # endless: each `map` over it stops with its column
# One value's placeholder in a row whose values are bound from parameter `first` + 1 on
# (`_insert`'s `row`), and the same for a text bound as 0 for NULL: a CASE, numbered so that the
# value is bound once.  Not `nullif(?, 0)`: SQLite keeps a statement journal for a statement of
# many rows that calls a function, as a function may fail it half way (`_insert_rows`).
_VALUE = "?{n}"
_ZERO_AS_NULL = "CASE ?{n} WHEN 0 THEN NULL ELSE ?{n} END"
_ROWS_PER_STATEMENT = 64  # rows one INSERT stores at most (`_insert_rows`)
# Variables one statement may bind: SQLite's default limit, 999 before version 3.32.
_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def _insert(
    values: list[list[Any]], file_id: int | None, run_id: int, landed: bool
) -> tuple[str, Callable[[int], str], list[tuple[Any, ...]]]:
    """How rows of `values` (the stored columns, TXN_COLUMNS order) are stored as new `ok` rows
    of file `file_id` by run `run_id` (landed by it when `landed`): the columns named
    ("(...) VALUES"), one row's placeholders ("(?1, ...)") given the parameter before its first,
    and the parameters, a tuple per row.

    Binding is most of what the insert costs Python: the sqlite3 module binds None through its
    adapter lookup (it lets only int, float, str and bytes-like through), about ten times what a
    str or an int costs.  So a column NULL in every row is left out, None in a column of text is
    bound as 0 and turned back into NULL (`_ZERO_AS_NULL`), and what every row shares (the
    file, the run, the status) is written into the statement, not bound per row."""
    bound = [(name, *_bound(name, column)) for name, column in zip(_NAMES, values) if any(map(is_not, column, _NONES))]
    bound.append(("id_key", _VALUE, id_keys(values[0])))  # computed here in one pass, not per row in SQL
    shared = [_literal(file_id), str(int(run_id)), "'ok'", *([str(int(run_id))] if landed else [])]
    named = [*(name for name, _, _ in bound), "file_id", "run_id", "status", *(["ledger_run"] if landed else [])]
    slots = [slot for _, slot, _ in bound]

    def row(first: int) -> str:
        return f"({', '.join([*(slot.format(n=first + n) for n, slot in enumerate(slots, 1)), *shared])})"

    return f"({', '.join(named)}) VALUES", row, list(zip(*(column for _, _, column in bound)))


def _insert_rows(db: Db, head: str, row: Callable[[int], str], rows: list[tuple[Any, ...]]) -> int:
    """Insert `rows` (`INSERT OR IGNORE INTO transactions {head} {row(0)}, {row(width)}, ...`),
    several in each statement; how many were new (a stored id is skipped).

    Each execution of a statement costs the sqlite3 module a step, a reset and the GIL let go
    and taken back, and SQLite its statement's set-up: per row, about as much as SQLite's insert
    of it into the table.  So up to _ROWS_PER_STATEMENT rows share one, as many as SQLite allows
    variables; the rows left over go one per statement.

    A statement that writes several rows makes SQLite keep a statement journal (a temporary file
    holding a copy of each page before the statement changes it) whenever a constraint could
    abort it half way: at a million rows that doubled the system time (2.5 -> 5.6 s), which is
    why stores before schema 12 inserted one row a statement.  Nothing can abort this one: `OR
    IGNORE` skips a row whose key is stored (as `ON CONFLICT DO NOTHING` did) and the only NOT
    NULL column is given a literal, no function is called (`_ZERO_AS_NULL`), and the foreign key
    on `run_id` is checked at commit since migration 12 (DEFERRABLE INITIALLY DEFERRED).
    tests/test_file_import.py holds an import with rules (NULL categories) to writing no
    statement journal."""
    per = min(_ROWS_PER_STATEMENT, _VARIABLES // len(rows[0])) if rows else 1
    whole = len(rows) - len(rows) % per if per > 1 else 0  # rows stored `per` at a time
    stored = 0
    if whole:
        width = len(rows[0])
        sql = f"INSERT OR IGNORE INTO transactions {head} {', '.join(row(k * width) for k in range(per))}"
        groups = [list(chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)]
        stored += max(db.executemany(sql, groups).rowcount, 0)
    if whole < len(rows):
        sql = f"INSERT OR IGNORE INTO transactions {head} {row(0)}"
        stored += max(db.executemany(sql, rows[whole:]).rowcount, 0)
    return stored


def _bound(name: str, column: list[Any]) -> tuple[str, list[Any]]:
    """The placeholder of stored column `name` and the values bound to it: None as 0 in text."""
    if name in _TEXTS and any(map(is_, column, _NONES)):
        return _ZERO_AS_NULL, list(map(_NONE_AS_0, column, column))
    return _VALUE, column


def _literal(number: int | None) -> str:
    """An id as SQL text (ints only: never a value a file could choose)."""
    return "NULL" if number is None else str(int(number))


class StreamSql(SqlBase):
    def store_batch(
        self, batch: TxBatch, rows: Sequence[int], run_id: int, file_sha256: str, landed: bool = False
    ) -> int:
        """Store rows `rows` of `batch` as new `ok` records, straight from its columns (no
        `Transaction` per row), landed in the ledger by this run when `landed`; returns how many
        were new.  Equal to `store_transactions` of those rows, then `land_in_state` when `landed`
        (tests/test_file_import.py, tests/test_state_writeonce.py)."""
        if not rows:
            return 0
        with self.joined():  # part of the file's transaction (sqlbase.py `joined`)
            file_id, values = self.batch_values(batch, rows, file_sha256)
            head, row, parameters = _insert(values, file_id, run_id, landed)
            stored = _insert_rows(self.db, head, row, parameters)
            if stored < len(rows):  # stored before (a run again), or an id whose key another has
                self.refuse_collisions(values[0], batch.path)
            return stored

    def defer_key_index(self, after: int) -> bool:
        """Drop the index on the ids' keys until the file's transaction ends, when every stored
        row was stored after the mark `after` and no alias or accepted record names an id (a
        first import: the file's own rows are all there is); whether it did (Store's doc).

        Each row stored into that index goes to a random page of it (the keys are hashes), and
        once the index outgrows the page cache (at about a million rows) nearly every row reads
        a page back and writes one out: a ten-million-row first import spent 94 CPU seconds of
        276 in the system calls, and wrote 2.8 times the database's growth.  Made again at the
        end it is one sort (`restore_key_index`).  Only at the outermost unit, whose end is the
        deferral's end (`SqlBase.transaction`): a savepoint rolled back would bring the index
        back unseen."""
        if self._keys_deferred:
            return True
        if self._depth != 1:
            return False
        first = self.db.execute("SELECT min(rowid) FROM transactions").fetchone()[0]
        if first is not None and first <= after:
            return False
        if self.db.execute("SELECT EXISTS (SELECT 1 FROM aliases) OR EXISTS (SELECT 1 FROM accepted)").fetchone()[0]:
            return False
        self.db.execute("DROP INDEX transactions_by_key")
        self._keys_deferred = True
        return True

    def restore_key_index(self) -> None:
        """Make the index `defer_key_index` dropped again, from every row at once; SharedKeys
        (store/base.py) when two rows share a key."""
        if not self._keys_deferred:
            return
        try:
            self.db.execute(KEY_INDEX)
        except sqlite3.IntegrityError:
            raise SharedKeys() from None
        self._keys_deferred = False

    def batch_values(self, batch: TxBatch, rows: Sequence[int], file_sha256: str) -> tuple[int | None, list[list[Any]]]:
        """The file's id (its row created with the first batch) and rows `rows` of `batch` as the
        stored columns, in TXN_COLUMNS order: what both engines' `store_batch` write."""
        raw = batch.column("raw")
        file_id, path, columns = self.file_row(file_sha256, batch.path, list(raw[rows[0]]))
        return file_id, batch_columns(batch, rows, None if path == batch.path else batch.path, columns)

    def file_row(
        self, sha256: str | None, path: str, columns: list[str]
    ) -> tuple[int | None, str | None, list[str] | None]:
        """(id, path, raw columns) of the file `sha256`, recorded from `path` with the raw cell
        names `columns` (its first stored row's) when it has none yet; all None for rows stored
        without a file.  Call inside a transaction: the file row goes with the rows."""
        if sha256 is None:
            return None, None, None
        self.db.execute(_FILE, (sha256, path, now_iso()))
        self.db.execute(_COLUMNS, (json.dumps(columns) if columns else None, sha256))
        found = self.db.execute("SELECT id, path, raw_columns FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return int(found[0]), str(found[1]), json.loads(found[2]) if found[2] else None

    def land_in_state(self, target: str, run_id: int, sha256: str, after: int, landed: int = 0) -> int:
        """Land in the local ledger (`target`, the in-state one) every row run `run_id` stored
        `ok` from file `sha256` after the mark `after`: one statement, and one journal row, done,
        keyed by the file and the mark; returns how many landed, counting the `landed` rows
        `store_batch` stored landed already.  Inside the caller's transaction (the file's), so the
        rows are stored and landed together or not at all."""
        with self.transaction():
            count = landed + self.db.execute(_LAND, {"run": run_id, "after": after, "sha": sha256}).rowcount
            if count:
                now = now_iso()
                key = f"{sha256}:{after}"  # unique per import: the mark only grows
                self.db.execute(_LANDED, (target, key, run_id, count, count, now, now))
        return int(count)

    def representatives(self, run_id: int, sha256: str, after: int) -> list[Transaction]:
        """One row of each (account, currency, category, target account, transfer) of `new_rows`:
        what a target maps before the upload."""
        rows = self.db.execute(
            f"SELECT {TXN_COLUMNS} FROM transaction_rows WHERE row IN (SELECT min(row) FROM transaction_rows "
            f"WHERE {_IMPORT} GROUP BY account, currency, category, target_account, transfer_to)",
            {"after": after, "run": run_id, "sha": sha256},
        )
        return [transaction_from_row(row) for row in rows]

    def last_row(self) -> int:
        """A mark before the rows stored next (`new_rows` and its kin read what follows it)."""
        return int(self.db.execute("SELECT coalesce(max(rowid), 0) FROM transactions").fetchone()[0])

    def transfers_stored(self, run_id: int, sha256: str, after: int) -> int:
        """How many rows run `run_id` stored `ok` from file `sha256` after the mark `after` are one
        leg of a transfer."""
        query = f"SELECT count(*) FROM transaction_rows WHERE {_IMPORT} AND transfer_to IS NOT NULL"
        return int(self.db.execute(query, {"after": after, "run": run_id, "sha": sha256}).fetchone()[0])

    def new_rows(self, run_id: int, sha256: str, after: int, size: int) -> Iterator[list[Transaction]]:
        """The rows run `run_id` stored `ok` from file `sha256` after the mark `after` (one
        import of that file: a run may read two copies of it), in file order, `size` at a time."""
        cursor = self.db.execute(
            f"SELECT {TXN_COLUMNS} FROM transaction_rows WHERE {_IMPORT} ORDER BY row",
            {"after": after, "run": run_id, "sha": sha256},
        )
        while rows := cursor.fetchmany(size):
            yield [transaction_from_row(row) for row in rows]
