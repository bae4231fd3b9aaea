"""Run one measured child process: wall time, peak memory (from `wait4`), bounded in time."""

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
        status, usage = finished
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
        out.seek(0), err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Measured(seconds, cpu, usage.ru_maxrss / 1024, child.returncode, out.read().decode(), err.read().decode())


def _wait(pid: int, deadline: float) -> tuple[int, Any] | None:
    """The child's exit status and resource usage, or None once it was killed at `deadline`."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        if time.perf_counter() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return None
        time.sleep(0.02)


def python_command(module: str, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", module, *map(str, args)]


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
