"""The run lock of a PostgreSQL state: a session advisory lock, held on a connection of its own.

importer/run/lock.py owns what the lock means (one run at a time per state, `--wait`); this is
how a PostgreSQL state holds it.  A session advisory lock, like the SQLite state's OS file lock,
goes when its holder does: the server ends a dead process's session and with it the lock, so a
killed run never leaves the state locked.  The key is the state's schema (a database may hold
several states, one per schema).  Runs hold it shared: with many workers what is serialised is
each account (importer/store/postgres_workers.py); an exclusive holder would keep every run out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from importer.config.state_location import PgUrl
from importer.store.postgres import connect

_KEY = "hashtext('importer run lock ' || current_schema())"
_POLL = 0.2  # seconds between tries while waiting


class Taken(Exception):
    """Another session holds the lock (and kept it for the whole wait)."""


@contextmanager
def advisory_lock(url: PgUrl, wait: float, shared: bool = False) -> Iterator[None]:
    """Hold the state's run lock (`shared`: alongside other shared holders, not an exclusive
    one), trying for up to `wait` seconds, else raise `Taken`."""
    kind = "_shared" if shared else ""
    take = f"SELECT pg_try_advisory_lock{kind}({_KEY})".encode()
    with connect(url) as connection:
        deadline = time.monotonic() + wait
        while not connection.execute(take).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() >= deadline:
                raise Taken
            time.sleep(_POLL)
        try:
            yield
        finally:
            _release(connection, f"SELECT pg_advisory_unlock{kind}({_KEY})".encode())


def _release(connection: psycopg.Connection[Any], unlock: bytes) -> None:
    """Release the lock before the connection closes: the server frees a closed session's locks
    only once its backend has exited, after `close` returns, so a run started just after this one
    ended could still find the state locked.  A connection already lost has no lock to release."""
    try:
        connection.execute(unlock)
    except psycopg.Error:
        pass  # the session is gone, and its locks with it
