"""The workers benchmark's bookkeeping (benchmarks/workers.py `run_together`, benchmarks/trials.py
`summary`), with real child processes: every kill is labelled with what it met, so the table never
shows a phase without a name (`; : 1`), and a worker's peak memory is its own, not the benchmark's."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from benchmarks import trials, workers
from benchmarks.child import measure

QUICK = [sys.executable, "-c", "pass"]
# A worker that holds 80 MB (written, so resident) for half a second, then exits.
HOLDS_80_MB = [sys.executable, "-c", "import time; kept = b'x' * (80 << 20); time.sleep(0.5)"]
SLOW = [sys.executable, "-c", "import time; time.sleep(3)"]


def test_a_kill_drawn_after_every_worker_exited_is_labelled_finished() -> None:
    """The run quicker than the calibration: the loop ended before the moment ever came."""
    ended, observed = workers.run_together(QUICK, 2, 60, workers.Kill(1, 30.0, lambda: "mid-inbox"))
    assert observed == "after it had finished" == workers.FINISHED
    assert [worker.returncode for worker in ended] == [0, 0]  # neither was killed


def test_a_kill_that_lands_is_labelled_by_what_it_observed() -> None:
    ended, observed = workers.run_together(SLOW, 2, 60, workers.Kill(0, 0.2, lambda: "mid-inbox"))
    assert observed == "mid-inbox"
    assert [worker.returncode for worker in ended] == [-signal.SIGKILL, 0]


def test_the_summary_names_every_phase(tmp_path: Path) -> None:
    inbox = workers.Inbox(tmp_path, ["s0000-a00.csv"], 5)
    done = [trials.Trial(seed, 0, 1.0, phase, []) for seed, phase in enumerate(["mid-inbox", workers.FINISHED])]
    note = trials.summary(done, inbox).note or ""
    assert note == "0 failed; kills mid-inbox: 1; after it had finished: 1"
    assert ": :" not in note and "; :" not in note


def test_a_workers_peak_memory_is_its_own_not_the_benchmarks() -> None:
    """The benchmark holding 300 MB when it starts a worker of 80 MB: `ru_maxrss` says 300+ (Linux
    records the vfork parent's high-water mark at the child's exec); the worker's own is 80+."""
    ballast = b"x" * (300 << 20)  # written, so resident: the benchmark's own peak
    ended, _ = workers.run_together(HOLDS_80_MB, 1, 60)
    assert len(ballast) and ended[0].returncode == 0
    assert 80 <= ended[0].peak_mb < 200, ended[0].peak_mb


def test_a_measured_stages_peak_memory_is_its_own_not_the_benchmarks() -> None:
    """The same for every stage and end-to-end job (benchmarks/child.py `measure`)."""
    ballast = b"x" * (300 << 20)
    done = measure(HOLDS_80_MB, 60)
    assert len(ballast) and done.returncode == 0
    assert 80 <= done.peak_mb < 200, done.peak_mb
