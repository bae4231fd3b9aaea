"""Two monthly routines started at the same moment (two real processes) under the run lock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.inbox_statements import month_lines, write_chase
from tests.test_routine import write_config

COUNT = 40


def start(config: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "importer", "run", "--config", str(config), "--json", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def statements(tmp_path: Path) -> Path:
    for seed in range(COUNT):
        write_chase(tmp_path / "downloads" / f"chase-{seed:03d}.csv", month_lines("2026-10", seed))
    return write_config(
        tmp_path, f"sources:\n  - path: {tmp_path / 'downloads'}/chase-*.csv\n    account: Chase checking\n"
    )


def ledger(tmp_path: Path) -> tuple[int, int]:
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        return db.execute("SELECT count(*), count(DISTINCT external_id) FROM ledger").fetchone()


def new_count(stdout: str) -> int:
    return int(json.loads(stdout)["targets"]["local"]["new"])


def test_two_routines_at_once_one_imports_the_other_exits_3_or_finds_nothing_new(tmp_path: Path) -> None:
    config = statements(tmp_path)
    runs = [start(config), start(config)]
    # communicate() drains both pipes; wait() first would block once the JSON outgrows the pipe.
    results = [(*run.communicate(timeout=120),) for run in runs]
    results = [(run.returncode, out, err) for run, (out, err) in zip(runs, results)]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 3], [0, 0]), results
    imported = [new_count(out) for code, out, _ in results if code == 0]
    assert sorted(imported)[-1] == 3 * COUNT and sum(imported) == 3 * COUNT
    for code, out, err in results:
        if code == 3:
            assert out == "" and "another importer run" in err and "this run stopped without importing anything" in err
    assert ledger(tmp_path) == (3 * COUNT, 3 * COUNT)


def test_with_wait_the_second_routine_runs_after_the_first(tmp_path: Path) -> None:
    config = statements(tmp_path)
    runs = [start(config, "--wait", "60"), start(config, "--wait", "60")]
    # communicate() drains both pipes; wait() first would block once the JSON outgrows the pipe.
    results = [(*run.communicate(timeout=120),) for run in runs]
    results = [(run.returncode, out, err) for run, (out, err) in zip(runs, results)]
    assert [code for code, _, _ in results] == [0, 0], results
    assert sorted(new_count(out) for _, out, _ in results) == [0, 3 * COUNT]
    assert ledger(tmp_path) == (3 * COUNT, 3 * COUNT)
