"""Benchmark the pipeline stage by stage: `python -m benchmarks.run [--rows N ...]`.

Prints, per stage and size, rows/s and the process's peak resident memory (the high-water mark
after that stage).  Data is generated under benchmarks/data/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generate import write_chase_csv
from importer.dedupe import assign_ids
from importer.parsers import ParseOptions, parse_file
from importer.rules import load_rules
from importer.state import State
from importer.uploaders.local import LocalLedger

DATA = Path(__file__).parent / "data"
RULES = Path(__file__).resolve().parent.parent / "rules"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(stage: str, rows: int, work: Callable[[], Any], table: list[tuple[str, int, float, float]]) -> Any:
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    table.append((stage, rows, seconds, peak_mb()))
    return result


def bench_csv(rows: int) -> list[tuple[str, int, float, float]]:
    table: list[tuple[str, int, float, float]] = []
    path = DATA / f"chase-{rows}.csv"
    if not path.exists():
        write_chase_csv(path, rows)
    rules = load_rules([RULES])
    [statement] = timed("parse csv", rows, lambda: parse_file(path, ParseOptions()), table)
    categorised = timed("rules", rows, lambda: [rules.apply(t) for t in statement.transactions], table)
    named = timed("ids", rows, lambda: assign_ids(categorised), table)
    with tempfile.TemporaryDirectory() as tmp, State(Path(tmp) / "bench.sqlite") as state:
        run = state.begin_run("bench")
        timed("store", rows, lambda: state.store_transactions(named, run, None), table)
        timed("local target", rows, lambda: LocalLedger(state, run).send(named), table)
    total = sum(seconds for _, _, seconds, _ in table)
    table.append(("end to end", rows, total, peak_mb()))
    return table


def print_table(rows: list[tuple[str, int, float, float]]) -> None:
    print(f"{'stage':<14} {'rows':>10} {'seconds':>9} {'rows/s':>12} {'peak MB':>9}")
    for stage, n, seconds, peak in rows:
        print(f"{stage:<14} {n:>10,} {seconds:>9.2f} {n / seconds if seconds else 0:>12,.0f} {peak:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000], help="statement sizes to run")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    for rows in args.rows:
        print_table(bench_csv(rows))


if __name__ == "__main__":
    main()
