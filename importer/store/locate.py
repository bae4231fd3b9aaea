"""The state's engine chosen by its location: an SQLite file, or a PostgreSQL database.

The location is parsed (and a foreign URL refused) in importer/config/state_location.py, below
every floor that reads it; here it becomes an open `Store`.  Whoever opens a state calls
`open_store` and never names an engine, so a new engine is one branch here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importer.config.state_location import Location, PgUrl
from importer.internals.lazy import lazy_module
from importer.store.base import Store
from importer.store.sqlite import State

if TYPE_CHECKING:
    from importer.store import postgres
else:
    # Loaded when a postgresql:// state is opened: an SQLite run never imports it
    # (tests/test_startup_imports.py).
    postgres = lazy_module("importer.store.postgres")


def open_store(location: Location, lock_wait: float = 0.0) -> Store:
    """The state at `location`, opened and brought to the latest schema; a file's import waits up
    to `lock_wait` seconds for its account (PostgreSQL: SQLite's run lock is the whole state's)."""
    if isinstance(location, PgUrl):
        return postgres.PostgresStore(location, lock_wait)
    return State(location)


def exists(location: Location) -> bool:
    """Whether there is a state to read at `location` (a PostgreSQL database is asked when opened)."""
    return isinstance(location, PgUrl) or location.is_file()
