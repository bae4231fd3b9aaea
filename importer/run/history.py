"""History, undo and held rows: what each run read, stored and sent; taking a run back; deciding
on rows held as probable duplicates.

**Run numbers.**  A run gets a number (its row in `runs`) only if it changed something: a dry run,
or a run that ended `ok` having stored, sent and matched nothing (a cron run over files already
imported), is moved to `quiet_runs` when it finishes and its number is given to the next run
(`Store.finish_run`).  So `importer history` numbers the runs that did something, the
number a run's report printed is the one `history RUN` and `undo RUN` take, and quiet runs are
listed, unnumbered, with `--all`.  A run that failed or was interrupted keeps its number.

`runs()` and `run_detail()` read the state database only.  `undo()` removes what a run added:
the transactions it stored, the records it landed in each target (deleted through `Target.delete`,
the local ledger's as any other's), the aliases and batches it wrote and the files it read, so
importing those files again imports them again; rows it released are held again.
`plan_undo()` says what `undo()` would remove, without removing anything.

Order matters for a crash half way: the run is first marked `undoing`, the targets' records are
deleted, and only then is everything forgotten locally in one transaction and the run marked
`undone`.  Killed in between, `undo` can simply be run again.  A pending line that
the run updated to its posted form stays updated (the record belongs to the earlier run).

**Held rows.**  `release_held()` sends held rows now, as a run of its own (kind `release`),
through the upload journal like any run: pending batches are settled first, each batch is
journalled before it is sent, and the rows are marked released before the first batch goes, so a
crash at any point still lands each row exactly once (the next run settles the batch, or sends the
row when it reads its file again).  `drop_held()` marks rows never to be imported; the exact layer
of importer/dedupe/layers.py then skips them for good.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

from importer.core.errors import StateError, UploadError
from importer.core.models import Outcome, Transaction
from importer.run.journal import Journal, batch_key
from importer.run.pipeline import batches as in_batches
from importer.store.base import Store
from importer.store.rows import TXN_COLUMNS, transaction_from_row
from importer.targets.base import Ability, Target

FIRST_ROWS = 5  # rows shown per target by `undo --dry-run`
_WIDTH = len(TXN_COLUMNS.split(", "))


@dataclass(frozen=True)
class RunSummary:
    id: int | None  # None for a quiet run (a dry run or one that changed nothing): it has no number
    started_at: str
    finished_at: str | None
    command: str  # the kind of run: run, dry-run, watch, routine, release
    status: str
    files: int
    stored: int
    sent: int
    _: KW_ONLY  # the other fields come from a row (`RunSummary(*row, batches=...)`)
    batches: dict[str, int]


@dataclass
class UndoResult:
    run_id: int
    transactions: int = 0
    removed: dict[str, int] = field(default_factory=dict)  # target → records deleted there
    kept_remote: dict[str, int] = field(default_factory=dict)  # target → records left in place


@dataclass(frozen=True)
class UndoPlan:
    """What `undo` would remove: the run's stored transactions and, per target, what it landed."""

    run: RunSummary
    transactions: int
    first: list[Transaction]
    landed: dict[str, tuple[int, list[Transaction]]]  # target → (records, the first of them)
    held_again: int  # rows this run released, which undo holds again


def runs(state: Store, quiet: bool = False) -> list[RunSummary]:
    """Every numbered run, newest first; with `quiet`, the quiet runs too, each after (above) the
    numbered run it followed."""
    ordered = [((row[0], 0, 0), _summary(row, state.batch_counts(row[0]))) for row in state.run_rows()]
    if quiet:
        ordered += [((row[0], 1, row[1]), _summary(row[2:], {})) for row in state.quiet_run_rows()]
        ordered.sort(key=lambda pair: pair[0], reverse=True)
    return [summary for _, summary in ordered]


def run_summary(state: Store, run_id: int) -> RunSummary:
    row = state.run_row(run_id)
    if row is None:
        raise StateError(f"there is no run {run_id} in {state.path}; `importer history` lists the runs.")
    return _summary(row, state.batch_counts(run_id))


def _summary(row: Sequence[Any], batches: dict[str, int]) -> RunSummary:
    """A run from `Store.run_rows`' columns: id, started, finished, command, status, files, stored, sent."""
    return RunSummary(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], batches=batches)


def run_detail(state: Store, run_id: int) -> dict[str, Any]:
    """One run with its files and batches."""
    files, batches = state.run_files(run_id), state.run_batches(run_id)
    return {
        "run": run_summary(state, run_id).__dict__,
        "files": [dict(zip(("path", "format", "sha256", "parsed", "stored"), row)) for row in files],
        "batches": [dict(zip(("id", "target", "key", "status", "size", "confirmed", "error"), row)) for row in batches],
    }


# undo -----------------------------------------------------------------------------------------


def plan_undo(state: Store, run_id: int, first: int = FIRST_ROWS) -> UndoPlan:
    """What `undo(state, run_id, ...)` would remove, changing nothing."""
    summary = _undoable(state, run_id)
    stored = state.run_transactions(run_id)
    landed: dict[str, tuple[int, list[Transaction]]] = {}
    for target, txn in state.landed_records(run_id):
        count, rows = landed.get(target, (0, []))
        landed[target] = (count + 1, rows + [txn] if len(rows) < first else rows)
    return UndoPlan(summary, len(stored), stored[:first], landed, state.released_count(run_id))


def _undoable(state: Store, run_id: int) -> RunSummary:
    summary = run_summary(state, run_id)
    if summary.status == "undone":
        raise StateError(f"run {run_id} was already undone.")
    return summary


def undo(state: Store, run_id: int, open_target: Callable[[str], Target | None]) -> UndoResult:
    """Take run `run_id` back (see the module doc).  `open_target(name)` gives the target that
    landed records as `name`, or None to leave its records in place (they are still forgotten)."""
    _undoable(state, run_id)
    result = UndoResult(run_id)
    state.mark_undoing(run_id)
    landed = state.landed_remote_ids(run_id)
    for target_name, remote_ids in landed.items():
        _delete_landed(target_name, remote_ids, open_target, result)  # the local ledger's too
    result.transactions = state.forget_run(run_id)
    return result


def _delete_landed(
    name: str, remote_ids: list[str], open_target: Callable[[str], Target | None], result: UndoResult
) -> None:
    target = open_target(name)
    if target is None:
        result.kept_remote[name] = len(remote_ids)
        return
    try:
        target.delete(remote_ids)
    finally:
        target.close()
    result.removed[name] = len(remote_ids)


# held rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldRow:
    """A row held as a probable duplicate (or dropped), beside the stored record it resembles."""

    number: int  # what the user types: `importer held release 3`
    run_id: int
    file_sha256: str | None
    txn: Transaction
    match: Transaction | None  # None when held before the match was recorded, or since undone


def held_rows(state: Store, dropped: bool = False) -> list[HeldRow]:
    """Every row held for review (or, with `dropped`, every dropped one), by file then number."""
    rows = state.held_rows("dropped" if dropped else "review")
    return [
        HeldRow(row[0], row[1], row[2], transaction_from_row(row[3 : 3 + _WIDTH]), _match(row[3 + _WIDTH :]))
        for row in rows
    ]


def _match(columns: Sequence[Any]) -> Transaction | None:
    return transaction_from_row(columns) if columns[0] is not None else None


def select_held(state: Store, numbers: Sequence[int], path: Path | None, dropped_too: bool = False) -> list[HeldRow]:
    """The held rows the user named, by number or by the file they came from (with `dropped_too`,
    dropped rows as well); a number that is not there is an error naming it."""
    rows = held_rows(state) + (held_rows(state, dropped=True) if dropped_too else [])
    if path is not None:
        return in_file(rows, path)
    by_number = {row.number: row for row in rows}
    unknown = [str(n) for n in numbers if n not in by_number]
    if unknown:
        raise StateError(
            f"no held row numbered {', '.join(unknown)}; `importer held list` shows the held rows and their numbers."
        )
    return [by_number[n] for n in dict.fromkeys(numbers)]


def in_file(rows: Sequence[HeldRow], path: Path) -> list[HeldRow]:
    """The rows that came from `path`: the path as the run was given it, the same file by another
    path, or the same content (an inbox file filed away since)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return [row for row in rows if _same_file(row, path) or (digest is not None and row.file_sha256 == digest)]


def _same_file(row: HeldRow, path: Path) -> bool:
    source = Path(row.txn.source.path)
    return str(source) == str(path) or source.resolve() == path.resolve()


def drop_held(state: Store, rows: Sequence[HeldRow]) -> None:
    """Never import these rows, and never hold them again."""
    state.decide_held([row.txn.external_id or "" for row in rows], "dropped", None)


@dataclass
class Release:
    """What releasing held rows did."""

    run_id: int
    sent: int = 0  # accepted by the target, or found there already
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def release_held(state: Store, rows: Sequence[HeldRow], journal: Journal) -> Release:
    """Send `rows` to the journal's target as run `journal.run_id` (see the module doc)."""
    result = Release(journal.run_id)
    result.errors += journal.reconcile().errors
    if result.errors:  # as a run does: nothing new goes out before earlier batches are settled
        result.failed = len(rows)
        return result
    txns = [row.txn for row in rows]
    try:  # remote targets map every account and category name first (as pipeline._upload does)
        if Ability.PREPARE in journal.target.abilities:
            journal.target.prepare(txns)
    except UploadError as exc:
        result.failed, result.errors = len(txns), [str(exc)]
        return result
    state.decide_held([t.external_id or "" for t in txns], "released", journal.run_id)
    for batch in in_batches(txns, journal.target.batch_size):
        _send(journal, batch, result)
    return result


def _send(journal: Journal, batch: Sequence[Transaction], result: Release) -> None:
    try:
        outcomes = journal.send(batch, batch_key(journal.target.name, batch))
    except UploadError as exc:
        result.failed += len(batch)
        result.errors.append(str(exc))
        return
    result.sent += sum(1 for r in outcomes if r.outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE))
    rejected = [r for r in outcomes if r.outcome is Outcome.REJECTED]
    result.failed += len(rejected)
    result.errors += [f"{journal.target.name} rejected {r.external_id}: {r.reason}" for r in rejected[:1]]
