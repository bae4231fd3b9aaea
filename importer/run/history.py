"""History, undo and held rows: what each run read, stored and sent; taking a run back; deciding
on rows held as probable duplicates.

**Run numbers.**  A run gets a number (its row in `runs`) only if it changed something: a dry run,
or a run that ended `ok` having stored, sent and matched nothing (a cron run over files already
imported), is moved to `quiet_runs` when it finishes and its number is given to the next run
(state.py, `State.quiet_run`).  So `importer history` numbers the runs that did something, the
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.core.errors import StateError, UploadError
from importer.run.journal import Journal
from importer.core.models import Outcome, Transaction
from importer.run.pipeline import batch_key, batches as in_batches
from importer.store.sqlite import TXN_COLUMNS, State, transaction_from_row
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


_SUMMARY = """
SELECT r.id, r.started_at, r.finished_at, r.command, r.status,
       (SELECT count(*) FROM run_files f WHERE f.run_id = r.id),
       (SELECT count(*) FROM transactions t WHERE t.run_id = r.id),
       (SELECT count(*) FROM accepted a WHERE a.run_id = r.id)
FROM runs r
"""
_QUIET = "SELECT follows, id, NULL, started_at, finished_at, command, status, files, 0, 0 FROM quiet_runs"


def runs(state: State, quiet: bool = False) -> list[RunSummary]:
    """Every numbered run, newest first; with `quiet`, the quiet runs too, each after (above) the
    numbered run it followed."""
    rows = state.db.execute(_SUMMARY + " ORDER BY r.id DESC").fetchall()
    ordered = [((row[0], 0, 0), RunSummary(*row, batches=_batch_counts(state, row[0]))) for row in rows]
    if quiet:
        ordered += [((row[0], 1, row[1]), RunSummary(*row[2:], batches={})) for row in state.db.execute(_QUIET)]
        ordered.sort(key=lambda pair: pair[0], reverse=True)
    return [summary for _, summary in ordered]


def run_summary(state: State, run_id: int) -> RunSummary:
    row = state.db.execute(_SUMMARY + " WHERE r.id = ?", (run_id,)).fetchone()
    if row is None:
        raise StateError(f"there is no run {run_id} in {state.path}; `importer history` lists the runs.")
    return RunSummary(*row, batches=_batch_counts(state, run_id))


def _batch_counts(state: State, run_id: int) -> dict[str, int]:
    rows = state.db.execute("SELECT status, count(*) FROM batches WHERE run_id = ? GROUP BY status", (run_id,))
    return dict(rows.fetchall())


def run_detail(state: State, run_id: int) -> dict[str, Any]:
    """One run with its files and batches."""
    files = state.db.execute(
        "SELECT path, format, sha256, parsed, stored FROM run_files WHERE run_id = ? ORDER BY path", (run_id,)
    )
    batches = state.db.execute(
        "SELECT b.id, b.target, b.key, b.status, b.size, count(i.remote_id), b.error FROM batches b "
        "LEFT JOIN batch_items i ON i.batch_id = b.id WHERE b.run_id = ? GROUP BY b.id ORDER BY b.id",
        (run_id,),
    )
    return {
        "run": run_summary(state, run_id).__dict__,
        "files": [dict(zip(("path", "format", "sha256", "parsed", "stored"), row)) for row in files],
        "batches": [dict(zip(("id", "target", "key", "status", "size", "confirmed", "error"), row)) for row in batches],
    }


# undo -----------------------------------------------------------------------------------------


def plan_undo(state: State, run_id: int, first: int = FIRST_ROWS) -> UndoPlan:
    """What `undo(state, run_id, ...)` would remove, changing nothing."""
    summary = _undoable(state, run_id)
    stored = state.db.execute(
        f"SELECT {TXN_COLUMNS} FROM transactions WHERE run_id = ? ORDER BY date, external_id", (run_id,)
    ).fetchall()
    landed: dict[str, tuple[int, list[Transaction]]] = {}
    for target, row in _landed_rows(state, run_id):
        count, rows = landed.get(target, (0, []))
        landed[target] = (count + 1, rows + [transaction_from_row(row)] if len(rows) < first else rows)
    again = state.db.execute("SELECT count(*) FROM held WHERE decided_run_id = ? AND decision = 'released'", (run_id,))
    first_stored = [transaction_from_row(row) for row in stored[:first]]
    return UndoPlan(summary, len(stored), first_stored, landed, int(again.fetchone()[0]))


def _landed_rows(state: State, run_id: int) -> list[tuple[str, tuple[Any, ...]]]:
    """(target, the landed record's `TXN_COLUMNS`) for what `_landed` lists, by target and date."""
    columns = ", ".join("t." + c for c in TXN_COLUMNS.split(", "))
    rows = state.db.execute(
        f"SELECT a.target, {columns} FROM accepted a JOIN transactions t ON t.external_id = a.external_id "
        "WHERE a.run_id = ? OR a.external_id IN (SELECT external_id FROM transactions WHERE run_id = ?) "
        "ORDER BY a.target, t.date, t.external_id",
        (run_id, run_id),
    )
    return [(row[0], row[1:]) for row in rows]


def _undoable(state: State, run_id: int) -> RunSummary:
    summary = run_summary(state, run_id)
    if summary.status == "undone":
        raise StateError(f"run {run_id} was already undone.")
    return summary


def undo(state: State, run_id: int, open_target: Callable[[str], Target | None]) -> UndoResult:
    """Take run `run_id` back (see the module doc).  `open_target(name)` gives the target that
    landed records as `name`, or None to leave its records in place (they are still forgotten)."""
    _undoable(state, run_id)
    result = UndoResult(run_id)
    with state.transaction() as db:
        db.execute("UPDATE runs SET status = 'undoing' WHERE id = ?", (run_id,))
    landed = _landed(state, run_id)
    for target_name, remote_ids in landed.items():
        _delete_landed(target_name, remote_ids, open_target, result)
    result.transactions = _forget(state, run_id, landed)
    return result


def _landed(state: State, run_id: int) -> dict[str, list[str]]:
    """target → remote ids of what the run stored or landed."""
    rows = state.db.execute(
        "SELECT target, coalesce(remote_id, external_id) FROM accepted WHERE run_id = ? "
        "OR external_id IN (SELECT external_id FROM transactions WHERE run_id = ?)",
        (run_id, run_id),
    )
    landed: dict[str, list[str]] = {}
    for target, remote_id in rows:
        landed.setdefault(target, []).append(remote_id)
    return landed


def _delete_landed(name: str, remote_ids: list[str], open_target: Callable[[str], Target | None], result: UndoResult) -> None:
    target = open_target(name)
    if target is None:
        result.kept_remote[name] = len(remote_ids)
        return
    try:
        target.delete(remote_ids)
    finally:
        target.close()
    result.removed[name] = len(remote_ids)


_FORGET = (
    # Rows this run released are held again (their records belong to the run that held them).
    "UPDATE transactions SET status = 'review' WHERE external_id IN "
    "(SELECT external_id FROM held WHERE decided_run_id = :run AND decision = 'released')",
    "UPDATE held SET decision = NULL, decided_run_id = NULL, decided_at = NULL WHERE decided_run_id = :run",
    "DELETE FROM held WHERE external_id IN (SELECT external_id FROM doomed)",
    "DELETE FROM accepted WHERE run_id = :run OR external_id IN (SELECT external_id FROM doomed)",
    "DELETE FROM ledger WHERE external_id IN (SELECT external_id FROM doomed) OR run_id = :run",
    "UPDATE transactions SET pair_id = NULL, transfer_to = NULL WHERE pair_id IN (SELECT pair_id FROM doomed)",
    "UPDATE ledger SET pair_id = NULL, transfer_to = NULL WHERE pair_id IN (SELECT pair_id FROM doomed)",
    "DELETE FROM aliases WHERE run_id = :run OR canonical_id IN (SELECT external_id FROM doomed)",
    "DELETE FROM batch_items WHERE batch_id IN (SELECT id FROM batches WHERE run_id = :run)",
    "DELETE FROM batches WHERE run_id = :run",
    "DELETE FROM transactions WHERE run_id = :run",
    "DELETE FROM files WHERE sha256 IN (SELECT sha256 FROM run_files WHERE run_id = :run) "
    "AND sha256 NOT IN (SELECT sha256 FROM run_files WHERE run_id <> :run)",
    "DELETE FROM run_files WHERE run_id = :run",
    "UPDATE runs SET status = 'undone', finished_at = coalesce(finished_at, started_at) WHERE id = :run",
)


def _forget(state: State, run_id: int, landed: dict[str, list[str]]) -> int:
    """Everything the run added, forgotten in one transaction; returns the transactions removed."""
    with state.transaction() as db:
        db.execute("CREATE TEMP TABLE doomed AS SELECT external_id, pair_id FROM transactions WHERE run_id = ?", (run_id,))
        count = db.execute("SELECT count(*) FROM doomed").fetchone()[0]
        for statement in _FORGET:
            db.execute(statement, {"run": run_id})
        db.execute("DROP TABLE doomed")
    return int(count)


# held rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldRow:
    """A row held as a probable duplicate (or dropped), beside the stored record it resembles."""

    number: int  # what the user types: `importer held release 3`
    run_id: int
    file_sha256: str | None
    txn: Transaction
    match: Transaction | None  # None when held before the match was recorded, or since undone


def held_rows(state: State, dropped: bool = False) -> list[HeldRow]:
    """Every row held for review (or, with `dropped`, every dropped one), by file then number."""
    rows = state.held_rows("dropped" if dropped else "review")
    return [HeldRow(row[0], row[1], row[2], transaction_from_row(row[3 : 3 + _WIDTH]), _match(row[3 + _WIDTH :]))
            for row in rows]  # fmt: skip


def _match(columns: Sequence[Any]) -> Transaction | None:
    return transaction_from_row(columns) if columns[0] is not None else None


def select_held(state: State, numbers: Sequence[int], path: Path | None, dropped_too: bool = False) -> list[HeldRow]:
    """The held rows the user named, by number or by the file they came from (with `dropped_too`,
    dropped rows as well); a number that is not there is an error naming it."""
    rows = held_rows(state) + (held_rows(state, dropped=True) if dropped_too else [])
    if path is not None:
        return in_file(rows, path)
    by_number = {row.number: row for row in rows}
    unknown = [str(n) for n in numbers if n not in by_number]
    if unknown:
        raise StateError(f"no held row numbered {', '.join(unknown)}; `importer held list` shows the held rows and their numbers.")
    return [by_number[n] for n in dict.fromkeys(numbers)]


def in_file(rows: Sequence[HeldRow], path: Path) -> list[HeldRow]:
    """The rows that came from `path`: the path as the run was given it, the same file by another
    path, or the same content (an inbox file filed away since)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return [row for row in rows if _same_file(row, path) or (digest is not None and row.file_sha256 == digest)]


def _same_file(row: HeldRow, path: Path) -> bool:
    source = Path(row.txn.source.path)
    return str(source) == str(path) or source.resolve() == path.resolve()


def drop_held(state: State, rows: Sequence[HeldRow]) -> None:
    """Never import these rows, and never hold them again."""
    state.decide_held([row.txn.external_id or "" for row in rows], "dropped", None)


@dataclass
class Release:
    """What releasing held rows did."""

    run_id: int
    sent: int = 0  # accepted by the target, or found there already
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def release_held(state: State, rows: Sequence[HeldRow], journal: Journal) -> Release:
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
