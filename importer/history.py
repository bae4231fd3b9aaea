"""History and undo: what each run read, stored and sent, and taking a run back.

`runs()` and `run_detail()` read the state database only.  `undo()` removes what a run added:
the transactions it stored, the records it landed in each target (deleted remotely through
`Target.delete`, in the local ledger directly), the aliases and batches it wrote and the files it
read, so importing those files again imports them again.

Order matters for a crash half way: the run is first marked `undoing`, remote records are deleted,
and only then is everything forgotten locally in one transaction (the local ledger included) and
the run marked `undone`.  Killed in between, `undo` can simply be run again.  A pending line that
the run updated to its posted form stays updated (the record belongs to the earlier run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from importer.errors import StateError
from importer.state import State
from importer.uploaders.base import Target

LOCAL = "local"  # the embedded ledger lives in the state database: forgotten in the same transaction


@dataclass(frozen=True)
class RunSummary:
    id: int
    started_at: str
    finished_at: str | None
    command: str
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


_SUMMARY = """
SELECT r.id, r.started_at, r.finished_at, r.command, r.status,
       (SELECT count(*) FROM run_files f WHERE f.run_id = r.id),
       (SELECT count(*) FROM transactions t WHERE t.run_id = r.id),
       (SELECT count(*) FROM accepted a WHERE a.run_id = r.id)
FROM runs r
"""


def runs(state: State) -> list[RunSummary]:
    """Every run, newest first."""
    rows = state.db.execute(_SUMMARY + " ORDER BY r.id DESC").fetchall()
    return [RunSummary(*row, batches=_batch_counts(state, row[0])) for row in rows]


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


def undo(state: State, run_id: int, open_target: Callable[[str], Target | None]) -> UndoResult:
    """Take run `run_id` back (see the module doc).  `open_target(name)` gives the target that
    landed records as `name`, or None to leave its records in place (they are still forgotten)."""
    summary = run_summary(state, run_id)
    if summary.status == "undone":
        raise StateError(f"run {run_id} was already undone.")
    result = UndoResult(run_id)
    with state.transaction() as db:
        db.execute("UPDATE runs SET status = 'undoing' WHERE id = ?", (run_id,))
    landed = _landed(state, run_id)
    for target_name, remote_ids in landed.items():
        if target_name != LOCAL:
            _delete_remote(target_name, remote_ids, open_target, result)
    result.transactions = _forget(state, run_id, landed)
    result.removed[LOCAL] = len(landed.get(LOCAL, []))
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


def _delete_remote(name: str, remote_ids: list[str], open_target: Callable[[str], Target | None], result: UndoResult) -> None:
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
