"""Run one measured child process: wall and CPU time, peak memory, bytes written; bounded in time.

CPU time and peak memory come from the child's own `rusage` (`wait4`), so neighbours on a shared
machine do not count.  The bytes written are the kernel's `write_bytes` for the child (and the
children it reaped), read by this parent from `/proc/<pid>/io` while the exited child waits to be
reaped (`waitid` with `WNOWAIT`): the child cannot miss its own last writes, and it needs no code
of ours to report them.  Where /proc is missing (not Linux) the figure is None.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measured:
    seconds: float  # wall time of the whole child, start-up included
    cpu_seconds: float  # user + system CPU time of the child
    peak_mb: float  # the child's peak resident memory (ru_maxrss of that one process tree leader)
    returncode: int
    stdout: str
    stderr: str
    written_bytes: int | None = None  # bytes the child caused to be written to storage (/proc/<pid>/io)


class TimedOut(Exception):
    def __init__(self, limit: float) -> None:
        super().__init__(f"did not finish in {limit:.0f} s")
        self.limit = limit


def measure(command: list[str], limit: float, env: dict[str, str] | None = None) -> Measured:
    """Run `command`, killing it (and its children) after `limit` seconds."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, start_new_session=True)
        try:
            finished = _wait(child.pid, start + limit)
        except BaseException:  # ^C or a kill of the benchmark: its child, in its own session, goes too
            os.killpg(child.pid, signal.SIGKILL)
            raise
        if finished is None:
            raise TimedOut(limit)
        status, usage, written, peak_mb = finished
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
        out.seek(0), err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        stdout, stderr = out.read().decode(), err.read().decode()
        peak = peak_mb if peak_mb is not None else usage.ru_maxrss / 1024  # see own_peak_mb
        return Measured(seconds, cpu, peak, child.returncode, stdout, stderr, written)


def _wait(pid: int, deadline: float) -> tuple[int, Any, int | None, float | None] | None:
    """The child's exit status, resource usage, bytes written and own peak memory (MB, read while
    it ran), or None once killed at `deadline`."""
    peak_mb = None
    while True:
        peak_mb = own_peak_mb(pid) or peak_mb  # a high-water mark: the last reading is the peak so far
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
            written = written_bytes(pid)  # exited but not reaped: its /proc entry still counts
            _, status, usage = os.wait4(pid, 0)
            return status, usage, written, peak_mb
        if time.perf_counter() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return None
        time.sleep(0.02)


def own_peak_mb(pid: int) -> float | None:
    """The high-water mark of process `pid`'s own memory since its exec, in MB; None when there is
    none to read (not Linux, or the process has exited).  Not `wait4`'s `ru_maxrss`: Python starts
    a child with vfork, and Linux records the parent's high-water mark as the child's at its exec,
    so `ru_maxrss` is the benchmark's own peak whenever that is larger (benchmarks/workers.py)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            found = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    except OSError:
        return None
    return int(found[0]) / 1024 if found else None


def written_bytes(pid: int) -> int | None:
    """`write_bytes` less `cancelled_write_bytes` of /proc/<pid>/io: bytes sent (or dirtied)
    towards storage, page cache included, but for those dropped before they reached it.  SQLite's
    statement and savepoint journals are temporary files, deleted before the kernel writes them
    out: at 300,000 rows they were 83 MB of a run's 323 MB of `write_bytes`, none of it on disk."""
    try:
        fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    except OSError:
        return None
    return int(fields["write_bytes"]) - int(fields["cancelled_write_bytes"])


def python_command(module: str, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", module, *map(str, args)]


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
