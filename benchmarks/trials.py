"""Kill trials: `python -m benchmarks --only trials [--trials 50] [--seed S]`, or
`python -m benchmarks.trials --trials 1 --seed S` to replay one.

Each trial: 4 `importer watch --once` workers on a fresh PostgreSQL schema and a fresh copy of
one inbox (`--trial-files` generated files, benchmarks/workers.py); one worker, drawn at random,
is SIGKILLed at a moment drawn uniformly over the expected duration (that of an unkilled
calibration run), and nothing is restarted.  The others finish on their own: a file the dead
worker had claimed stays pending for them (a `--once` watcher waits for a busy claim) until its
lease (`LEASE`, 5 s) runs out, then one of them takes it over; so no further pass is needed.
Then the trial checks: every file archived exactly once, none left in the inbox or failed, the
state holding exactly the external ids an SQLite run of the same inbox stored (0 lost, 0 twice),
the survivors exiting 0.

The report: trials run, failures with the seed that replays each, and the kills by phase (how
much of the inbox was filed away when the kill landed; "after it had finished" when the drawn
moment came after that worker's exit, which then tests nothing and is counted apart).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks import workers
from benchmarks.child import TimedOut
from benchmarks.data import DATA
from benchmarks.table import Result
from tests import pgserver

WORKERS = 4


@dataclass(frozen=True)
class Trial:
    seed: int
    worker: int  # the one killed
    at: float  # seconds after the start
    phase: str  # what the kill met (see `phase`)
    problems: list[str]


def phase(run: workers.Run, files: int) -> str:
    """How far the run was when the kill landed, by the files filed away."""
    filed = sum(1 for p in run.archive.rglob("*") if p.is_file())
    if filed == 0:
        return "before any file was filed"
    return "with all files filed" if filed >= files else "mid-inbox"


def one_trial(
    server: pgserver.Server, inbox: workers.Inbox, expected: list[str], seed: int, duration: float, scratch: Path
) -> Trial:
    """Trial `seed`: its killed worker and moment come from `seed` alone, so it replays."""
    rng = random.Random(seed)
    victim, at = rng.randrange(WORKERS), rng.uniform(0, duration)
    run = workers.prepare(inbox, scratch / f"trial-{seed}")
    kill = workers.Kill(victim, at, lambda: phase(run, len(inbox.names)))
    with workers.fresh_schema(server, f"bench_trial_{seed}") as url:
        try:
            ended, observed = workers.run_together(workers.watch_command(run, url, workers.LEASE), WORKERS, 600, kill)
        except TimedOut as late:
            return Trial(seed, victim, at, "-", [str(late)])
        found = workers.worker_problems(ended, victim) + workers.problems(run, inbox, workers.stored_ids(url), expected)
    return Trial(seed, victim, at, observed, found)


def reference(server: pgserver.Server, inbox: workers.Inbox, scratch: Path) -> tuple[list[str], float]:
    """(the external ids one SQLite worker stores, the wall seconds of an unkilled 4-worker run)."""
    sqlite = workers.Setting("SQLite", 1)
    alone, expected = workers.measure_run(sqlite, inbox, scratch / "ref.sqlite", scratch / "ref-sqlite", 600, None)
    if alone.rows is None:
        raise SystemExit(f"the reference run failed: {alone.note}")
    with workers.fresh_schema(server, "bench_trial_calibration") as url:
        setting = workers.Setting("PostgreSQL", WORKERS)
        timed, _ = workers.measure_run(setting, inbox, url, scratch / "calibration", 600, expected)
    if timed.seconds is None:
        raise SystemExit(f"the unkilled run with {WORKERS} workers failed: {timed.note}")
    return expected, timed.seconds


def trials(server: pgserver.Server, inbox: workers.Inbox, count: int, seed: int, scratch: Path) -> list[Trial]:
    expected, duration = reference(server, inbox, scratch)
    print(f"trials: {len(inbox.names)} files, {WORKERS} workers, unkilled run {duration:.1f} s", flush=True)
    done = []
    for number in range(count):
        done.append(one_trial(server, inbox, expected, seed + number, duration, scratch))
        _progress(number, done[-1])
    return done


def _progress(number: int, trial: Trial) -> None:
    verdict = "ok" if not trial.problems else "FAILED: " + "; ".join(trial.problems)
    print(
        f"  trial {number + 1} (seed {trial.seed}): worker {trial.worker} killed at {trial.at:.2f} s, "
        f"{trial.phase}: {verdict}",
        flush=True,
    )


def summary(done: list[Trial], inbox: workers.Inbox) -> Result:
    """The trials as one row of the results: failures (with their seeds) and the kills by phase."""
    failed = [t.seed for t in done if t.problems]
    phases = "; ".join(f"{name}: {n}" for name, n in Counter(t.phase for t in done).most_common())
    verdict = f"{len(failed)} failed" + (f" (seeds {', '.join(map(str, failed))})" if failed else "")
    name = f"kill trials: {WORKERS} workers, {len(inbox.names)} files x {inbox.rows} rows"
    return Result(name, len(done), None, None, None, f"{verdict}; kills {phases}", kind="trials")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=50, help="trials: how many")
    parser.add_argument("--trial-files", type=int, default=60, help="trials: statement files in each trial's inbox")
    parser.add_argument("--seed", type=int, default=1, help="trials: the first trial's seed (the next ones follow)")


def benchmark(args: argparse.Namespace, server: pgserver.Server) -> list[Result]:
    inbox = workers.cached_inbox(args.data, args.trial_files, args.file_rows)
    with tempfile.TemporaryDirectory(prefix="importer-bench-trials-") as scratch:
        done = trials(server, inbox, args.trials, args.seed, Path(scratch))
    return [summary(done, inbox)]


def main(argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trials", description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--file-rows", type=int, default=100, help="rows in each file")
    parser.add_argument("--data", type=Path, default=DATA, help="where generated statements are kept")
    args = parser.parse_args(argv)
    with workers.postgres() as server:
        result = benchmark(args, server)[0]
    print(f"\n{result.name}: {result.size} trials, {result.note}")
    return result


if __name__ == "__main__":
    main()
