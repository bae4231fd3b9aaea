"""One writer at a time per account, so a cron run and watching processes never import the same
file twice nor decide one account's duplicates at once.

An SQLite state has one writer: the run lock is an OS file lock beside the state file, held for
the whole run (released by the kernel when the process dies, even by SIGKILL), so a crashed run
never leaves a stale lock behind.  It is `flock` on the lock file, which is what filelock takes
on POSIX, taken here without importing filelock (a twentieth of a small import's start-up, issue
16); filelock stays the lock where flock is missing (Windows, a filesystem without it) and the
reference the two are checked against (tests/test_run_lock.py: each excludes the other).

A PostgreSQL state is shared by many workers.  A run holds the state's lock *shared* (a session
advisory lock, importer/store/postgres_lock.py, which the server releases when the holder's
session ends), so runs go on side by side; what is serialised is the account: a file's import
locks the account its statement resolves to until the file's transaction ends
(`Store.lock_account`, called by importer/run/file_import.py), waiting the same `--wait`.  Two
workers import different accounts at once; the same account waits, and after the wait it is the
same `LockedError`.  Which worker imports which inbox file is the claims' business
(importer/run/claims.py), not the lock's.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from importer.config.paths import PRIVATE_FILE, private_folder, write_private
from importer.config.state_location import Location, PgUrl
from importer.core.errors import ImporterError
from importer.internals.lazy import imported, lazy_module

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    import filelock
else:
    filelock = lazy_module("filelock")

_POLL = 0.05  # seconds between tries while waiting, as filelock polls
_BUSY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES)  # flock's "another holds it" (EACCES on some filesystems)


class LockedError(ImporterError):
    """Another importer process holds the state database."""

    exit_code = 3


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


@contextmanager
def run_lock(state_path: Location, wait: float = 0, *, exclusive: bool = False) -> Iterator[None]:
    """Hold the run lock for `state_path`; wait up to `wait` seconds, then raise LockedError.
    On PostgreSQL it is shared with other runs unless `exclusive` (undo, renaming an account:
    work that is not one account's import keeps every other run out)."""
    if isinstance(state_path, PgUrl):
        with _database_lock(state_path, wait, exclusive):
            yield
        return
    path = lock_path(state_path)
    private_folder(path.parent)
    with _file_lock(path, wait) as taken:
        if not taken:
            raise LockedError(
                f"another importer run{_holder(path)} is using {state_path}; "
                f"this run stopped without importing anything. Try again later, or pass --wait SECONDS."
            )
        _write_holder(path)
        yield


def _file_lock(path: Path, wait: float) -> AbstractContextManager[bool]:
    """Whether the OS lock on `path` was taken within `wait` seconds, then held until the block
    ends: flock where the system has it, else filelock's lock."""
    try:
        return _held(_flock(path, wait))
    except _NoFlock:
        return reference_lock(path, wait)


@contextmanager
def _held(fd: int | None) -> Iterator[bool]:
    """Whether `fd` holds the lock (None: another process does), closed after the block."""
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)  # closing the file releases its flock


class _NoFlock(Exception):
    """This system or filesystem has no flock."""


def _flock(path: Path, wait: float) -> int | None:
    """The lock file `path` (created 0600) open and flocked, or None when another process held it
    for `wait` seconds."""
    if sys.platform == "win32":
        raise _NoFlock
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
    deadline = time.monotonic() + wait
    try:
        while not _try_flock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(_POLL)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _try_flock(fd: int) -> bool:
    if sys.platform == "win32":
        raise _NoFlock
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno == errno.ENOSYS:
            raise _NoFlock from None
        if exc.errno in _BUSY:
            return False
        raise
    return True


@contextmanager
def reference_lock(path: Path, wait: float) -> Iterator[bool]:
    """`_file_lock` by filelock: what the run lock was, and is where flock is missing."""
    lock = filelock.FileLock(path, timeout=wait, mode=PRIVATE_FILE)
    try:
        lock.acquire()
    except filelock.Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


@contextmanager
def _database_lock(url: PgUrl, wait: float, exclusive: bool) -> Iterator[None]:
    # Named, not imported at the top: an SQLite run never loads the PostgreSQL lock.
    advisory_lock = imported("importer.store.postgres_lock:advisory_lock")
    taken: type[Exception] = imported("importer.store.postgres_lock:Taken")
    try:
        with advisory_lock(url, wait, shared=not exclusive):
            yield
    except taken:
        raise LockedError(
            f"another importer run is using {url}; this run stopped without importing anything. "
            "Try again later, or pass --wait SECONDS."
        ) from None


def account_locked(account: str, state: Location, file: Path) -> str:
    """The `LockedError` message of an account another worker held for the whole wait."""
    return (
        f"another importer run is using account {account} in {state}; this run stopped before importing "
        f"{file} (files before it were imported). Try again later, or pass --wait SECONDS."
    )


def _write_holder(path: Path) -> None:
    # Informational only: the OS lock is what excludes, the pid just names the holder.
    write_private(path.with_name(path.name + ".pid"), str(os.getpid()))


def _holder(path: Path) -> str:
    try:
        return f" (pid {path.with_name(path.name + '.pid').read_text().strip()})"
    except OSError:
        return ""
