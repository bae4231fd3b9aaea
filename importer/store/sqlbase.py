"""What every SQL store shares, whatever the engine: one connection, atomic units, many-id queries.

The store's query classes (sqlite.py's core and the `sqlite_*` modules, one per table area) are
written once against `SqlBase` and run on SQLite (connection.py's `SqliteBase`) and PostgreSQL
(postgres.py's `PgBase`).  Their SQL is the common dialect of both: `?` and `:name` parameters
(PostgreSQL's adapter rewrites them), `INSERT ... ON CONFLICT`, `RETURNING`, a cursor's
`rowcount`.  Where an engine must differ, its base or store class overrides the method.

A transaction opened inside another joins it: a caller can make several store calls one atomic
unit (the journal lands a batch, records it and marks it accepted together) while each call on
its own stays atomic too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar, Protocol

from importer.config.state_location import PgUrl
from importer.core.errors import StateError
from importer.store.idkey import id_keys

# The next number of a table whose numbers users see (runs, batches), in `INSERT ... SELECT
# {NEXT_ID}, ... FROM table`: the highest plus one, as SQLite numbers its rows, so a number freed
# (a quiet run, an undone run's batches) is given again and both engines count alike.  Every
# insert into such a table names it: a PostgreSQL identity would not know of these numbers.
# Under the run lock no two writers race for one number.
NEXT_ID = "coalesce(max(id), 0) + 1"
# A stored transaction by its external id, bound twice: SQLite indexes the rows by the id's
# integer key (idkey.py), not its text, and the text tells two ids sharing a key apart.
BY_ID = "id_key = id_key(?) AND external_id = ?"
# A stored row landed in the local ledger by a later run than the one that stored it (a held row
# released): only these are in the landed-run index (migration 11), since a row landed by the run
# storing it is found by the run index.  So rows landed by run R are `run_id = R AND ledger_run = R`
# and `ledger_run = R AND {LANDED_LATER}`, this text word for word: the engines use a partial
# index only for a query that states its condition.  `coalesce`: a row stored by no run.
LANDED_LATER = "ledger_run <> coalesce(run_id, 0)"


class Cursor(Protocol):
    """The part of a DB-API cursor the queries use."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ..., /) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """The part of a connection the queries use: sqlite3's call shape."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


class SqlBase:
    """A handle on the state database; use as a context manager to close it."""

    path: Path | PgUrl  # where it lives, for messages (a PgUrl shows itself without its password)
    db: Db
    _depth: int = 0  # how many `transaction()` blocks are open: only the outermost commits
    # The index on the ids' keys is dropped until the outermost unit ends (sqlite_stream.py
    # `defer_key_index`): made again before it commits, back by itself when it rolls back.
    _keys_deferred: bool = False
    _BEGIN: ClassVar[str] = "BEGIN"
    # What the engine raises for a refused constraint, and for any database error (set by the
    # engine's base: PostgreSQL's driver is imported only when a PostgreSQL state is opened).
    integrity_errors: tuple[type[Exception], ...] = ()
    database_errors: tuple[type[Exception], ...] = ()
    # The rows of a JSON array of text, bound as one parameter: `rows_for`'s `IN (...)` list.
    _JSON_LIST: ClassVar[str] = "SELECT value FROM json_each(?)"
    # The rows of a JSON array of integers: the keys (idkey.py) of `stored_for`'s ids.
    _JSON_KEYS: ClassVar[str] = "SELECT value FROM json_each(?)"
    # The same array as a table `{name}` with one column, `value`, to join on: probing a small
    # table's index once per id, where `IN (...)` first sorts every id into a scratch index
    # (19 ms a batch of 20,000 ids against an empty `aliases`, 3 ms joined).
    _JSON_TABLE: ClassVar[str] = "json_each(?) AS {name}"

    def __enter__(self) -> SqlBase:
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
        self.db.execute(self._BEGIN)
        self._depth = 1
        try:
            yield
            if self._keys_deferred:  # never committed without it
                self.restore_key_index()
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.commit()
        finally:
            self._depth = 0
            self._keys_deferred = False  # a rollback brought the index back with the rest

    def restore_key_index(self) -> None:
        """Nothing to make again in an engine that never defers it (sqlite_stream.py)."""

    @contextmanager
    def joined(self) -> Iterator[None]:
        """`transaction()` without a savepoint: alone, one transaction; inside another unit, part of
        it, so a failure leaves what it wrote to be undone by that unit, which the error passes
        through.  For a file's batches (`store_batch`): a savepoint makes SQLite copy, before the
        first change, every page the savepoint changes that existed when it began (the
        sub-journal, a temporary file), and a batch changes most of the key index.  A million-row
        import copied 733 MB so, more than it wrote to the database and its log together."""
        if self._depth:
            yield
            return
        with self.transaction():
            yield

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

    def rows_for(self, query: str, ids: Iterable[str], *params: object) -> Iterator[tuple[Any, ...]]:
        """The rows of `query`, whose `{}` is an `IN (...)` list, for every one of `ids`, in one
        statement whatever their number; `params` bind before the ids.

        The ids go as one JSON array the engine unpacks (`_JSON_LIST`): a batch's 20,000 ids as
        `?` lists took forty statements of 500 (SQLite's limit on variables), each parsed and
        planned, and twice the time."""
        wanted = list(ids)
        if wanted:
            yield from self.db.execute(query.format(self._JSON_LIST), (*params, json.dumps(wanted)))

    def stored_for(self, query: str, ids: Iterable[str], *params: object) -> Iterator[tuple[Any, ...]]:
        """`rows_for` over `transactions` (or a view of it with `id_key`), whose `{}` is the
        condition that a row's id is one of `ids`: by its key, which the index holds, and its text."""
        wanted = list(ids)
        if wanted:
            condition = f"id_key IN ({self._JSON_KEYS}) AND external_id IN ({self._JSON_LIST})"
            yield from self.db.execute(
                query.format(condition), (*params, json.dumps(id_keys(wanted)), json.dumps(wanted))
            )

    def refuse_collisions(self, external_ids: Sequence[str], where: str) -> None:
        """Raise StateError if one of `external_ids`, just stored, is not: its key (idkey.py) is a
        stored row's of another id, and the transaction would otherwise be dropped unseen."""
        query = (
            f"WITH ids (i) AS ({self._JSON_LIST}) SELECT i FROM ids WHERE NOT EXISTS "
            "(SELECT 1 FROM transactions t WHERE t.id_key = id_key(i) AND t.external_id = i)"
        )
        lost = self.db.execute(query, (json.dumps(list(external_ids)),)).fetchone()
        if lost is None:
            return
        other = self.db.execute("SELECT external_id FROM transactions WHERE id_key = id_key(?)", (lost[0],)).fetchone()
        raise StateError(
            f"{where}: transaction {lost[0]} cannot be stored: the stored transaction "
            f"{other[0] if other else '?'} has the same index key (its 128 bits folded to 64), "
            "a coincidence of about one in 10^19 that the state cannot hold. Nothing of its batch was "
            "stored; please report this to the importer's maintainers."
        )


class _Undo(Exception):
    """Raised at the end of a `scratch()` block to roll its transaction back."""


def by_id(external_id: str | None) -> tuple[str | None, str | None]:
    """The parameters of `BY_ID` for `external_id`."""
    return external_id, external_id


def marks(count: int) -> str:
    """`count` parameter placeholders for an `IN (...)` list, in the common dialect (`?`)."""
    return ", ".join("?" * count)
