"""The run lock of a PostgreSQL state: a session advisory lock, held on a connection of its own.

importer/run/lock.py owns what the lock means (one run at a time per state, `--wait`); this is
how a PostgreSQL state holds it.  A session advisory lock, like the SQLite state's OS file lock,
goes when its holder does: the server ends a dead process's session and with it the lock, so a
killed run never leaves the state locked.  The key is the state's schema (a database may hold
several states, one per schema).  The next step makes it one lock per account (issue 17): that
is `_KEY` taking the account, and `run_lock` asking for the accounts a file touches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from importer.config.state_location import PgUrl
from importer.store.postgres import connect

_KEY = "hashtext('importer run lock ' || current_schema())"
_POLL = 0.2  # seconds between tries while waiting


class Taken(Exception):
    """Another session holds the lock (and kept it for the whole wait)."""


@contextmanager
def advisory_lock(url: PgUrl, wait: float) -> Iterator[None]:
    """Hold the state's run lock, trying for up to `wait` seconds, else raise `Taken`."""
    with connect(url) as connection:
        deadline = time.monotonic() + wait
        while not connection.execute(f"SELECT pg_try_advisory_lock({_KEY})".encode()).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() >= deadline:
                raise Taken
            time.sleep(_POLL)
        yield  # closing the connection releases the lock
