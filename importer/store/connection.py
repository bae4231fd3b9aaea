"""The SQLite connection under the store: opening the file, its pragmas, migrating it.

The query classes (sqlite.py and the `sqlite_*` modules, one per table area) are written against
sqlbase.py's `SqlBase`, which holds the transactions and many-id queries both engines share; this
is the SQLite side of it (postgres.py's `PgBase` is the other).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from importer.config.paths import create_private
from importer.core.errors import StateError
from importer.internals.sqlite_mode import before_open
from importer.store.idkey import id_key
from importer.store.migrations import migrate
from importer.store.sqlbase import SqlBase, marks

__all__ = ["SqliteBase", "marks"]


class SqliteBase(SqlBase):
    """A handle on the state database in an SQLite file; use as a context manager to close it."""

    _BEGIN = "BEGIN IMMEDIATE"  # take the write lock now, not at the first write
    integrity_errors = (sqlite3.IntegrityError,)
    database_errors = (sqlite3.Error,)

    path: Path

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite3.Connection = _connect(path)
        self._depth = 0
        migrate(self.db, path)

    def durable(self) -> None:
        """Make every committed transaction survive a power cut, not only a crash."""
        # synchronous=NORMAL makes WAL commits survive a crash; a checkpoint writes them home.
        self.db.execute("PRAGMA wal_checkpoint(FULL)")


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the main
        # file's permissions, so the whole ledger stays readable by the user only.
        create_private(path)
        before_open()  # the command line's SQLite set-up (internals/sqlite_mode.py)
        # isolation_level=None: transactions are begun and ended by `transaction()` alone (the
        # sqlite3 module would otherwise begin one before a write and commit at `with db`).
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        # 16 KB pages (SQLite's default is 4 KB), taken only by a file with no table yet: an
        # existing state keeps the size it was created with.  A million-row import wrote its
        # pages in a quarter of the system calls (system time 2.7-3.0 -> 1.6-1.8 s), and at ten
        # million rows the key index's pages were written out again less often (bytes written
        # 3.9x -> 3.3x the database's growth: README, "Benchmarks").  Set before WAL mode, which
        # fixes the size.
        db.execute("PRAGMA page_size=16384")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        # 32 MB of page cache (the default is 2 MB): storing 100k rows with random-hash keys into
        # five indexes ran about twice as fast.  Pages are only taken as the database grows; 64 MB
        # took a million-row import's peak 45 MB past 300 MB for a few per cent of CPU.
        db.execute("PRAGMA cache_size=-32768")
        # The key `transactions` is indexed by (idkey.py), for the queries and migration 10.
        db.create_function("id_key", 1, id_key, deterministic=True)
        return db
    except (sqlite3.Error, OSError) as exc:
        raise StateError(f"cannot open the state database {path}: {exc}") from None
