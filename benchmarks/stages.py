"""One pipeline stage, timed in a fresh process: `python -m benchmarks.stages STAGE FILE [RULES]`.

Each stage runs the stages before it untimed (its input has to exist), then times itself and
prints `{"rows": N, "seconds": S, "cpu_seconds": C}` as JSON (C: this process only, so for
the upload stage it leaves out the sandbox server's share).  The parent reads the process's peak memory from
`wait4`, so the figure is the peak of a process that held this stage's input and ran this stage:
what the pipeline needs up to that point, not a share of it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import rules_bench
from importer.core.models import Transaction
from importer.ids.recipe import assign_ids
from importer.parsers import ParseOptions, parse_file
from importer.rules import load_rules
from importer.store.sqlite import State

CPU = [0.0]  # CPU seconds of the last timed call, reported beside its wall time


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    CPU[0] = time.process_time() - cpu
    return result, time.perf_counter() - start


def parsed(path: Path) -> list[Transaction]:
    return [t for s in parse_file(path, ParseOptions()) for t in s.transactions]


def named(path: Path) -> list[Transaction]:
    return assign_ids(parsed(path))


def categorised(path: Path, rules_path: Path) -> list[Transaction]:
    return list(load_rules([rules_path]).apply_all(named(path)).kept)


def stage_parse(path: Path, rules_path: Path) -> tuple[int, float]:
    txns, seconds = timed(lambda: parsed(path))
    return len(txns), seconds


def stage_ids(path: Path, rules_path: Path) -> tuple[int, float]:
    txns = parsed(path)
    _, seconds = timed(lambda: assign_ids(txns))
    return len(txns), seconds


def stage_rules(path: Path, rules_path: Path) -> tuple[int, float]:
    txns = named(path)
    rules = load_rules([rules_path])
    _, seconds = timed(lambda: rules.apply_all(txns))
    return len(txns), seconds


def stage_store(path: Path, rules_path: Path) -> tuple[int, float]:
    """The state database's share of a run: the transactions stored, in one fresh database."""
    txns = categorised(path, rules_path)
    with tempfile.TemporaryDirectory() as tmp, State(Path(tmp) / "bench.sqlite") as state:
        run = state.begin_run("bench")
        _, seconds = timed(lambda: state.store_transactions(txns, run, None))
    return len(txns), seconds


def stage_upload(path: Path, rules_path: Path, target: str = "wallet") -> tuple[int, float]:
    """Batched sends to one sandbox service with limits off; the sandbox is its own process."""
    from benchmarks.upload_bench import free_port, make, start_sandbox, upload

    txns = categorised(path, rules_path)
    port = free_port()
    server = start_sandbox(port, limits=False, scale=1.0)
    try:
        client = make(target, port, 1.0, concurrency=8)
        seconds = upload(client, txns)
        client.close()
    finally:
        server.terminate()
        server.wait(10)
    return len(txns), seconds


def stage_rules_alone(path: Path, rules_path: Path, count: str = "1000") -> tuple[int, float]:
    """The matcher alone, `count` generated rules over as many rows as `path` holds (rules_bench's own).

    rules_bench times CPU seconds only, so this stage's wall figure is its CPU figure.
    """
    rows = sum(1 for _ in path.open("rb")) - 1
    rows, seconds = rules_bench.alone(count, rows, sample=min(1_000, rows))
    CPU[0] = seconds
    return rows, seconds


def stage_ofxparse(path: Path, rules_path: Path) -> tuple[int, float]:
    """Plain ofxparse on the same file: the reference OFX reader most Python tools use."""
    import warnings

    from ofxparse import OfxParser  # type: ignore[import-untyped]  # ofxparse ships no types

    warnings.simplefilter("ignore")
    with path.open("rb") as handle:
        document, seconds = timed(lambda: OfxParser.parse(handle))
    return sum(len(a.statement.transactions) for a in document.accounts), seconds


def main(argv: list[str]) -> None:
    stage, path, rules_path, *extra = argv
    rows, seconds = globals()[f"stage_{stage}"](Path(path), Path(rules_path), *extra)
    print(json.dumps({"rows": rows, "seconds": seconds, "cpu_seconds": CPU[0]}))


if __name__ == "__main__":
    main(sys.argv[1:])
