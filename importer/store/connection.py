"""The SQLite connection under every part of the store: opening, migrating, atomic units.

The store's SQLite classes (sqlite.py and the `sqlite_*` modules, one per table area) share this
base, so there is one connection, one way to open a transaction and one way to ask about many ids.
A transaction opened inside another joins it: a caller can make several store calls one atomic
unit (the journal lands a batch, records it and marks it accepted together) while each call on
its own stays atomic too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from importer.config.paths import create_private
from importer.core.errors import StateError
from importer.store.migrations import migrate

_IN_CHUNK = 500  # ids per `IN (...)` query: far under SQLite's variable limit, few round trips


class SqliteBase:
    """A handle on the state database; use as a context manager to close it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = _connect(path)
        self._depth = 0  # how many `transaction()` blocks are open: only the outermost commits
        migrate(self.db, path)

    def __enter__(self) -> SqliteBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: everything inside commits together or not at all.

        Nested in another, it is a savepoint of the outer one: its failure undoes only its own
        work, and nothing is committed before the outermost unit ends.  That is how a file's
        batches, each stored in its own unit, land all together or not at all, and how one file
        failing inside a dry run's scratch transaction leaves the files before it as they were."""
        if self._depth:
            yield from self._savepoint()
            return
        self.db.execute("BEGIN IMMEDIATE")  # take the write lock now, not at the first write
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.commit()
        finally:
            self._depth = 0

    @contextmanager
    def scratch(self) -> Iterator[None]:
        """Everything inside happens as usual, visible inside, and is then undone (a dry run)."""
        with suppress(_Undo), self.transaction():
            yield
            raise _Undo

    def _savepoint(self) -> Iterator[None]:
        name = f"unit{self._depth}"
        self.db.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self.db.execute(f"ROLLBACK TO {name}")
            raise
        finally:
            self._depth -= 1
            self.db.execute(f"RELEASE {name}")

    def durable(self) -> None:
        """Make every committed transaction survive a power cut, not only a crash."""
        # synchronous=NORMAL makes WAL commits survive a crash; a checkpoint writes them home.
        self.db.execute("PRAGMA wal_checkpoint(FULL)")

    def rows_for(self, query: str, ids: Iterable[str], *params: object) -> Iterator[tuple[Any, ...]]:
        """The rows of `query`, whose `{}` is an `IN (...)` list, for every one of `ids` (each
        asked once), in chunks under SQLite's limit on variables; `params` bind before the ids."""
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            yield from self.db.execute(query.format(marks(len(chunk))), (*params, *chunk))


class _Undo(Exception):
    """Raised at the end of a `scratch()` block to roll its transaction back."""


def marks(count: int) -> str:
    """`count` parameter placeholders for an `IN (...)` list, in this dialect's style."""
    return ", ".join("?" * count)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the main
        # file's permissions, so the whole ledger stays readable by the user only.
        create_private(path)
        # isolation_level=None: transactions are begun and ended by `transaction()` alone (the
        # sqlite3 module would otherwise begin one before a write and commit at `with db`).
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        # 64 MB of page cache (the default is 2 MB): storing 100k rows with random-hash keys into
        # five indexes ran about twice as fast.  Pages are only taken as the database grows.
        db.execute("PRAGMA cache_size=-65536")
        return db
    except (sqlite3.Error, OSError) as exc:
        raise StateError(f"cannot open the state database {path}: {exc}") from None
