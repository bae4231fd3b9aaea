"""The schema of the state database: numbered migrations, applied in order.

Every table is created here and nowhere else.  Each migration runs inside one transaction and is
recorded in `PRAGMA user_version`, so an upgrade never loses or re-imports data, and a database
written by a newer importer is refused instead of being damaged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from importer.core.accounts import normalise_identifier
from importer.core.errors import StateError
from importer.store.idkey import PG_ID_KEY
from importer.store.rows import TXN_COLUMNS
from importer.store.sqlbase import LANDED_LATER

# Migration 7's transactions row: TXN_COLUMNS with `source_line` an integer (1-3 bytes, not text)
# and no declared type elsewhere but TEXT; `source_path` is NULL where it is the file's path.
_TXN_TABLE_COLUMNS = ", ".join(f"{c} INTEGER" if c == "source_line" else f"{c} TEXT" for c in TXN_COLUMNS.split(", "))
# An old row in the new shape: path only where it differs from the file's, no `[]` tags, raw
# JSON re-encoded without spaces (json() keeps the keys' order and every value).
_OLD_ROW = ", ".join(
    {
        "source_path": "nullif(t.source_path, f.path)",
        "tags": "nullif(t.tags, '[]')",
        "raw": "CASE WHEN json_valid(t.raw) THEN json(t.raw) ELSE t.raw END",
    }.get(c, "t." + c)
    for c in TXN_COLUMNS.split(", ")
)
# The indexes of `transactions`, each for the queries named (EXPLAIN QUERY PLAN in
# tests/test_state_writeonce.py):
# - (date): every query by a span of days: dedupe candidates and the "seen under another name"
#   check (a few accounts: filtered in the span), transfer pairing (all accounts), gaps.  One
#   index on (account, date) beside it cost 76 bytes a row for queries this one serves;
# - (run_id): history, undo, and whether a run changed anything; grows at its end;
# - (pair_id) only where there is one: most rows are not a transfer leg, and `pair_id = ?`
#   implies the row has one, so the planner still uses it;
# - (ledger_run) only where landed: the ledger's rows of a run (history, undo), at its end;
#   from migration 11 on only where landed by a later run than the one that stored it
#   (`transactions_landed_later`, sqlbase.py LANDED_LATER).
_TXN_INDEXES = """
    CREATE INDEX transactions_by_date ON transactions (date);
    CREATE INDEX transactions_by_run ON transactions (run_id);
    CREATE INDEX transactions_by_pair ON transactions (pair_id) WHERE pair_id IS NOT NULL;
    CREATE INDEX transactions_by_ledger_run ON transactions (ledger_run) WHERE ledger_run IS NOT NULL
"""
# The unique index on the id's key (idkey.py): made by migrations 10 and 12, and made again by a
# large first import that dropped it while it stored (sqlite_stream.py `defer_key_index`).
KEY_INDEX = "CREATE UNIQUE INDEX transactions_by_key ON transactions (id_key)"
_LEDGER_RUN_INDEX = "CREATE INDEX transactions_by_ledger_run ON transactions (ledger_run) WHERE ledger_run IS NOT NULL"
_LANDED_LATER_INDEX = f"CREATE INDEX transactions_landed_later ON transactions (ledger_run) WHERE {LANDED_LATER}"
_READ_COLUMNS = ", ".join(
    {
        "source_path": "coalesce(t.source_path, f.path) AS source_path",
        "raw": "CASE WHEN substr(t.raw, 1, 1) = '[' THEN '[' || f.raw_columns || ',' || t.raw || ']' ELSE t.raw END AS raw",
    }.get(c, "t." + c)
    for c in TXN_COLUMNS.split(", ")
)
# `transaction_rows`: the stored rows with every column of before migration 7 (`row` is the
# rowid: the order they were stored in).  `ledger`: the local target's rows, in the columns of the
# table it was (run_id: the run that landed the row; stored_at: when that run started).
# `accepted_records`: `accepted` and the ledger's rows, as what each target holds.


def _rows_view(create: str, key: str) -> str:
    """`transaction_rows`, with the row's `key` column(s) from migration 10 on (`, t.id_key`)."""
    return f"""
    {create} transaction_rows AS
        SELECT t.rowid AS row, {_READ_COLUMNS}, f.sha256 AS file_sha256, t.file_id, t.run_id,
               r.started_at AS stored_at, t.status, t.pair_id, t.ledger_run{key}
        FROM transactions t LEFT JOIN files f ON f.id = t.file_id LEFT JOIN runs r ON r.id = t.run_id"""


_ACCEPTED_RECORDS = """CREATE VIEW accepted_records AS
        SELECT target, external_id, remote_id, run_id FROM accepted
        UNION ALL SELECT 'local', external_id, external_id, ledger_run FROM transactions WHERE ledger_run IS NOT NULL"""
# From migration 11 on: the ledger's rows in two parts, each reached through its own index.
_ACCEPTED_RECORDS_11 = f"""CREATE VIEW accepted_records AS
        SELECT target, external_id, remote_id, run_id FROM accepted
        UNION ALL SELECT 'local', external_id, external_id, ledger_run FROM transactions WHERE ledger_run = run_id
        UNION ALL SELECT 'local', external_id, external_id, ledger_run FROM transactions WHERE {LANDED_LATER}"""
_OTHER_VIEWS = f"""
    CREATE VIEW ledger AS
        SELECT {_READ_COLUMNS}, t.ledger_run AS run_id, r.started_at AS stored_at, t.pair_id
        FROM transactions t LEFT JOIN files f ON f.id = t.file_id LEFT JOIN runs r ON r.id = t.ledger_run
        WHERE t.ledger_run IS NOT NULL;
    {_ACCEPTED_RECORDS};
    CREATE VIEW ledger_book AS
        SELECT external_id, account, date, amount, currency, description, category, transfer_to, pair_id,
               CASE WHEN pair_id IS NULL THEN 'entry' ELSE 'transfer' END AS kind
        FROM ledger
        WHERE pair_id IS NULL OR amount LIKE '-%' OR NOT EXISTS (
            SELECT 1 FROM ledger AS other
            WHERE other.pair_id = ledger.pair_id AND other.external_id <> ledger.external_id
        )
"""
_TXN_VIEWS = _rows_view("CREATE VIEW", "") + ";" + _OTHER_VIEWS
_TXN_COLUMNS_7 = f"{TXN_COLUMNS}, file_id, run_id, status, pair_id, ledger_run"


def _keyed_table(run_key: str) -> str:
    """`transactions_new` as migrations 10 and 12 build it: keyed by `id_key`, the run's
    foreign key declared with `run_key` (12: checked at commit)."""
    return f"""CREATE TABLE transactions_new (
        {_TXN_TABLE_COLUMNS},
        file_id INTEGER,
        run_id INTEGER REFERENCES runs(id){run_key},
        status TEXT NOT NULL DEFAULT 'ok',
        pair_id TEXT,
        ledger_run INTEGER,
        id_key INTEGER
    )"""


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
        {TXN_COLUMNS.replace(", ", " TEXT, ")} TEXT,
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
        {TXN_COLUMNS.replace(", ", " TEXT, ")} TEXT,
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
    # 5: accounts by identity (importer/core/accounts.py).  `key` is what external ids are computed
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
    # 6: each imported statement's opening and closing balance per account (importer/reports/gaps.py),
    # tied to the file it came from, so `undo` forgets it with the file.  Importers before this
    # migration created the table themselves, in this very shape, when first needed: IF NOT EXISTS
    # adopts such a table as it is.
    """
    CREATE TABLE IF NOT EXISTS statement_balances (
        account TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        currency TEXT NOT NULL,
        start_date TEXT,
        end_date TEXT,
        opening TEXT,
        closing TEXT,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (account, file_sha256)
    );
    CREATE INDEX IF NOT EXISTS statement_balances_by_file ON statement_balances (file_sha256)
    """,
    # 7: each transaction written once (issue 16).  The local ledger was a second copy of every
    # stored row, `accepted` a third and the journal's `batch_items` a fourth: 1,550 bytes per
    # transaction.  Now the ledger is a view over the stored rows that `ledger_run` marks as landed
    # (the run that landed them; a small integer in the row itself, where a row in `accepted` cost
    # 180 bytes), the journal keeps a batch's ids in the batch row only while it is pending, and
    # the row names its file by `files.id` (the file's path is the row's unless it differs), its
    # time by its run, and its raw cells as JSON without spaces.  `transaction_rows` shows the rows
    # with every column as before, for reading.  Which index pays is said beside each below.
    f"""
    CREATE TABLE files_new (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_run_id INTEGER REFERENCES runs(id),
        format TEXT,
        raw_columns TEXT
    );
    INSERT INTO files_new (sha256, path, size, first_seen_at, last_run_id, format)
        SELECT sha256, path, size, first_seen_at, last_run_id, format FROM files ORDER BY rowid;
    INSERT INTO files_new (sha256, path, size, first_seen_at)
        SELECT file_sha256, min(source_path), 0, min(stored_at) FROM transactions
        WHERE file_sha256 IS NOT NULL AND file_sha256 NOT IN (SELECT sha256 FROM files_new) GROUP BY file_sha256;
    DROP TABLE files;
    ALTER TABLE files_new RENAME TO files;
    INSERT INTO transactions ({TXN_COLUMNS}, run_id, stored_at, status, pair_id)
        SELECT {TXN_COLUMNS}, run_id, stored_at, 'ok', pair_id FROM ledger
        WHERE external_id NOT IN (SELECT external_id FROM transactions);
    CREATE TABLE transactions_new (
        {_TXN_TABLE_COLUMNS},
        file_id INTEGER,
        run_id INTEGER REFERENCES runs(id),
        status TEXT NOT NULL DEFAULT 'ok',
        pair_id TEXT,
        ledger_run INTEGER,
        PRIMARY KEY (external_id)
    );
    INSERT INTO transactions_new
        SELECT {_OLD_ROW}, f.id, t.run_id, t.status, t.pair_id, l.run_id
        FROM transactions t LEFT JOIN files f ON f.sha256 = t.file_sha256
        LEFT JOIN ledger l ON l.external_id = t.external_id ORDER BY t.rowid;
    DELETE FROM accepted WHERE target = 'local';
    DROP VIEW ledger_book;
    DROP TABLE ledger;
    DROP TABLE transactions;
    ALTER TABLE transactions_new RENAME TO transactions;
    {_TXN_INDEXES};
    {_TXN_VIEWS};
    ALTER TABLE batches ADD COLUMN external_ids TEXT;
    ALTER TABLE batches ADD COLUMN confirmed INTEGER;
    UPDATE batches SET confirmed = (SELECT count(remote_id) FROM batch_items i WHERE i.batch_id = batches.id),
        external_ids = CASE WHEN status = 'pending' THEN (
            SELECT group_concat(external_id, char(10)) FROM
            (SELECT external_id FROM batch_items i WHERE i.batch_id = batches.id ORDER BY position)) END;
    DROP TABLE batch_items
    """,
    # 8: many workers on one state (importer/store/sql_workers.py).  `claims`: one row per inbox
    # file (by content) a watcher took, whose lease (server clock, milliseconds) its heartbeat
    # renews; `runs.owner`: which process ran a run (host and pid), shown, never trusted: a run's
    # liveness is its owner's session lock on PostgreSQL, the whole-state lock on SQLite.
    # Written once for both engines (BIGINT is an integer on both).
    """
    CREATE TABLE claims (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        worker TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'working',
        lease_until BIGINT NOT NULL,
        claimed_at TEXT NOT NULL
    );
    ALTER TABLE runs ADD COLUMN owner TEXT
    """,
    # 9: the API rate budget every worker on a shared state spends from (issue 17; sql_budget.py).
    # Per service and token (a hash of it, never the token): `rate_limits` holds a Retry-After that
    # pauses every worker, and is the row a worker locks to take from the budget; `rate_budgets`
    # one row per limit the service advertises (a header suffix): its capacity, and a token
    # bucket's level at `refilled_at` or a window's total spent; `rate_spent` a window's log.
    # Written in the dialect both engines share (DOUBLE PRECISION is SQLite's REAL).
    """
    CREATE TABLE rate_limits (
        service TEXT NOT NULL,
        token TEXT NOT NULL,
        blocked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        PRIMARY KEY (service, token)
    );
    CREATE TABLE rate_budgets (
        service TEXT NOT NULL,
        token TEXT NOT NULL,
        budget TEXT NOT NULL,
        capacity INTEGER,
        level DOUBLE PRECISION NOT NULL DEFAULT 0,
        refilled_at DOUBLE PRECISION NOT NULL DEFAULT 0,
        oldest DOUBLE PRECISION,
        PRIMARY KEY (service, token, budget)
    );
    CREATE TABLE rate_spent (
        booking TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        token TEXT NOT NULL,
        budget TEXT NOT NULL,
        stamp DOUBLE PRECISION NOT NULL,
        cost DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX rate_spent_by_stamp ON rate_spent (service, token, budget, stamp)
    """,
    # 10: the transactions indexed by an integer key of the external id (importer/store/idkey.py),
    # no longer by its text: at a million rows the text's index outgrew the page cache, and
    # storing slowed by a third and wrote twice the bytes.  The rows keep their rowids (the order
    # they were stored in, which the import's marks read) and every value; the views are the same
    # with the key beside (`transaction_rows` is looked up by it).  PostgreSQL's own: PG_MIGRATIONS.
    f"""
    DROP VIEW ledger_book;
    DROP VIEW accepted_records;
    DROP VIEW ledger;
    DROP VIEW transaction_rows;
    {_keyed_table("")};
    INSERT INTO transactions_new (rowid, {_TXN_COLUMNS_7}, id_key)
        SELECT rowid, {_TXN_COLUMNS_7}, id_key(external_id) FROM transactions ORDER BY rowid;
    DROP TABLE transactions;
    ALTER TABLE transactions_new RENAME TO transactions;
    {KEY_INDEX};
    {_TXN_INDEXES};
    {_rows_view("CREATE VIEW", ", t.id_key")};
    {_OTHER_VIEWS}
    """,
    # 11: the landed-run index keeps only rows landed by a later run than the one that stored
    # them (held rows released; LANDED_LATER).  A row bound for the local ledger is landed by
    # the run storing it, so the index held an entry for nearly every row, each one
    # found as well by the run index: maintaining it was a sixth of what SQLite's insert cost
    # (5,400 instructions a row of 24,000 for the five indexes).  `accepted_records` gives the
    # ledger's rows in two parts, so that a query by run reaches them through one index or
    # the other (both engines carry `ledger_run = run_id AND ledger_run = ?` over to `run_id = ?`).
    f"""
    DROP INDEX IF EXISTS transactions_by_ledger_run;  -- IF EXISTS: a state set back to an earlier version (tests)
    {_LANDED_LATER_INDEX.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS")};
    DROP VIEW IF EXISTS accepted_records;
    {_ACCEPTED_RECORDS_11}
    """,
    # 12 (SQLite; PostgreSQL: PG_MIGRATIONS): the foreign key on `transactions.run_id` is checked
    # at commit (DEFERRABLE INITIALLY DEFERRED), so that nothing can abort an INSERT of many rows
    # half way and SQLite keeps no statement journal for it (sqlite_stream.py `_insert_rows`: 64
    # rows a statement).  SQLite changes a table's constraints only by copying it, as in 10: the
    # rows keep their rowids and every value, the indexes and views are made again as 11 left them.
    f"""
    DROP VIEW ledger_book;
    DROP VIEW accepted_records;
    DROP VIEW ledger;
    DROP VIEW transaction_rows;
    {_keyed_table(" DEFERRABLE INITIALLY DEFERRED")};
    INSERT INTO transactions_new (rowid, {_TXN_COLUMNS_7}, id_key)
        SELECT rowid, {_TXN_COLUMNS_7}, id_key FROM transactions ORDER BY rowid;
    DROP TABLE transactions;
    ALTER TABLE transactions_new RENAME TO transactions;
    {KEY_INDEX};
    {_TXN_INDEXES.replace(_LEDGER_RUN_INDEX, _LANDED_LATER_INDEX)};
    {_rows_view("CREATE VIEW", ", t.id_key")};
    {_OTHER_VIEWS.replace(_ACCEPTED_RECORDS, _ACCEPTED_RECORDS_11)}
    """,
)
# Where PostgreSQL's migration differs: 10 keeps its primary key on the id's text (its B-tree
# serves the lookups well) and adds the key column the shared queries name, computed in SQL; 12
# has nothing to do (PostgreSQL stores a batch through `staged_rows` and keeps no statement
# journal; its foreign key stays checked at once).
PG_MIGRATIONS: dict[int, str] = {
    12: "",
    10: f"""
    {PG_ID_KEY};
    ALTER TABLE transactions ADD COLUMN IF NOT EXISTS id_key BIGINT;  -- a state set back to an earlier version (tests) runs it again
    UPDATE transactions SET id_key = id_key(external_id);
    {_rows_view("CREATE OR REPLACE VIEW", ", t.id_key")}
    """,
}


# The schema migrations 1-7 leave, as one definition in both dialects: what a new PostgreSQL
# state is created from in one step (postgres.py; tests/test_store_engines.py checks that SQLite
# built from it equals SQLite migrated 1 to 7).  `{key}` is an integer key the engine numbers
# (runs and batches are numbered by their inserts: sqlbase.NEXT_ID),
# `{rowid}` the `rowid` column SQLite gives every table and the queries order by (`ORDER BY rowid`,
# the `row` of `transaction_rows`), which PostgreSQL tables have only when declared.
SCHEMA = f"""
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        command TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running'
    );
    CREATE TABLE files (
        id {{key}},
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_run_id INTEGER REFERENCES runs(id),
        format TEXT,
        raw_columns TEXT
    );
    CREATE TABLE transactions (
        {_TXN_TABLE_COLUMNS},
        file_id INTEGER,
        run_id INTEGER REFERENCES runs(id),
        status TEXT NOT NULL DEFAULT 'ok',
        pair_id TEXT,
        ledger_run INTEGER,
        PRIMARY KEY (external_id){{rowid}}
    );
    {_TXN_INDEXES};
    CREATE TABLE accepted (
        target TEXT NOT NULL,
        external_id TEXT NOT NULL,
        remote_id TEXT,
        run_id INTEGER REFERENCES runs(id),
        accepted_at TEXT NOT NULL,
        PRIMARY KEY (target, external_id)
    );
    CREATE INDEX accepted_by_run ON accepted (run_id);
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        key TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        status TEXT NOT NULL DEFAULT 'pending',
        size INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        error TEXT,
        external_ids TEXT,
        confirmed INTEGER
    );
    CREATE INDEX batches_by_status ON batches (target, status);
    CREATE INDEX batches_by_run ON batches (run_id);
    CREATE TABLE aliases (
        external_id TEXT PRIMARY KEY,
        canonical_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        created_at TEXT NOT NULL
    );
    CREATE INDEX aliases_by_canonical ON aliases (canonical_id);
    CREATE INDEX aliases_by_run ON aliases (run_id);
    CREATE TABLE run_files (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        format TEXT,
        parsed INTEGER NOT NULL DEFAULT 0,
        stored INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, sha256)
    );
    CREATE TABLE held (
        id {{autokey}},
        external_id TEXT NOT NULL UNIQUE,
        match_id TEXT,
        run_id INTEGER REFERENCES runs(id),
        held_at TEXT NOT NULL,
        decision TEXT,
        decided_run_id INTEGER REFERENCES runs(id),
        decided_at TEXT
    );
    CREATE TABLE quiet_runs (
        id {{key}},
        started_at TEXT NOT NULL,
        finished_at TEXT,
        command TEXT NOT NULL,
        status TEXT NOT NULL,
        files INTEGER NOT NULL DEFAULT 0,
        parsed INTEGER NOT NULL DEFAULT 0,
        follows INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE accounts (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        recipe TEXT NOT NULL DEFAULT 'v2',
        basis TEXT,
        currency TEXT,
        created_at TEXT NOT NULL{{rowid}}
    );
    CREATE TABLE account_identifiers (
        identifier TEXT PRIMARY KEY,
        account_key TEXT NOT NULL REFERENCES accounts(key){{rowid}}
    );
    CREATE TABLE statement_balances (
        account TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        currency TEXT NOT NULL,
        start_date TEXT,
        end_date TEXT,
        opening TEXT,
        closing TEXT,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (account, file_sha256)
    );
    CREATE INDEX statement_balances_by_file ON statement_balances (file_sha256);
    {_TXN_VIEWS}
"""
# `{autokey}`: a number never given to another row (`held`: SQLite's AUTOINCREMENT; every
# PostgreSQL identity is so); SQLite's other keys are its rowid, the highest plus one.
_DIALECT_TOKENS = {
    "sqlite": {"key": "INTEGER PRIMARY KEY", "autokey": "INTEGER PRIMARY KEY AUTOINCREMENT", "rowid": ""},
    "postgresql": {
        "key": "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        "autokey": "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        "rowid": ",\n        rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE",
    },
}


def current_schema(dialect: str) -> list[str]:
    """The statements creating the latest schema in `dialect` (`sqlite` or `postgresql`)."""
    text = SCHEMA.format(**_DIALECT_TOKENS[dialect])
    return [statement.strip() for statement in text.split(";") if statement.strip()]


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
        try:
            _apply(db, number + 1, MIGRATIONS[number])
        except sqlite3.IntegrityError as exc:  # e.g. 10: two stored ids sharing a key (idkey.py)
            raise StateError(
                f"{path} cannot be upgraded to schema {number + 1}: {exc}. It was left as it was; "
                "please report this to the importer's maintainers."
            ) from None
    if any(version < number <= len(MIGRATIONS) for number in _REBUILT_TRANSACTIONS):
        _give_back_free_pages(db)


_REBUILT_TRANSACTIONS = (10, 12)  # the migrations that copy `transactions` into a new table


def _give_back_free_pages(db: sqlite3.Connection) -> None:
    """After migration 10 or 12: the old `transactions` table's pages stay in the file as free pages
    (a million-row state grew from 327 to 566 MB).  Later imports would reuse them, but an
    upgrade should not leave the file twice its size, so it is compacted once when more than a
    quarter of it is free.  A VACUUM another connection keeps busy is skipped, not an error."""
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    if free * 4 <= pages:
        return
    try:
        db.execute("VACUUM")
    except sqlite3.OperationalError:  # busy: the free pages are used by the next imports instead
        return


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
