"""Where an import's time goes: `python -m benchmarks.where FILE [--rules DIR] [--target local]`.

Runs the real pipeline (`importer.run.pipeline.run`) once on FILE into a fresh state database under
cProfile and prints, per pipeline step, the seconds spent in it and its share of the run, then the
functions that cost most on their own.  cProfile slows Python code more than C code (SQLite,
hashing), so the shares are a guide to where to look, not rates: the rates come from
`python -m benchmarks`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
from pathlib import Path
from unittest.mock import patch

from importer.parsers import ParseOptions
from importer.rules import load_rules
from importer.run import file_import
from importer.run.pipeline import RunSettings, run
from importer.store.sqlite import State

# (label, module file suffix, function name): the steps of a file's streaming import, in order.
# The parse step is the parser's `stream` (`CsvParser.stream`, `OfxParser.stream`: both in reader.py); it
# runs in the reader thread in a real run, so `profile_run` reads it in the main thread instead.
STEPS = (
    ("parse", "/reader.py", "stream"),
    ("ids", "importer/ids/recipe.py", "assign_batch"),
    ("rules", "importer/rules/engine.py", "apply_batch"),
    ("dedupe layers", "importer/dedupe/stream.py", "batch"),
    ("store", "importer/store/sqlite_stream.py", "store_batch"),
    ("transfers", "importer/dedupe/transfers.py", "pair_stored"),
    ("land in the state (local)", "importer/run/pipeline.py", "_land_in_state"),
    ("upload (journal + target)", "importer/run/pipeline.py", "_upload"),
)


def profile_run(path: Path, rules_path: Path, target: str) -> pstats.Stats:
    rules = load_rules([rules_path])
    with tempfile.TemporaryDirectory(prefix="importer-where-") as tmp, State(Path(tmp) / "state.sqlite") as state:
        profiler = cProfile.Profile()
        profiler.enable()
        with patch.object(file_import, "read_ahead", lambda events, depth=2: events):  # parse in this thread
            run([path], rules, state, RunSettings(target=target, parse=ParseOptions(account="Benchmark")))
        profiler.disable()
    return pstats.Stats(profiler)


def step_seconds(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Cumulative seconds of each step (0 for a step the run did not reach)."""
    found = dict.fromkeys((label for label, _, _ in STEPS), 0.0)
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, suffix, name in STEPS:
            if function == name and filename.endswith(suffix):
                found[label] += cumulative
    return list(found.items())


def report(stats: pstats.Stats, top: int) -> None:
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"{'step':<28}{'seconds':>9}{'share':>8}")
    for label, seconds in step_seconds(stats):
        print(f"{label:<28}{seconds:>9.2f}{seconds / total:>8.0%}")
    print(f"{'whole run (profiled)':<28}{total:>9.2f}\n")
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.where", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--rules", type=Path, default=Path(__file__).resolve().parent.parent / "rules")
    parser.add_argument("--target", default="local")
    parser.add_argument("--top", type=int, default=15, help="how many costliest functions to list")
    args = parser.parse_args(argv)
    report(profile_run(args.file, args.rules, args.target), args.top)


if __name__ == "__main__":
    main()
