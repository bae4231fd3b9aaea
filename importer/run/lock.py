"""One run at a time per state database, so a cron run and a watching process never import the
same file twice.  The lock is an OS file lock beside the state file (released by the kernel when
the process dies, even by SIGKILL), so a crashed run never leaves a stale lock behind.  A
PostgreSQL state has no file: its lock is a session advisory lock in the database
(importer/store/postgres_lock.py), which the server releases when the holder's session ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from importer.config.paths import PRIVATE_FILE, private_folder, write_private
from importer.config.state_location import Location, PgUrl
from importer.core.errors import ImporterError
from importer.store.postgres_lock import Taken, advisory_lock


class LockedError(ImporterError):
    """Another importer process holds the state database."""

    exit_code = 3


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


@contextmanager
def run_lock(state_path: Location, wait: float = 0) -> Iterator[None]:
    """Hold the run lock for `state_path`; wait up to `wait` seconds, then raise LockedError."""
    if isinstance(state_path, PgUrl):
        with _database_lock(state_path, wait):
            yield
        return
    path = lock_path(state_path)
    private_folder(path.parent)
    lock = FileLock(path, timeout=wait, mode=PRIVATE_FILE)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"another importer run{_holder(path)} is using {state_path}; "
            f"this run stopped without importing anything. Try again later, or pass --wait SECONDS."
        ) from None
    try:
        _write_holder(path)
        yield
    finally:
        lock.release()


@contextmanager
def _database_lock(url: PgUrl, wait: float) -> Iterator[None]:
    try:
        with advisory_lock(url, wait):
            yield
    except Taken:
        raise LockedError(
            f"another importer run is using {url}; this run stopped without importing anything. "
            "Try again later, or pass --wait SECONDS."
        ) from None


def _write_holder(path: Path) -> None:
    # Informational only: the OS lock is what excludes, the pid just names the holder.
    write_private(path.with_name(path.name + ".pid"), str(os.getpid()))


def _holder(path: Path) -> str:
    try:
        return f" (pid {path.with_name(path.name + '.pid').read_text().strip()})"
    except OSError:
        return ""
