"""The state database in PostgreSQL: the `Store` (base.py) for states shared by many workers.

`PostgresStore` is the SQLite store's own query classes (sqlite.py's `CoreSql` and the `sqlite_*`
modules, written in the SQL both engines share) over `PgBase`, a PostgreSQL connection with
sqlite3's call shape (`PgDb`): `?` and `:name` parameters become psycopg's `%s` and `%(name)s`
once per SQL text, and transactions are begun and ended explicitly on an autocommit connection,
exactly as `SqlBase.transaction()` does on SQLite (savepoints for nested units).  Only what must
differ is written here: storing a batch (COPY into a staging table, then one INSERT ... SELECT
that skips rows already stored), creating the schema, `durable`, `copy_to`.

The schema: a new PostgreSQL state is created in one step at the latest version, from
migrations.py's `SCHEMA` (the result of migrations 1-7, one definition in both dialects); its
version is the one row of `schema_version` (PostgreSQL has no `user_version`), and a state written
by a newer importer is refused.  Every migration after 7 is written for both engines and applied
here as on SQLite.  Tables whose rows the queries order by SQLite's `rowid` get a `rowid` identity.

The driver is imported when a PostgreSQL state is first opened: an SQLite user never pays for it.
The URL's password never leaves `PgUrl` (url.py) except to the driver; messages show it masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.config.state_location import PgUrl, mask
from importer.core.batch import TxBatch
from importer.core.errors import StateError
from importer.internals.lazy import lazy_module
from importer.store.base import Store
from importer.store.migrations import MIGRATIONS, PG_MIGRATIONS, current_schema
from importer.store.postgres_workers import PgWorkersSql
from importer.store.rows import TXN_COLUMNS, now_iso
from importer.store.sql_budget import BudgetSql, SharedRates
from importer.store.sqlbase import BY_ID, Cursor, SqlBase, by_id
from importer.store.sqlite import CoreSql
from importer.store.sqlite_dedupe import DedupeSql
from importer.store.sqlite_history import HistorySql
from importer.store.sqlite_journal import JournalSql
from importer.store.sqlite_reports import ReportsSql

if TYPE_CHECKING:
    import psycopg
else:
    psycopg = lazy_module("psycopg")

# The first version a PostgreSQL state can have: it is created at the latest one, never older
# than the migrations written for both engines.
FIRST_SHARED_MIGRATION = 7
_SCHEMA_LOCK = 0x696D706F72746572  # "importer": two processes creating one schema take turns
_CONNECT_TIMEOUT = 30  # seconds
# A statement with a parameter: `?`, or `:name` (not a `::` cast, not inside a word).
_PARAMETER = re.compile(r"\?|(?<![:\w]):([A-Za-z_]\w*)")
_STAGED = f"{TXN_COLUMNS}, file_id, run_id, status, ledger_run"
_STAGE = f"CREATE TEMP TABLE staged_rows AS SELECT {_STAGED}, rowid AS seq FROM transactions WITH NO DATA"
_COPY = f"COPY staged_rows ({_STAGED}, seq) FROM STDIN"
# File order is the `rowid` order the marks and `new_rows` read by; a row stored before is skipped.
_FROM_STAGE = (
    f"INSERT INTO transactions ({_STAGED}, id_key) SELECT {_STAGED}, id_key(external_id) FROM staged_rows "
    "ORDER BY seq ON CONFLICT DO NOTHING"
)
# A held row's number inside a dry run.  Not from the identity's sequence, which a rollback does
# not give back: each dry run that held rows would leave a gap in the numbers `importer held list`
# shows and users type (SQLite's AUTOINCREMENT counter rolls back with the rest).  Below zero, from
# the held row's own stored `rowid` (unique: dry runs on other workers never wait for one number,
# nor collide with a real run's), and never seen, as the dry run is undone.  The row is stored
# before it is held (importer/dedupe/layers.py `record`); one held before keeps its number.
_HOLD_IN_A_DRY_RUN = (
    "INSERT INTO held (id, external_id, match_id, run_id, held_at) "
    f"SELECT -rowid, external_id, ?, ?, ? FROM transactions WHERE {BY_ID} "
    "ON CONFLICT (external_id) DO UPDATE SET match_id = coalesce(excluded.match_id, held.match_id)"
)


@lru_cache(maxsize=512)
def dialect(sql: str) -> str:
    """`sql` with the common dialect's parameters (`?`, `:name`) as psycopg's (`%s`, `%(name)s`);
    a literal `%` (LIKE 'Transfer:%') doubled, as psycopg reads `%` in a statement with parameters."""
    return _PARAMETER.sub(_psycopg_parameter, sql.replace("%", "%%"))


def _psycopg_parameter(found: re.Match[str]) -> str:
    return "%s" if found.group(0) == "?" else f"%({found.group(1)})s"


class PgDb:
    """A PostgreSQL connection in sqlite3's call shape, for the queries written for both engines."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters: Any = None, /) -> Cursor:
        if parameters is None:  # no parameters: psycopg reads the text as it is
            return self.connection.execute(sql.encode())
        return self.connection.execute(dialect(sql).encode(), parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        cursor = self.connection.cursor()
        cursor.executemany(dialect(sql).encode(), parameters)
        return cursor

    @contextmanager
    def copy(self, statement: str) -> Iterator[psycopg.Copy]:
        """A `COPY ... FROM STDIN` to write rows into (`write_row`)."""
        with self.connection.cursor() as cursor, cursor.copy(statement.encode()) as copy:
            yield copy

    def commit(self) -> None:
        self.connection.execute(b"COMMIT")

    def rollback(self) -> None:
        self.connection.execute(b"ROLLBACK")

    def close(self) -> None:
        self.connection.close()


class PgBase(SqlBase):
    """A handle on a PostgreSQL state; use as a context manager to close it."""

    path: PgUrl
    _JSON_LIST = "SELECT jsonb_array_elements_text(?::jsonb)"
    _JSON_KEYS = "SELECT jsonb_array_elements_text(?::jsonb)::bigint"
    _JSON_TABLE = "jsonb_array_elements_text(?::jsonb) AS {name}(value)"

    def __init__(self, url: PgUrl) -> None:
        self.path = url
        self.integrity_errors = (psycopg.IntegrityError,)
        self.database_errors = (psycopg.Error,)
        self.pg = PgDb(connect(url))
        self.db = self.pg
        self._depth = 0
        try:
            self._create_or_check()
            self.db.execute(_STAGE)  # a temporary table: this connection's own, gone with it
        except BaseException as exc:
            self.close()
            if isinstance(exc, psycopg.Error):
                raise StateError(f"cannot use the state database {url}: {mask(str(exc).strip(), url)}") from None
            raise

    def _create_or_check(self) -> None:
        """Create the schema at the latest version, or bring it up to date; refuse a newer one."""
        with self.transaction():
            self.db.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            version = self._version()
            if version is None:
                self._create()
                version = FIRST_SHARED_MIGRATION  # then every migration written for both engines
            elif version > len(MIGRATIONS):
                raise StateError(
                    f"{self.path} was written by a newer importer (schema {version}, this one knows "
                    f"{len(MIGRATIONS)}); upgrade importer."
                )
            for number in range(version, len(MIGRATIONS)):
                self._upgrade(number + 1)

    def _version(self) -> int | None:
        if self.db.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None:
            return None
        return int(self.db.execute("SELECT version FROM schema_version").fetchone()[0])

    def _create(self) -> None:
        """The schema migrations 1-7 leave; the caller applies the later ones."""
        for statement in current_schema("postgresql"):
            self.db.execute(statement)
        self.db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        self.db.execute("INSERT INTO schema_version VALUES (?)", (FIRST_SHARED_MIGRATION,))

    def _upgrade(self, number: int) -> None:
        """Migration `number` (after 7: written for both engines), in the caller's transaction."""
        for statement in PG_MIGRATIONS.get(number, MIGRATIONS[number - 1]).split(";"):
            if statement.strip():
                self.db.execute(statement)
        self.db.execute("UPDATE schema_version SET version = ?", (number,))

    def durable(self) -> None:
        """Nothing to do: a PostgreSQL commit is on disk when COMMIT returns (the server's
        `synchronous_commit`, on by default, is the operator's choice, not ours)."""

    def copy_to(self, path: Path) -> Store:
        """Refused: a scratch copy is an SQLite file's; a dry run on PostgreSQL uses `scratch()`."""
        raise StateError(f"{self.path} is a PostgreSQL state: it cannot be copied to {path}; dry runs use scratch()")


class PostgresStore(PgWorkersSql, CoreSql, HistorySql, JournalSql, DedupeSql, ReportsSql, BudgetSql, PgBase):
    """The state database in PostgreSQL; use as a context manager to close it."""

    def __init__(self, url: PgUrl, lock_wait: float = 0.0) -> None:
        super().__init__(url)
        self.lock_wait = lock_wait  # how long a file's import waits for its account (--wait)
        self._owned: set[int] = set()
        self._dry_run = False  # inside `scratch()`: everything is rolled back at its end

    def __enter__(self) -> PostgresStore:
        return self

    @contextmanager
    def scratch(self) -> Iterator[None]:
        """`SqlBase.scratch`, known to `hold` as a dry run while it lasts."""
        self._dry_run = True
        try:
            with super().scratch():
                yield
        finally:
            self._dry_run = False

    def hold(self, held: Sequence[tuple[str, str | None]], run_id: int) -> None:
        """`CoreSql.hold`; in a dry run without spending the numbers users see (`_HOLD_IN_A_DRY_RUN`)."""
        if not self._dry_run:
            super().hold(held, run_id)
            return
        now = now_iso()
        with self.transaction():
            self.db.executemany(_HOLD_IN_A_DRY_RUN, [(match, run_id, now, *by_id(ext)) for ext, match in held])

    def shared_rates(self) -> SharedRates:
        """The API budget every worker on this state spends from (sql_budget.py), on a second
        connection: one per process is enough, as its threads take turns on it."""
        if self._rates is None:
            self._rates = self.open_rates()
        return self._rates

    def open_rates(self) -> SharedRates:
        db = PgDb(connect(self.path))
        # A budget lost to a server crash is relearnt from the next answer's headers: a commit
        # need not wait for the disk (it was three waits per request).
        db.execute("SET synchronous_commit TO OFF")
        return SharedRates(db, self.path, self.database_errors)

    def store_batch(
        self, batch: TxBatch, rows: Sequence[int], run_id: int, file_sha256: str, landed: bool = False
    ) -> int:
        """`StreamSql.store_batch` through COPY: the rows go to a staging table in one stream,
        then into `transactions` in file order, those stored before skipped; how many were new."""
        if not rows:
            return 0
        with self.joined():  # part of the file's transaction (sqlbase.py `joined`)
            file_id, values = self.batch_values(batch, rows, file_sha256)
            self.db.execute("DELETE FROM staged_rows")
            ledger_run = run_id if landed else None
            with self.pg.copy(_COPY) as copy:
                for seq, row in enumerate(zip(*values)):
                    copy.write_row((*row, file_id, run_id, "ok", ledger_run, seq))
            return max(self.db.execute(_FROM_STAGE).rowcount, 0)

    def defer_key_index(self, after: int) -> bool:
        """Never on PostgreSQL: its primary key is on the id's text, shared by the workers
        storing at once, and its cost at ten million rows has not been measured (README)."""
        return False


def connect(url: PgUrl) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url.url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT, application_name="importer")
    except psycopg.Error as exc:
        raise StateError(f"cannot open the state database {url}: {mask(str(exc).strip(), url)}") from None
