"""The state database: one SQLite file holding what the importer has seen and sent.

Tables: `runs` (one row per invocation), `files` (every statement file by sha256),
`transactions` (every categorised transaction by external id), `accepted` (which external ids
each target has confirmed, with the remote id) and `ledger` (the embedded `local` target).

Schema changes are numbered migrations applied in order inside one transaction and recorded in
`PRAGMA user_version`, so an upgrade never loses or re-imports data, and a database written by a
newer importer is refused instead of being damaged.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from importer.errors import StateError
from importer.models import Outcome, Source, Transaction, UploadResult
from importer.paths import create_private

TXN_COLUMNS = (
    "external_id, account, date, amount, currency, description, payee, memo, bank_id, balance, "
    "value_date, category, target_account, tags, notes, transfer_to, rule_id, source_path, "
    "source_line, source_record, raw"
)

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    f"""
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        command TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running'
    );
    CREATE TABLE files (
        sha256 TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_run_id INTEGER REFERENCES runs(id)
    );
    CREATE TABLE transactions (
        {TXN_COLUMNS.replace(', ', ' TEXT, ')} TEXT,
        file_sha256 TEXT,
        run_id INTEGER REFERENCES runs(id),
        stored_at TEXT NOT NULL,
        PRIMARY KEY (external_id)
    );
    CREATE TABLE accepted (
        target TEXT NOT NULL,
        external_id TEXT NOT NULL,
        remote_id TEXT,
        run_id INTEGER REFERENCES runs(id),
        accepted_at TEXT NOT NULL,
        PRIMARY KEY (target, external_id)
    );
    CREATE TABLE ledger (
        {TXN_COLUMNS.replace(', ', ' TEXT, ')} TEXT,
        run_id INTEGER REFERENCES runs(id),
        stored_at TEXT NOT NULL,
        PRIMARY KEY (external_id)
    );
    """,
    # 2: the upload journal (importer/journal.py): every batch is written here as pending, with
    # its idempotency key and content, before it is sent, and marked done with the remote ids.
    """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        key TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        status TEXT NOT NULL DEFAULT 'pending',
        size INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        error TEXT
    );
    CREATE INDEX batches_by_status ON batches (target, status);
    CREATE TABLE batch_items (
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        external_id TEXT NOT NULL,
        remote_id TEXT,
        PRIMARY KEY (batch_id, position)
    );
    CREATE INDEX batch_items_by_id ON batch_items (batch_id, external_id)
    """,
    # 3: layered dedupe, transfers and history.  `aliases` names the stored record another
    # external id turned out to be (the OFX line of a CSV line already imported, the pending line a
    # posted one replaced); `status` holds rows back for review; `pair_id` joins two legs of a
    # transfer; `run_files` remembers what each run read, for `importer history` and `undo`.
    """
    ALTER TABLE transactions ADD COLUMN status TEXT NOT NULL DEFAULT 'ok';
    ALTER TABLE transactions ADD COLUMN pair_id TEXT;
    ALTER TABLE ledger ADD COLUMN pair_id TEXT;
    ALTER TABLE files ADD COLUMN format TEXT;
    CREATE INDEX transactions_by_day ON transactions (account, date);
    CREATE INDEX transactions_by_date ON transactions (date);
    CREATE INDEX transactions_by_run ON transactions (run_id);
    CREATE INDEX transactions_by_pair ON transactions (pair_id);
    CREATE TABLE aliases (
        external_id TEXT PRIMARY KEY,
        canonical_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        created_at TEXT NOT NULL
    );
    CREATE INDEX aliases_by_canonical ON aliases (canonical_id);
    CREATE TABLE run_files (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        format TEXT,
        parsed INTEGER NOT NULL DEFAULT 0,
        stored INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, sha256)
    );
    CREATE VIEW ledger_book AS
        SELECT external_id, account, date, amount, currency, description, category, transfer_to, pair_id,
               CASE WHEN pair_id IS NULL THEN 'entry' ELSE 'transfer' END AS kind
        FROM ledger
        WHERE pair_id IS NULL OR amount LIKE '-%' OR NOT EXISTS (
            SELECT 1 FROM ledger AS other
            WHERE other.pair_id = ledger.pair_id AND other.external_id <> ledger.external_id
        )
    """,
)


_IN_CHUNK = 500  # ids per `IN (...)` query: far under SQLite's variable limit, few round trips
_STORE = (
    f"INSERT OR IGNORE INTO transactions ({TXN_COLUMNS}, file_sha256, run_id, stored_at, status) "
    f"VALUES ({', '.join('?' * (len(TXN_COLUMNS.split(', ')) + 4))})"
)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class State:
    """A handle on the state database; use as a context manager to close it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = _connect(path)
        migrate(self.db, path)

    def __enter__(self) -> "State":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit: everything inside commits together or not at all."""
        with self.db:
            yield self.db

    def rows_for(self, query: str, ids: Iterable[str], *params: object) -> Iterator[tuple[Any, ...]]:
        """The rows of `query`, whose `{}` is an `IN (...)` list, for every one of `ids` (each
        asked once), in chunks under SQLite's limit on variables; `params` bind before the ids."""
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            yield from self.db.execute(query.format(", ".join("?" * len(chunk))), (*params, *chunk))

    # runs -----------------------------------------------------------------------------------

    def begin_run(self, command: str) -> int:
        with self.db:
            # Callers hold the run lock, so a run still marked running was killed.
            self.db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cursor = self.db.execute("INSERT INTO runs (started_at, command) VALUES (?, ?)", (now_iso(), command))
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (now_iso(), status, run_id))

    # files ----------------------------------------------------------------------------------

    def record_file(self, sha256: str, path: Path, size: int, run_id: int) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO files (sha256, path, size, first_seen_at, last_run_id) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(sha256) DO UPDATE SET last_run_id = excluded.last_run_id, path = excluded.path",
                (sha256, str(path), size, now_iso(), run_id),
            )

    # transactions ---------------------------------------------------------------------------

    def store_transactions(
        self, txns: Sequence[Transaction], run_id: int, file_sha256: str | None, status: str = "ok"
    ) -> int:
        """Store categorised transactions not stored before; returns how many were new."""
        stored_at = now_iso()
        # A generator, not a list: executemany binds one row at a time, and a list of a million
        # encoded rows would be the largest thing in memory.
        rows = ((*transaction_row(t), file_sha256, run_id, stored_at, status) for t in txns)
        with self.db:
            before = self.db.total_changes
            self.db.executemany(_STORE, rows)
            return self.db.total_changes - before

    def set_status(self, external_ids: Sequence[str], status: str) -> None:
        """`ok` for a stored record to be sent, `review` for one held as a probable duplicate."""
        # Read first, write only what changes: an UPDATE per record cost as much as storing it.
        changing = [(status, e) for e, old in self.statuses(external_ids).items() if old != status]
        with self.db:
            self.db.executemany("UPDATE transactions SET status = ? WHERE external_id = ?", changing)

    def statuses(self, external_ids: Iterable[str]) -> dict[str, str]:
        """The stored status of each of `external_ids` that is stored."""
        return dict(self.rows_for("SELECT external_id, status FROM transactions WHERE external_id IN ({})", external_ids))

    def add_aliases(self, aliases: Sequence[tuple[str, str, str]], run_id: int) -> None:
        """Remember (external id, canonical id, reason): that id is the stored record `canonical`."""
        created = now_iso()
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO aliases VALUES (?, ?, ?, ?, ?)", [(*a, run_id, created) for a in aliases]
            )

    def replace_transaction(self, old_id: str, new: Transaction, run_id: int) -> None:
        """A pending line became `new`: update the stored record, what targets accepted and the
        local ledger in place (one transaction), and keep the old id as an alias of the new one."""
        new_id = new.external_id or ""
        values = transaction_row(new)[1:]
        assignments = ", ".join(f"{c} = ?" for c in TXN_COLUMNS.split(", ")[1:])
        with self.db:
            for table in ("transactions", "ledger"):
                self.db.execute(
                    f"UPDATE {table} SET external_id = ?, {assignments} WHERE external_id = ?", (new_id, *values, old_id)
                )
            self.db.execute("UPDATE accepted SET external_id = ? WHERE external_id = ?", (new_id, old_id))
            self.db.execute("UPDATE aliases SET canonical_id = ? WHERE canonical_id = ?", (new_id, old_id))
            self.db.execute(
                "INSERT OR REPLACE INTO aliases VALUES (?, ?, 'pending-posted', ?, ?)", (old_id, new_id, run_id, now_iso())
            )

    def record_run_file(self, run_id: int, sha256: str, path: Path, fmt: str | None, parsed: int, stored: int) -> None:
        with self.db:
            self.db.execute("UPDATE files SET format = ? WHERE sha256 = ?", (fmt, sha256))
            self.db.execute(
                "INSERT OR REPLACE INTO run_files VALUES (?, ?, ?, ?, ?, ?)", (run_id, sha256, str(path), fmt, parsed, stored)
            )

    def stored_transactions(self, table: str = "transactions") -> list[Transaction]:
        if table not in {"transactions", "ledger"}:
            raise ValueError(table)
        cursor = self.db.execute(f"SELECT {TXN_COLUMNS} FROM {table} ORDER BY date, external_id")
        return [transaction_from_row(row) for row in cursor]

    # what targets accepted ------------------------------------------------------------------

    def accepted_ids(self, target: str, external_ids: Iterable[str]) -> set[str]:
        """The subset of `external_ids` that `target` has already confirmed."""
        query = "SELECT external_id FROM accepted WHERE target = ? AND external_id IN ({})"
        return {row[0] for row in self.rows_for(query, external_ids, target)}

    def mark_accepted(self, target: str, results: Iterable[UploadResult], run_id: int) -> None:
        """Record confirmed records; a duplicate the target already held counts as confirmed too."""
        with self.db:
            self.mark_accepted_in(self.db, target, results, run_id)

    @staticmethod
    def mark_accepted_in(db: sqlite3.Connection, target: str, results: Iterable[UploadResult], run_id: int) -> None:
        """`mark_accepted` inside a transaction the caller already holds (it commits nothing)."""
        accepted_at = now_iso()
        rows = [
            (target, r.external_id, r.remote_id, run_id, accepted_at)
            for r in results
            if r.outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE)
        ]
        db.executemany("INSERT OR IGNORE INTO accepted VALUES (?, ?, ?, ?, ?)", rows)


def transaction_row(t: Transaction) -> tuple[object, ...]:
    """A Transaction as the column values of `TXN_COLUMNS` (money as exact decimal text)."""
    return (
        t.external_id, t.account, t.date.isoformat(), str(t.amount), t.currency, t.description,
        t.payee, t.memo, t.bank_id, None if t.balance is None else str(t.balance),
        None if t.value_date is None else t.value_date.isoformat(), t.category, t.target_account,
        _tags_json(t.tags), t.notes, t.transfer_to, t.rule_id, t.source.path, t.source.line,
        t.source.record, _RAW_JSON(t.raw),
    )  # fmt: skip


def _string_json(ensure_ascii: bool) -> Callable[[object], str]:
    """`json.JSONEncoder(ensure_ascii=...).encode` for dicts and lists of strings (equal output,
    tests/test_state.py).  `encode` builds a new C encoder per call, which was a third of the
    cost of storing a row; this one is built once."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return json.JSONEncoder(ensure_ascii=ensure_ascii).encode
    quote = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    encode = make(None, _not_serialisable, quote, None, ": ", ", ", False, False, True)
    return lambda value: "".join(encode(value, 0))


def _not_serialisable(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_RAW_JSON = _string_json(ensure_ascii=False)
_TAGS_JSON = _string_json(ensure_ascii=True)


def _tags_json(tags: Sequence[str]) -> str:
    return _TAGS_JSON(list(tags)) if tags else "[]"


def transaction_from_row(row: Sequence[object]) -> Transaction:
    (ext, account, day, amount, currency, description, payee, memo, bank_id, balance, value_date,
     category, target_account, tags, notes, transfer_to, rule_id, path, line, record, raw) = row  # fmt: skip
    return Transaction(
        external_id=ext, account=account, date=dt.date.fromisoformat(str(day)), amount=Decimal(str(amount)),
        currency=currency, description=description, payee=payee, memo=memo, bank_id=bank_id,
        balance=None if balance is None else Decimal(str(balance)),
        value_date=None if value_date is None else dt.date.fromisoformat(str(value_date)),
        category=category, target_account=target_account, tags=tuple(json.loads(str(tags or "[]"))),
        notes=notes, transfer_to=transfer_to, rule_id=rule_id,
        source=Source(path=str(path), line=line, record=record), raw=json.loads(str(raw or "{}")),
    )  # type: ignore[arg-type]  # fmt: skip


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the main
        # file's permissions, so the whole ledger stays readable by the user only.
        create_private(path)
        db = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        # 64 MB of page cache (the default is 2 MB): storing 100k rows with random-hash keys into
        # five indexes ran about twice as fast.  Pages are only taken as the database grows.
        db.execute("PRAGMA cache_size=-65536")
        return db
    except (sqlite3.Error, OSError) as exc:
        raise StateError(f"cannot open the state database {path}: {exc}") from None


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the schema up to date; refuse a database from a newer importer."""
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StateError(f"{path} is not a usable state database: {exc}") from None
    if version > len(MIGRATIONS):
        raise StateError(
            f"{path} was written by a newer importer (schema {version}, this one knows {len(MIGRATIONS)}); upgrade importer."
        )
    for number in range(version, len(MIGRATIONS)):
        _apply(db, number + 1, MIGRATIONS[number])


def _apply(db: sqlite3.Connection, number: int, script: str) -> None:
    # executescript would commit on its own; run statement by statement inside one transaction.
    with db:
        db.execute("BEGIN IMMEDIATE")
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {number}")
