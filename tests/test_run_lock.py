"""The SQLite run lock (importer/run/lock.py): flock on the lock file, and filelock, the reference
it replaced on the start-up path, each keep the other out, so a run of this version and one of the
last (or one where flock is missing) never write the same state at once."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import filelock
import pytest

from importer.run import lock
from importer.run.lock import LockedError, lock_path, reference_lock, run_lock

HOLD = """
import sys
from importer.run.lock import run_lock
from pathlib import Path
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_held_run_lock_keeps_filelock_out(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with run_lock(state):
        with pytest.raises(filelock.Timeout):
            filelock.FileLock(lock_path(state), timeout=0).acquire()
    with filelock.FileLock(lock_path(state), timeout=0):  # released with the run
        pass


def test_a_filelock_holder_keeps_the_run_out(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with filelock.FileLock(lock_path(state), timeout=0):
        with pytest.raises(LockedError, match=f"another importer run is using {re.escape(str(state))}; this run"):
            with run_lock(state, wait=0.1):
                pass


def test_another_process_holding_it_keeps_the_run_out_until_it_ends(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(LockedError, match=rf"another importer run \(pid {holder.pid}\) is using {state}"):
            with run_lock(state):
                pass
    finally:
        holder.communicate(b"\n")
    with run_lock(state):  # the holder's exit released it
        pass


def test_a_run_waits_for_the_lock_to_be_released(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with reference_lock(lock_path(state), 0) as taken:
            assert taken
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    threading.Timer(0.3, release.set).start()
    with run_lock(state, wait=30):  # taken once the holder lets go, long before the 30 s
        assert release.is_set()
    holder.join()


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with run_lock(state):
        assert stat.S_IMODE(os.stat(lock_path(state)).st_mode) == 0o600


def test_without_flock_the_run_takes_filelock_s_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(fd: int, operation: int) -> None:
        raise OSError(errno.ENOSYS, "flock is not implemented here")

    # Only the run lock's flock is missing: filelock's own stays, so what it holds is real.
    monkeypatch.setattr(lock, "fcntl", SimpleNamespace(flock=missing, LOCK_EX=fcntl.LOCK_EX, LOCK_NB=fcntl.LOCK_NB))
    state = tmp_path / "state.sqlite"
    with run_lock(state):
        with pytest.raises(filelock.Timeout):
            filelock.FileLock(lock_path(state), timeout=0).acquire()
        with pytest.raises(LockedError):
            with run_lock(state, wait=0.1):
                pass
