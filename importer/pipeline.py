"""identify → parse → rules → ids → unsent → batches → upload → mark sent → report.

Each file is read whole before anything from it is stored, so a file that fails to parse
leaves no trace but its error.  One bad file does not stop the run (unless `failfast`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from importer.config import TargetSettings
from importer.dedupe import assign_ids
from importer.errors import ImporterError, InputError, UploadError
from importer.models import Outcome, Statement, Transaction
from importer.parsers import ParseOptions, identify
from importer.report import FileReport, RunReport
from importer.rules import RuleSet
from importer.state import State
from importer.uploaders import Target, make_target

# Files a folder may hold beside statements that are never statements themselves.
_NOT_STATEMENTS = {".md", ".json", ".jsonl", ".yaml", ".yml", ".py", ".sqlite", ".log", ".pdf"}


@dataclass(frozen=True)
class RunSettings:
    """Everything one `importer run` was asked to do."""

    target: str = "local"
    target_settings: TargetSettings | None = None
    parse: ParseOptions = field(default_factory=ParseOptions)
    dry_run: bool = False
    failfast: bool = False
    preview: Callable[[list[str]], None] | None = None  # shown the requests a dry run would send


def statement_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and the statement files inside the folders named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if _looks_like_statement(p))
        else:
            files.append(path)
    return files


def _looks_like_statement(path: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.parts[-1:])
    return path.is_file() and not hidden and path.suffix.lower() not in _NOT_STATEMENTS


def prepare(statement: Statement, rules: RuleSet) -> list[Transaction]:
    """The statement's transactions categorised by `rules` and named by their external ids."""
    return assign_ids(rules.apply(txn) for txn in statement.transactions)


def run(paths: Sequence[Path], rules: RuleSet, state: State, settings: RunSettings) -> RunReport:
    """Import every statement file under `paths` into the configured target."""
    run_id = state.begin_run("dry-run" if settings.dry_run else "run")
    target = make_target(settings.target, state, run_id, settings.target_settings)
    report = RunReport(run_id=run_id, target=target.name, dry_run=settings.dry_run)
    try:
        for path in statement_files(paths):
            file_report = import_file(path, rules, state, target, run_id, settings)
            report.files.append(file_report)
            if file_report.error and settings.failfast:
                break
    finally:
        target.close()
        state.finish_run(run_id, "failed" if report.exit_code else "ok")
    return report


def import_file(
    path: Path, rules: RuleSet, state: State, target: Target, run_id: int, settings: RunSettings
) -> FileReport:
    """Import one file; its errors are caught and reported, never raised."""
    report = FileReport(path=str(path))
    try:
        _import(path, rules, state, target, run_id, settings, report)
    except ImporterError as exc:
        report.error = str(exc)
        report.failed = max(report.failed, 1) if isinstance(exc, InputError) else report.failed
    return report


def _import(
    path: Path, rules: RuleSet, state: State, target: Target, run_id: int, settings: RunSettings, report: FileReport
) -> None:
    parser = identify(path, settings.parse)
    report.format = parser.name
    statements = parser.parse(path, settings.parse)
    txns = [txn for statement in statements for txn in prepare(statement, rules)]
    report.parsed = len(txns)
    report.uncategorised = sum(1 for t in txns if t.category is None)
    known = state.accepted_ids(target.name, (t.external_id or "" for t in txns))
    fresh = [t for t in txns if t.external_id not in known]
    report.duplicate = len(txns) - len(fresh)
    if settings.dry_run:
        report.new = len(fresh)
        plan = getattr(target, "plan", None)  # remote targets show the exact requests
        if plan is not None and settings.preview is not None and fresh:
            settings.preview(plan(fresh))
        return
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    state.record_file(digest, path, len(data), run_id)
    state.store_transactions(txns, run_id, digest)
    _upload(fresh, target, state, run_id, report)


def _upload(fresh: list[Transaction], target: Target, state: State, run_id: int, report: FileReport) -> None:
    try:  # remote targets map every account and category name first: one missing stops the file
        getattr(target, "prepare", lambda _: None)(fresh)
    except UploadError as exc:
        report.failed, report.error = len(fresh), str(exc)
        return
    for batch in batches(fresh, target.batch_size):
        try:
            results = target.send(batch, batch_key(target.name, batch))
        except UploadError as exc:
            report.failed += len(batch)
            report.error = str(exc)
            continue
        state.mark_accepted(target.name, results, run_id)
        report.new += sum(1 for r in results if r.outcome is Outcome.ACCEPTED)
        report.duplicate += sum(1 for r in results if r.outcome is Outcome.DUPLICATE)
        rejected = [r for r in results if r.outcome is Outcome.REJECTED]
        report.failed += len(rejected)
        if rejected and report.error is None:
            report.error = f"{target.name} rejected {len(rejected)} record(s), first: {rejected[0].reason}"


def batch_key(target: str, batch: Sequence[Transaction]) -> str:
    """A deterministic idempotency key: the same records to the same target give the same key."""
    digest = hashlib.sha256(target.encode())
    for txn in batch:
        digest.update(b"\0" + (txn.external_id or "").encode())
    return digest.hexdigest()[:32]


def batches(items: Sequence[Transaction], size: int) -> Iterator[Sequence[Transaction]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]
