"""The state database: one SQLite file holding what the importer has seen and sent.

Tables: `runs` (one row per run that changed something; dry runs and runs that changed nothing
move to `quiet_runs`), `files` (every statement file by sha256),
`transactions` (every categorised transaction by external id), `accepted` (which external ids
each target has confirmed, with the remote id), `ledger` (the embedded `local` target) and
`held` (rows held as probable duplicates, and what the user decided).

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

from importer.run.accounts import Account, normalise_identifier
from importer.core.errors import StateError
from importer.core.models import Outcome, Source, Transaction, UploadResult
from importer.config.paths import create_private

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
    # 2: the upload journal (importer/run/journal.py): every batch is written here as pending, with
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
    # 4: held rows and quiet runs.  `held` gives each row held as a probable duplicate a short
    # number the user types (AUTOINCREMENT: a number is never given to another row), the stored
    # record it resembles, and the user's decision (`released`: sent by run `decided_run_id`;
    # `dropped`: never imported nor held again).  `quiet_runs` keeps dry runs and runs that
    # changed nothing out of `runs`, so they take no run number (importer/run/history.py); `follows`
    # is the numbered run before it, which orders the listing (timestamps are to the second).
    # The indexes on `run_id` let a finished run tell, without reading whole tables, whether it
    # changed anything, and let SQLite check that nothing refers to a run it deletes: without
    # them a quiet run over a million landed records took 5 s to finish, with them under 1 ms.
    # They grow at their end (run ids only increase), so storing barely pays for them.
    """
    CREATE TABLE held (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        external_id TEXT NOT NULL UNIQUE,
        match_id TEXT,
        run_id INTEGER REFERENCES runs(id),
        held_at TEXT NOT NULL,
        decision TEXT,
        decided_run_id INTEGER REFERENCES runs(id),
        decided_at TEXT
    );
    INSERT INTO held (external_id, run_id, held_at)
        SELECT external_id, run_id, stored_at FROM transactions WHERE status = 'review' ORDER BY rowid;
    CREATE TABLE quiet_runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        command TEXT NOT NULL,
        status TEXT NOT NULL,
        files INTEGER NOT NULL DEFAULT 0,
        parsed INTEGER NOT NULL DEFAULT 0,
        follows INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX accepted_by_run ON accepted (run_id);
    CREATE INDEX ledger_by_run ON ledger (run_id);
    CREATE INDEX aliases_by_run ON aliases (run_id);
    CREATE INDEX batches_by_run ON batches (run_id)
    """,
    # 5: accounts by identity (importer/run/accounts.py).  `key` is what external ids are computed
    # from and never changes; `name` is how the account is shown, renamed at will.  The accounts
    # already stored keep their ids: recipe v1, from the name they had (`basis`).  Written to be
    # applied again harmlessly (IF NOT EXISTS, OR IGNORE): an account already there stays as it is.
    """
    CREATE TABLE IF NOT EXISTS accounts (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        recipe TEXT NOT NULL DEFAULT 'v2',
        basis TEXT,
        currency TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS account_identifiers (
        identifier TEXT PRIMARY KEY,
        account_key TEXT NOT NULL REFERENCES accounts(key)
    );
    INSERT OR IGNORE INTO accounts (key, name, recipe, basis, created_at)
        SELECT 'legacy:' || account, account, 'v1', account, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
        FROM (SELECT DISTINCT account FROM transactions WHERE account IS NOT NULL)
    """,
)

# How a run ended: `interrupted` is also what a run still marked `running` becomes when the next
# one starts (it was killed); `undoing`/`undone` are set by importer/run/history.py.
RUN_STATUSES = frozenset({"running", "ok", "failed", "interrupted", "undoing", "undone"})


_IN_CHUNK = 500  # ids per `IN (...)` query: far under SQLite's variable limit, few round trips
_STORE = (
    f"INSERT OR IGNORE INTO transactions ({TXN_COLUMNS}, file_sha256, run_id, stored_at, status) "
    f"VALUES ({', '.join('?' * (len(TXN_COLUMNS.split(', ')) + 4))})"
)


# Whether a run left a trace beyond the files it read (a quiet run leaves none: see `quiet_run`).
_CHANGED = """
SELECT EXISTS (SELECT 1 FROM transactions WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM accepted WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM batches WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM aliases WHERE run_id = :run)
    OR EXISTS (SELECT 1 FROM ledger WHERE run_id = :run)
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
_FILES_LAST_RUN = """
UPDATE files SET last_run_id = (SELECT max(run_id) FROM run_files f WHERE f.sha256 = files.sha256)
WHERE last_run_id = :run
"""


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
            killed_dry = self.db.execute("SELECT id FROM runs WHERE status = 'running' AND command = 'dry-run'").fetchall()
            self.db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        for (dry_run,) in killed_dry:  # a dry run changed nothing, killed or not
            self.quiet_run(dry_run)
        with self.db:
            cursor = self.db.execute("INSERT INTO runs (started_at, command) VALUES (?, ?)", (now_iso(), command))
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str) -> None:
        """Record how run `run_id` ended; a dry run, or a run that ended `ok` having changed nothing,
        becomes a quiet run and gives its number back (see `quiet_run`)."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self.db:
            self.db.execute("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (now_iso(), status, run_id))
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
            with self.db:
                self.db.execute(_QUIET_COPY, {"run": run_id})
                self.db.execute("DELETE FROM run_files WHERE run_id = ?", (run_id,))
                self.db.execute(_FILES_LAST_RUN, {"run": run_id})
                self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        except sqlite3.IntegrityError:
            pass  # something refers to it: it did something after all, and stays a numbered run

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
            self.db.execute("UPDATE held SET match_id = ? WHERE match_id = ?", (new_id, old_id))
            self.db.execute(
                "INSERT OR REPLACE INTO aliases VALUES (?, ?, 'pending-posted', ?, ?)", (old_id, new_id, run_id, now_iso())
            )

    def record_run_file(self, run_id: int, sha256: str, path: Path, fmt: str | None, parsed: int, stored: int) -> None:
        with self.db:
            self.db.execute("UPDATE files SET format = ? WHERE sha256 = ?", (fmt, sha256))
            self.db.execute(
                "INSERT OR REPLACE INTO run_files VALUES (?, ?, ?, ?, ?, ?)", (run_id, sha256, str(path), fmt, parsed, stored)
            )

    # rows held as probable duplicates ------------------------------------------------------

    def hold(self, held: Sequence[tuple[str, str | None]], run_id: int) -> None:
        """Remember (external id, id of the stored record it resembles) for rows held for review;
        a row held again keeps its number and the run that first held it."""
        rows = [(ext, match, run_id, now_iso()) for ext, match in held]
        with self.db:
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
            "JOIN transactions t ON t.external_id = h.external_id "
            "LEFT JOIN transactions m ON m.external_id = h.match_id "
            "WHERE t.status = ? ORDER BY t.source_path, h.id",
            (status,),
        ).fetchall()

    def decide_held(self, external_ids: Sequence[str], decision: str, run_id: int | None) -> None:
        """`released` (stored `ok`, sent by run `run_id`) or `dropped` (never imported, never held
        again): the row's status and the decision change together."""
        status = {"released": "ok", "dropped": "dropped"}[decision]
        now = now_iso()
        with self.db:
            self.db.executemany("UPDATE transactions SET status = ? WHERE external_id = ?", [(status, e) for e in external_ids])
            self.db.executemany(
                "UPDATE held SET decision = ?, decided_run_id = ?, decided_at = ? WHERE external_id = ?",
                [(decision, run_id, now, e) for e in external_ids],
            )

    def stored_transactions(self, table: str = "transactions") -> list[Transaction]:
        if table not in {"transactions", "ledger"}:
            raise ValueError(table)
        cursor = self.db.execute(f"SELECT {TXN_COLUMNS} FROM {table} ORDER BY date, external_id")
        return [transaction_from_row(row) for row in cursor]

    # accounts -------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """Every account, with its identifiers, in the order they were created."""
        identifiers: dict[str, list[str]] = {}
        for identifier, key in self.db.execute("SELECT identifier, account_key FROM account_identifiers ORDER BY rowid"):
            identifiers.setdefault(key, []).append(identifier)
        rows = self.db.execute("SELECT key, name, recipe, basis, currency FROM accounts ORDER BY rowid")
        return [Account(key, name, recipe, basis, currency, tuple(identifiers.get(key, ()))) for key, name, recipe, basis, currency in rows]

    def save_accounts(self, accounts: Iterable[Account]) -> None:
        """Store new accounts and new identifiers of known ones (a rename is `rename_account`)."""
        created = now_iso()
        with self.db:
            for a in accounts:
                self.db.execute(
                    "INSERT OR IGNORE INTO accounts (key, name, recipe, basis, currency, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (a.key, a.name, a.recipe, a.basis, a.currency, created),
                )
                self.db.executemany("INSERT OR IGNORE INTO account_identifiers VALUES (?, ?)", [(i, a.key) for i in a.identifiers])

    def rename_account(self, old: str, new: str) -> int:
        """Show account `old` as `new` everywhere a name is kept; its key and ids do not change.
        Returns how many stored transactions now show the new name."""
        with self.db:
            self.db.execute("UPDATE accounts SET name = ? WHERE name = ?", (new, old))
            moved = self.db.execute("UPDATE transactions SET account = ? WHERE account = ?", (new, old)).rowcount
            for table, column in (("ledger", "account"), ("transactions", "transfer_to"), ("ledger", "transfer_to"),
                                  ("transactions", "target_account"), ("ledger", "target_account")):  # fmt: skip
                self.db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new, old))
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'statement_balances'").fetchone():
                self.db.execute("UPDATE statement_balances SET account = ? WHERE account = ?", (new, old))
        return int(moved)

    def account_activity(self) -> dict[str, tuple[str | None, str | None, int]]:
        """Per account name: its first and last transaction date and how many are stored."""
        rows = self.db.execute("SELECT account, MIN(date), MAX(date), COUNT(*) FROM transactions GROUP BY account")
        return {name: (first, last, count) for name, first, last, count in rows}

    def file_accounts(self, sha256: str) -> set[str]:
        """The accounts the rows stored from the file `sha256` belong to."""
        rows = self.db.execute("SELECT DISTINCT account FROM transactions WHERE file_sha256 = ?", (sha256,))
        return {name for (name,) in rows}

    def fingerprints(self, start: dt.date, end: dt.date, other_than: str) -> Iterator[tuple[str, str, str, str]]:
        """(account, date, amount, description) of the rows stored between `start` and `end`
        under another account than `other_than`, for the "seen under another name" check."""
        yield from self.db.execute(
            "SELECT account, date, amount, description FROM transactions WHERE date BETWEEN ? AND ? AND account <> ?",
            (start.isoformat(), end.isoformat(), other_than),
        )

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
    )  # fmt: skip


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


def _legacy_identifiers(db: sqlite3.Connection) -> None:
    """Migration 5, second half: an account stored before identities under the name an OFX, camt
    or MT940 file gave it (BANKID:ACCTID, the IBAN, the :25: text) is that identifier's account,
    so the same file read again lands in it without --account."""
    rows = db.execute(
        "SELECT DISTINCT t.account FROM transactions t JOIN files f ON f.sha256 = t.file_sha256 "
        "WHERE f.format IN ('ofx', 'camt', 'mt940')"
    ).fetchall()
    pairs = [(normalise_identifier(name), "legacy:" + name) for (name,) in rows if any(c.isdigit() for c in name)]
    db.executemany("INSERT OR IGNORE INTO account_identifiers VALUES (?, ?)", pairs)


# Work a migration needs beyond its SQL, run in the same transaction right after it.
_AFTER: dict[int, Callable[[sqlite3.Connection], None]] = {5: _legacy_identifiers}


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
        if number in _AFTER:
            _AFTER[number](db)
        db.execute(f"PRAGMA user_version = {number}")
