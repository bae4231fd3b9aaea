"""The kill trials' bookkeeping (benchmarks/workers.py `run_together`, benchmarks/trials.py `summary`):
every kill is labelled with what it met, with real child processes, so the table never shows a
phase without a name (`; : 1`)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from benchmarks import trials, workers

QUICK = [sys.executable, "-c", "pass"]
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
