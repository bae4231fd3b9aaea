"""`python -m tests.fuzz [--slow] [--only CASE] [--write DIR] [--workers N]`: print the table.

`--write DIR` also saves the mutated bytes of every selected case under DIR (one folder per
case), so a parser engineer can run `python -m importer parse` on the very file that failed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzz.mutators import DEFAULT, SLOW
from tests.fuzz.runner import Plan, Target, corpus_targets, run, sample_targets, target_mutations
from tests.fuzz.table import failure_list, summary, table


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--slow", action="store_true", help="the large budget (thousands more cases)")
    parser.add_argument("--only", default="", help="run only the cases whose id contains this text")
    parser.add_argument("--write", type=Path, help="save the mutated files of the selected cases here")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--failures", type=int, default=20, help="how many failing cases to list")
    return parser.parse_args(argv)


def write_cases(targets: list[Target], plan: Plan, folder: Path) -> int:
    """Save every selected mutated file as FOLDER/<n>/<original name>; the number saved."""
    written = 0
    for target in targets:
        for mutation in target_mutations(target, plan):
            written += 1
            case = folder / str(written)
            case.mkdir(parents=True, exist_ok=True)
            (case / target.path.name).write_bytes(mutation.data)
            print(f"{case / target.path.name}  {mutation.name}:{target.key}@{mutation.detail}")
    return written


def _cpu() -> float:
    """CPU seconds of this process and its finished workers: the cost, whatever else runs."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    os.chdir(Path(__file__).resolve().parents[2])  # sample paths are relative to the repository
    plan = Plan(budget=SLOW if args.slow else DEFAULT, only=args.only)
    targets = sample_targets() + corpus_targets()
    if not corpus_targets():
        print("conformance corpus not found (set IMPORTER_CORPUS): samples only", file=sys.stderr)
    if args.write:
        return 0 if write_cases(targets, plan, args.write) else 1
    started, cpu = time.perf_counter(), _cpu()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        outcomes = run(targets, plan, Path(folder), workers=args.workers)
    print(table(outcomes))
    print(f"{summary(outcomes)} in {time.perf_counter() - started:.0f} s ({_cpu() - cpu:.0f} CPU s in all)")
    if args.only or args.failures:
        print(failure_list(outcomes, most=len(outcomes) if args.only else args.failures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
