"""Copying a whole state into another engine: `importer state migrate` (issue 17, item 4).

`copy_state(source, destination)` copies every row of every table, SQLite to PostgreSQL or back
(or to the same engine), so a state can move to a shared server and come home again:

- the tables are the destination's schema's, read from the schema itself (SQLite's catalogue,
  PostgreSQL's information_schema), never from a list here: a migration that adds a table adds
  it to the copy.  Both sides must have the same tables and columns (the same schema version):
  opening a state brings it to the latest, so a source from an older importer is migrated first;
- every column is copied with its value, numbers included: ids stay the ids that rows elsewhere
  name, and the `rowid` that orders the stored rows (SQLite's hidden one; a declared identity on
  PostgreSQL where the queries order by it, see migrations.py) is copied wherever both sides
  have it.  After the rows, the destination's counters (identity sequences, SQLite's
  AUTOINCREMENT) are moved past the highest number, and past the source's own counter, so a
  number the source never gives again (a dropped held row's) is not given by the copy either;
- tables are filled parents first (foreign keys are checked at each statement on PostgreSQL),
  in bulk: COPY on PostgreSQL, many-row inserts on SQLite;
- all of it is one transaction on the destination, which must be empty: a copy killed half-way
  leaves nothing, and is simply run again.  The source is read in one transaction too (one
  snapshot); the caller holds the run lock on both (importer/api.py);
- before the commit, the copy is checked: each table's rows counted on both sides, and a sha256
  over the stored external ids and over what each target accepted (target, external id, remote
  id), read on both sides in byte order.  A difference raises `StateError` and nothing is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from importer.config.state_location import PgUrl, mask
from importer.core.errors import StateError
from importer.internals.crash import crash_point
from importer.internals.lazy import lazy_module
from importer.store.base import Store
from importer.store.connection import SqliteBase
from importer.store.sqlbase import SqlBase

if TYPE_CHECKING:
    from importer.store import postgres
else:
    # Loaded when a PostgreSQL state is copied: importing this module (importer/api.py does, for
    # every command) must not load it (tests/test_startup_imports.py).
    postgres = lazy_module("importer.store.postgres")

_CHUNK = 5_000  # rows per many-row insert and per fetch from a server-side cursor
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")  # table and column names are put into SQL as they are
_ROWID = "rowid"
# What the checksum reads, in byte order on both engines (PostgreSQL's "C" collation is SQLite's).
_CHECKED = (
    ("transactions", "external_id", "external_id{c}"),
    ("accepted", "target, external_id, remote_id", "target{c}, external_id{c}"),
)


@dataclass(frozen=True)
class Migration:
    """What a copy did: each table's rows (in the order they were copied), the checksum both sides
    agreed on, and how long it took."""

    source: str  # where from and to, as shown (a URL without its password)
    destination: str
    rows: dict[str, int]
    checksum: str
    seconds: float


class _Side(ABC):
    """One end of a copy: a state's tables, columns, rows and counters, in its engine's SQL."""

    collate = ""  # the clause that orders text by its bytes

    def __init__(self, store: SqlBase) -> None:
        self.store = store
        self.db = store.db

    @abstractmethod
    def tables(self) -> set[str]:
        """Every table of the schema, the engine's own bookkeeping excepted."""

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """`table`'s columns, in order, and `rowid` where the table has one to copy."""

    @abstractmethod
    def parents(self, table: str) -> set[str]:
        """The tables `table`'s foreign keys name."""

    @abstractmethod
    def version(self) -> int:
        """The schema version (the number of migrations applied)."""

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        return iter(self.db.execute(sql))

    @abstractmethod
    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        """`rows` (values of `columns`) into `table`, in bulk, in the open transaction."""

    @abstractmethod
    def counter(self, table: str, column: str) -> int:
        """The number the source gave last in `table.column`, used or not (0: none kept)."""

    @abstractmethod
    def move_counters(self, table: str, source: _Side) -> None:
        """`table`'s counters past its highest number and past `source`'s counter."""

    def count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def highest(self, table: str, column: str) -> int:
        return int(self.db.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()[0])


class _Sqlite(_Side):
    def tables(self) -> set[str]:
        found = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return {name for (name,) in found}

    def columns(self, table: str) -> list[str]:
        """The declared columns, and `rowid` unless an INTEGER PRIMARY KEY already is it."""
        info = self.db.execute(f"PRAGMA table_info({table})").fetchall()
        names = [row[1] for row in info]
        return names if self._integer_key(table) else [*names, _ROWID]

    def _integer_key(self, table: str) -> str | None:
        keys = [row for row in self.db.execute(f"PRAGMA table_info({table})") if row[5]]
        return keys[0][1] if len(keys) == 1 and keys[0][2].upper() == "INTEGER" else None

    def parents(self, table: str) -> set[str]:
        return {row[2] for row in self.db.execute(f"PRAGMA foreign_key_list({table})")}

    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        iterator = iter(rows)
        while chunk := list(islice(iterator, _CHUNK)):
            self.db.executemany(insert, chunk)

    def counter(self, table: str, column: str) -> int:
        row = self.db.execute("SELECT max(seq) FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        return int(row[0] or 0) if column == self._integer_key(table) else 0

    def move_counters(self, table: str, source: _Side) -> None:
        """An AUTOINCREMENT table's counter past the highest number, and past the source's."""
        key = self._integer_key(table)
        autoincrement = "SELECT 1 FROM sqlite_master WHERE name = ? AND sql LIKE '%AUTOINCREMENT%'"
        if key is None or self.db.execute(autoincrement, (table,)).fetchone() is None:
            return
        value = max(self.highest(table, key), source.counter(table, key))
        self.db.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        if value:
            self.db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, value))


class _Postgres(_Side):
    collate = ' COLLATE "C"'
    _COLUMNS = (
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position"
    )
    _IDENTITIES = (
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? AND is_identity = 'YES'"
    )

    def __init__(self, store: postgres.PgBase) -> None:
        super().__init__(store)
        self.pg = store.pg

    def tables(self) -> set[str]:
        found = self.db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE'"
        )
        return {name for (name,) in found} - {"schema_version"}  # the version is the schema's, not copied

    def columns(self, table: str) -> list[str]:
        return [name for (name,) in self.db.execute(self._COLUMNS, (table,))]

    def parents(self, table: str) -> set[str]:
        found = self.db.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND conrelid = ?::regclass",
            (table,),
        )
        return {name for (name,) in found}

    def version(self) -> int:
        return int(self.db.execute("SELECT version FROM schema_version").fetchone()[0])

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows through a server-side cursor: a big table is never held whole in memory."""
        with self.pg.connection.cursor(name="importer_copy") as cursor:
            cursor.itersize = _CHUNK
            cursor.execute(sql.encode())
            yield from cursor

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        # COPY writes identity columns as given, GENERATED ALWAYS ones (`rowid`) included.
        with self.pg.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def counter(self, table: str, column: str) -> int:
        if column not in {name for (name,) in self.db.execute(self._IDENTITIES, (table,))}:
            return 0
        last = "SELECT pg_sequence_last_value(pg_get_serial_sequence(?, ?)::regclass)"
        return int(self.db.execute(last, (table, column)).fetchone()[0] or 0)

    def move_counters(self, table: str, source: _Side) -> None:
        """Each identity's sequence past the highest number, and past the source's counter."""
        for (column,) in self.db.execute(self._IDENTITIES, (table,)).fetchall():
            value = max(self.highest(table, column), source.counter(table, column))
            if value:
                self.db.execute("SELECT setval(pg_get_serial_sequence(?, ?), ?)", (table, column, value))


def side(store: Store) -> _Side:
    """The copy's view of `store`, by its engine."""
    if isinstance(store, SqliteBase):  # first: asking about PostgreSQL's class loads its driver
        return _Sqlite(store)
    if isinstance(store, postgres.PgBase):
        return _Postgres(store)
    raise StateError(f"{store.path} is kept by an engine the copy does not know")


def copy_state(source: Store, destination: Store) -> Migration:
    """Copy every row of `source` into the empty `destination`, verified, in one transaction
    (see the module docstring); the caller holds both run locks."""
    started = time.monotonic()
    origin, target = side(source), side(destination)
    try:
        with source.transaction(), destination.transaction():
            order = plan(origin, target)
            copy_tables(origin, target, order)
            rows, checksum = verify(origin, target, order)
    except origin.store.database_errors + target.store.database_errors as exc:
        raise StateError(
            f"copying {source.path} to {destination.path} failed: {_masked(str(exc).strip(), source, destination)}; "
            f"nothing was written to {destination.path}."
        ) from None
    return Migration(str(source.path), str(destination.path), rows, checksum, time.monotonic() - started)


def _masked(text: str, *stores: Store) -> str:
    """A driver's message without the password of either side's URL."""
    for store in stores:
        text = mask(text, store.path) if isinstance(store.path, PgUrl) else text
    return text


def plan(origin: _Side, target: _Side) -> list[str]:
    """The tables in the order to fill them, once both states are found alike and the target empty."""
    _same_version(origin, target)
    tables = _same_tables(origin, target)
    _empty(target, tables)
    return fill_order(tables, target.parents)


def _same_version(origin: _Side, target: _Side) -> None:
    if origin.version() != target.version():
        raise StateError(
            f"{origin.store.path} is at schema {origin.version()} and {target.store.path} at "
            f"{target.version()}: open both with the same importer (any command brings a state up to date), "
            "then migrate again."
        )


def _same_tables(origin: _Side, target: _Side) -> set[str]:
    tables = target.tables()
    if origin.tables() != tables:
        only = sorted(origin.tables() ^ tables)
        raise StateError(
            f"{origin.store.path} and {target.store.path} have different tables ({', '.join(only)} on one side "
            "only); both must be states of this importer at the same schema version."
        )
    for name in sorted(tables):
        if not _NAME.match(name):
            raise StateError(f"{target.store.path} has a table named {name!r}, which is not one of the importer's")
    return tables


def _empty(target: _Side, tables: Iterable[str]) -> None:
    for table in sorted(tables):
        if count := target.count(table):
            raise StateError(
                f"{target.store.path} is not empty ({table} holds {count} rows); migrate into a new database "
                "(or a new schema, or a file that does not exist yet), or empty it first. Nothing was copied."
            )


def fill_order(tables: set[str], parents: Callable[[str], set[str]]) -> list[str]:
    """`tables` with each after the tables its foreign keys name (`parents(table)`), by name otherwise."""
    order: list[str] = []
    pending = sorted(tables)
    while pending:
        ready = [t for t in pending if (parents(t) & tables) - {t} <= set(order)]
        if not ready:
            raise StateError(f"the foreign keys of {', '.join(pending)} form a cycle: they cannot be copied in order")
        order += ready
        pending = [t for t in pending if t not in ready]
    return order


def copy_tables(origin: _Side, target: _Side, order: Sequence[str]) -> None:
    """Every row of every table in `order`, then the destination's counters moved past them."""
    for table in order:
        columns = _columns(origin, target, table)
        ordered = " ORDER BY rowid" if _ROWID in columns else ""
        target.write(table, columns, origin.rows(f"SELECT {', '.join(columns)} FROM {table}{ordered}"))
        target.move_counters(table, origin)
        crash_point("migrate")


def _columns(origin: _Side, target: _Side, table: str) -> list[str]:
    """The columns both sides have, in the destination's order; any other than a `rowid` is an error."""
    theirs, ours = origin.columns(table), target.columns(table)
    apart = sorted((set(theirs) ^ set(ours)) - {_ROWID})
    if apart or not all(_NAME.match(c) for c in ours):
        raise StateError(
            f"the table {table} differs between {origin.store.path} and {target.store.path} "
            f"(columns on one side only: {', '.join(apart)}); both must be at the same schema version."
        )
    return [c for c in ours if c in theirs]


def verify(origin: _Side, target: _Side, order: Sequence[str]) -> tuple[dict[str, int], str]:
    """Each table's rows, counted equal on both sides, and the checksum both agree on; else
    `StateError` (the caller's transaction is then rolled back: nothing is kept)."""
    rows = {table: _counted_alike(origin, target, table) for table in order}
    theirs, ours = checksum(origin), checksum(target)
    if theirs != ours:
        raise StateError(
            f"the checksum of the copied external ids differs ({target.store.path}: {ours}, "
            f"{origin.store.path}: {theirs}); nothing was written to {target.store.path}. "
            "Run the migration again; if it fails again, report it."
        )
    return rows, ours


def _counted_alike(origin: _Side, target: _Side, table: str) -> int:
    if (theirs := origin.count(table)) != (ours := target.count(table)):
        raise StateError(
            f"the copy of {table} has {ours} rows where {origin.store.path} has {theirs}; nothing was written "
            f"to {target.store.path}. Run the migration again; if it fails again, report it."
        )
    return ours


def checksum(state: _Side) -> str:
    """sha256 over the stored external ids, then over each accepted (target, external id, remote id),
    each sorted by its bytes: the same text on both engines for the same rows."""
    digest = hashlib.sha256()
    for table, columns, order in _CHECKED:
        digest.update(f"{table}\n".encode())
        for row in state.rows(f"SELECT {columns} FROM {table} ORDER BY {order.format(c=state.collate)}"):
            digest.update(json.dumps(list(row), ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()
