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
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import rules_bench
from importer.core.accounts import Account
from importer.core.batch import TxBatch
from importer.core.models import Transaction
from importer.ids.recipe import IdAssigner, assign_ids
from importer.internals.gcpause import paused_gc
from importer.internals.sqlite_mode import no_memory_statistics
from importer.parsers import ParseOptions, identify, parse_file
from importer.parsers.base import StatementFile
from importer.parsers.stream import Rows
from importer.rules import load_rules
from importer.run.file_import import ID_WINDOW_DAYS, file_sha256
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


def streamed(path: Path) -> list[TxBatch]:
    """The file's batches as the import reads them: `Parser.stream`, in one pass (no ids yet)."""
    options = ParseOptions()
    with StatementFile(path, options) as source:
        events = identify(path, options).stream(source, options)
        return [event.batch for event in events if isinstance(event, Rows)]


def stage_parse(path: Path, rules_path: Path) -> tuple[int, float]:
    """The streaming parse the import runs in its reader thread, with the cycle collector paused
    as the import pauses it (run/pipeline.py): what the collector costs is the import's share.
    The parser's modules are imported first, untimed: start-up is a benchmark of its own."""
    identify(path, ParseOptions())
    with paused_gc():
        batches, seconds = timed(lambda: streamed(path))
    return sum(map(len, batches)), seconds


BENCH_ACCOUNT = Account(key="bench", name="Benchmark checking")


def accounted(path: Path) -> list[TxBatch]:
    """The file's streamed batches, given the account the import gives them (file_import._rows)."""
    return [replace(batch, account=BENCH_ACCOUNT.name) for batch in streamed(path)]


def named_batches(path: Path) -> list[TxBatch]:
    """The file's batches as the import categorises them: streamed, given their account and ids."""
    ids = IdAssigner(BENCH_ACCOUNT, window=ID_WINDOW_DAYS)
    with paused_gc():
        return [ids.assign_batch(batch) for batch in accounted(path)]


def stage_ids(path: Path, rules_path: Path) -> tuple[int, float]:
    """`IdAssigner.assign_batch` over the streamed batches, bounded as the import runs it."""
    batches = accounted(path)
    ids = IdAssigner(BENCH_ACCOUNT, window=ID_WINDOW_DAYS)
    with paused_gc():
        _, seconds = timed(lambda: [ids.assign_batch(batch) for batch in batches])
    return sum(map(len, batches)), seconds


def stage_parse_whole(path: Path, rules_path: Path) -> tuple[int, float]:
    """The whole-file parse into pydantic `Transaction`s (`parse_file`: the library's, not the import's)."""
    txns, seconds = timed(lambda: parsed(path))
    return len(txns), seconds


def stage_ids_whole(path: Path, rules_path: Path) -> tuple[int, float]:
    """`assign_ids` over `Transaction`s: the per-row reference of the ids stage."""
    txns = parsed(path)
    _, seconds = timed(lambda: assign_ids(txns))
    return len(txns), seconds


def stage_rules(path: Path, rules_path: Path) -> tuple[int, float]:
    """`Rules.apply_batch` over the named batches, as the import categorises a file
    (file_import._categorise), the collector paused as in the import; the rules load untimed."""
    batches = named_batches(path)
    rules = load_rules([rules_path])
    with paused_gc():
        _, seconds = timed(lambda: [rules.apply_batch(batch) for batch in batches])
    return sum(map(len, batches)), seconds


def stage_rules_whole(path: Path, rules_path: Path) -> tuple[int, float]:
    """`Rules.apply_all` over the whole file's `Transaction`s: the per-row reference of the rules stage."""
    txns = named(path)
    rules = load_rules([rules_path])
    _, seconds = timed(lambda: rules.apply_all(txns))
    return len(txns), seconds


def stage_store(path: Path, rules_path: Path) -> tuple[int, float]:
    """The state database's share of a run, as the import stores a file: its batches (streamed,
    named and categorised, untimed) each stored by `store_batch` in the file's one transaction, in
    a fresh database, the commit included."""
    batches = list(categorised_batches(path, rules_path))
    with tempfile.TemporaryDirectory() as tmp, State(Path(tmp) / "bench.sqlite") as state:
        run, sha256 = state.begin_run("bench"), file_sha256(path, ParseOptions())
        stored, seconds = timed(lambda: store_file(state, batches, run, sha256))
    return stored, seconds


def categorised_batches(path: Path, rules_path: Path) -> Iterator[TxBatch]:
    """The file's batches as the import stores them: streamed, named and categorised."""
    options, rules = ParseOptions(), load_rules([rules_path])
    ids = IdAssigner(BENCH_ACCOUNT)
    with StatementFile(path, options) as source:
        for event in identify(path, options).stream(source, options):
            if isinstance(event, Rows):
                yield rules.apply_batch(ids.assign_batch(replace(event.batch, account=BENCH_ACCOUNT.name)))[0]


def store_file(state: State, batches: list[TxBatch], run: int, sha256: str) -> int:
    stored = 0
    with state.transaction():  # the file's one transaction, no savepoint per batch, as in the import
        for batch in batches:
            stored += state.store_batch(batch, range(len(batch)), run, sha256)
    return stored


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
    no_memory_statistics()  # SQLite as the command line runs it (importer/internals/sqlite_mode.py)
    main(sys.argv[1:])
