"""Start-up: how long the user waits for `importer --help` and for a 20-row import (wall seconds).

Beside them, on the same machine in the same minute: `python -c pass` (the interpreter alone) and
`python -c "import importer"` (the package's own import), so that what is ours is told apart from
what Python costs anyway.  Each command runs `repeat` times in a fresh process; the best run says
what the code costs, the median what a user meets on a busy machine.  Wall time, since waiting is
the figure here; these are never asserted in tests.

Compiled bytecode is allowed and warmed first, as an installed package has it: with
PYTHONDONTWRITEBYTECODE set (as in some shells and CI), every run would compile our ~150 modules
again (about 1 s of CPU here), a cost no user meets.  The children write it under the benchmark's
scratch folder (PYTHONPYCACHEPREFIX), never into the checkout, and one uncounted run per command
writes it before the timed ones.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.child import Measured, TimedOut, measure
from benchmarks.table import Result

IMPORT_ROWS = 20
TARGETS = {"importer --help": 0.25, f"importer run, {IMPORT_ROWS} rows": 0.5}  # issue 16, seconds


def startup_commands(run_command: Callable[[Path], list[str]]) -> dict[str, Callable[[int], list[str]]]:
    """Name -> the command for run number i (an import gets a fresh state each time)."""
    return {
        "python -c pass": lambda i: [sys.executable, "-c", "pass"],
        'python -c "import importer"': lambda i: [sys.executable, "-c", "import importer"],
        "importer --help": lambda i: [sys.executable, "-m", "importer", "--help"],
        f"importer run, {IMPORT_ROWS} rows": lambda i: run_command(Path(f"startup-state-{i}.sqlite")),
    }


def with_bytecode(env: dict[str, str], scratch: Path) -> dict[str, str]:
    """`env` for the timed children: bytecode written and read under `scratch` (module docstring)."""
    kept = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**kept, "PYTHONPYCACHEPREFIX": str(scratch / "bytecode")}


def timed_runs(name: str, command: Callable[[int], list[str]], repeat: int, env: dict[str, str]) -> Result:
    runs: list[Measured] = []
    try:
        measure(command(repeat), 60.0, env=env)  # uncounted: writes the bytecode the timed runs read
        runs = [measure(command(i), 60.0, env=env) for i in range(repeat)]
    except TimedOut as late:
        return Result(name, IMPORT_ROWS, None, None, None, str(late), kind="startup")
    failed = [r for r in runs if r.returncode != 0]
    if failed:
        last = (failed[0].stderr.strip().splitlines() or ["no output"])[-1]
        return Result(name, IMPORT_ROWS, None, None, None, f"failed: {last[:120]}", kind="startup")
    walls = [r.seconds for r in runs]
    cpus = [r.cpu_seconds for r in runs]  # what a shared machine's neighbours do not inflate
    label = f"{name} (target < {TARGETS[name]} s)" if name in TARGETS else name
    return Result(
        label,
        IMPORT_ROWS,
        None,
        statistics.median(walls),
        max(r.peak_mb for r in runs),
        None,
        statistics.median(cpus),
        best_seconds=min(walls),
        best_cpu_seconds=min(cpus),
        kind="startup",
    )
