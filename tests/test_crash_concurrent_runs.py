"""One run at a time: two real processes on one state database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.golden import ROOT
from tests.test_cli import RULED_SAMPLES

HOLDER = """
import sys
from pathlib import Path
from importer.run.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()  # hold the lock until the test says so
"""


def importer(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *args],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_run_exits_3_or_waits_for_the_first(state_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_path)],
        cwd=ROOT,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    impatient = importer("run", *RULED_SAMPLES, "--state", str(state_path))
    patient = importer("run", *RULED_SAMPLES, "--state", str(state_path), "--wait", "120", "--json")
    _, err = impatient.communicate(timeout=120)
    assert impatient.returncode == 3
    assert err == (
        f"error: another importer run (pid {holder.pid}) is using {state_path}; this run stopped without "
        "importing anything. Try again later, or pass --wait SECONDS.\n"
    )
    assert patient.poll() is None  # still waiting for the lock
    holder.communicate("release\n", timeout=30)
    out, err = patient.communicate(timeout=120)
    assert patient.returncode == 0, err
    assert '"new": 37' in out
