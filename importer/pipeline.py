"""identify → parse → rules → ids → unsent → batches → upload → mark sent → report.

Each file is read whole before anything from it is stored, so a file that fails to parse
leaves no trace but its error.  One bad file does not stop the run (unless `failfast`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from importer.accounts import Account, AccountBook, AccountSpec, overlapping_account, seen_elsewhere
from importer.config import TargetSettings
from importer.crash import crash_point
from importer.dedupe import IdAssigner
from importer.errors import ImporterError, InputError, UploadError
from importer.gcpause import paused_gc
from importer.journal import Journal
from importer.matching import Action, FileContext, MatchSettings, classify, record
from importer.models import Outcome, Statement, Transaction, with_updates
from importer.parsers import ParseOptions, Parser, identify
from importer.report import FileReport, RunReport
from importer.rules import RuleSet
from importer.state import State
from importer.transfers import pair_transfers
from importer.uploaders import Target, make_target

# Files a folder may hold beside statements that are never statements themselves.
_NOT_STATEMENTS = {".md", ".json", ".jsonl", ".yaml", ".yml", ".py", ".sqlite", ".log", ".pdf"}


class RunObserver(Protocol):
    """Told what happens during a run (gap checks, progress, logs); it must not raise."""

    def statements(self, path: Path, statements: list[Statement]) -> None:
        """`path`'s statements were parsed and their transactions stored."""

    def file_done(self, report: FileReport) -> None:
        """`report`'s file is finished, imported or failed."""


@dataclass(frozen=True)
class RunSettings:
    """Everything one `importer run` was asked to do."""

    target: str = "local"
    target_settings: TargetSettings | None = None
    parse: ParseOptions = field(default_factory=ParseOptions)
    dry_run: bool = False
    failfast: bool = False
    match: MatchSettings = field(default_factory=MatchSettings)
    observer: RunObserver | None = None
    preview: Callable[[list[str]], None] | None = None  # shown the requests a dry run would send
    accounts: tuple[AccountSpec, ...] = ()  # importer.yaml `accounts:`
    as_new_account: bool = False  # import a file even when its rows are stored under another account


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


# Rows named and categorised at a time: the named-but-uncategorised copies of a large statement
# are never all in memory at once (they were a fifth of the peak).
PREPARE_CHUNK = 20_000


def prepare(statement: Statement, rules: RuleSet, account: Account | None = None) -> list[Transaction]:
    """The statement's transactions named by their external ids and categorised by `rules`.

    Ids are computed from `account`'s identity (importer/dedupe.py; without one, recipe v1 from
    the rows' account name, as the golden files show the parser's view).  Transactions a `skip`
    rule drops are left out; ids come first so they do not depend on rules.
    """
    name = IdAssigner(account)
    rows = statement.transactions
    kept: list[Transaction] = []
    for start in range(0, len(rows), PREPARE_CHUNK):
        kept += rules.apply_all(name(rows[start : start + PREPARE_CHUNK])).kept
    return kept


def run(paths: Sequence[Path], rules: RuleSet, state: State, settings: RunSettings) -> RunReport:
    """Import every statement file under `paths` into the configured target."""
    run_id = state.begin_run("dry-run" if settings.dry_run else "run")
    target = make_target(settings.target, state, run_id, settings.target_settings)
    book = AccountBook(known=state.accounts(), specs=settings.accounts)
    report = RunReport(run_id=run_id, target=target.name, dry_run=settings.dry_run)
    try:
        if not settings.dry_run and not _reconcile(Journal(state, target, run_id), report):
            return report
        for path in statement_files(paths):
            file_report = import_file(path, rules, state, target, run_id, settings, book)
            report.files.append(file_report)
            if settings.observer is not None:
                settings.observer.file_done(file_report)
            if file_report.error and settings.failfast:
                break
    finally:
        target.close()
        state.finish_run(run_id, "failed" if report.exit_code else "ok")
    return report


def import_file(
    path: Path, rules: RuleSet, state: State, target: Target, run_id: int, settings: RunSettings,
    book: AccountBook | None = None,
) -> FileReport:
    """Import one file; its errors are caught and reported, never raised."""
    report = FileReport(path=str(path))
    book = book if book is not None else AccountBook(known=state.accounts(), specs=settings.accounts)
    try:
        with paused_gc():  # see importer/gcpause.py: a third of the parse time was the collector
            _import(path, rules, state, target, run_id, settings, report, book)
    except ImporterError as exc:
        report.error = str(exc)
        report.failed = max(report.failed, 1) if isinstance(exc, InputError) else report.failed
    return report


def _import(
    path: Path, rules: RuleSet, state: State, target: Target, run_id: int, settings: RunSettings, report: FileReport,
    book: AccountBook,
) -> None:  # fmt: skip
    parser, statements = _parse(path, settings.parse)
    report.format = parser.name
    crash_point("parse")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    explicit = _explicit_account(statements, settings)
    accounts = [book.resolve(statement, explicit, statement.profile or settings.parse.profile) for statement in statements]
    statements = [in_account(statement, account) for statement, account in zip(statements, accounts)]
    if not settings.as_new_account:
        _refuse_if_seen_elsewhere(state, book, statements, accounts, digest)
    txns = [txn for statement, account in zip(statements, accounts) for txn in prepare(statement, rules, account)]
    report.count_rules(sum(len(statement.transactions) for statement in statements), txns)
    decisions = classify(state, target.name, txns, FileContext.of(statements, digest, parser.name), settings.match)
    report.add_decisions(decisions)
    if settings.dry_run:
        sending = [d.txn for d in decisions if d.action is Action.SEND]
        report.new = len(sending)
        _preview(target, sending, settings)
        return
    _store_accounts(state, book, accounts)
    state.record_file(digest, path, len(data), run_id)
    fresh = record(state, decisions, run_id, digest, target.name)
    state.record_run_file(run_id, digest, path, parser.name, len(txns), len(fresh))
    crash_point("store")
    if settings.observer is not None:
        settings.observer.statements(path, statements)
    fresh = pair_transfers(state, fresh, settings.match.window_days)
    report.transfers = sum(1 for t in fresh if t.transfer_to)
    _upload(fresh, Journal(state, target, run_id), report)


def _explicit_account(statements: Sequence[Statement], settings: RunSettings) -> str | None:
    """The account name the user gave (--account, a source's `account:`); parsers apply it only
    to a file of one account, and so does the account book."""
    return settings.parse.account if len({s.bank_account_id for s in statements}) == 1 else None


def _store_accounts(state: State, book: AccountBook, accounts: Sequence[Account]) -> None:
    """Remember the file's accounts (new ones, new identifiers, a legacy account's new name)."""
    for account in accounts:
        if account.key in book.renames:
            state.rename_account(*book.renames.pop(account.key))
    state.save_accounts(accounts)


def in_account(statement: Statement, account: Account) -> Statement:
    """`statement` with its rows shown under `account`'s name (unchanged when it already is)."""
    if statement.account == account.name and all(t.account == account.name for t in statement.transactions):
        return statement
    rows = tuple(with_updates(t, {"account": account.name}) for t in statement.transactions)
    return with_updates(statement, {"account": account.name, "transactions": rows})


def _refuse_if_seen_elsewhere(
    state: State, book: AccountBook, statements: Sequence[Statement], accounts: Sequence[Account], digest: str
) -> None:
    """Hold a file whose rows are already stored under another account (see importer/accounts.py)."""
    owners = state.file_accounts(digest)
    names = {a.name for a in accounts} | {book.renames[a.key][0] for a in accounts if a.key in book.renames}
    for statement, account in zip(statements, accounts):
        days = [t.date for t in statement.transactions]
        stored = state.fingerprints(min(days), max(days), account.name) if days else iter(())
        if book.vouched(account.name):  # then only unvouched accounts can be this one under another name
            stored = (row for row in stored if not book.vouched(row[0]))
        overlap = overlapping_account(statement, (row for row in stored if row[0] not in names))
        error = seen_elsewhere(statement.path, account, owners - names, overlap, len(statement.transactions))
        if error is not None:
            raise error


def _parse(path: Path, options: ParseOptions) -> tuple[Parser, list[Statement]]:
    """The one parser that claims `path`, and what it read from the whole file."""
    parser = identify(path, options)
    return parser, parser.parse(path, options)


def _reconcile(journal: Journal, report: RunReport) -> bool:
    """Settle the pending batches of earlier runs; False (and nothing new is sent) if that fails."""
    outcome = journal.reconcile()
    report.reconciled = outcome
    if outcome.errors:
        report.files.append(FileReport(path="(upload journal)", error="; ".join(outcome.errors)))
    return not outcome.errors


def _preview(target: Target, sending: list[Transaction], settings: RunSettings) -> None:
    """Show the exact requests a dry run would send (remote targets only; secrets redacted)."""
    plan = getattr(target, "plan", None)
    if plan is not None and settings.preview is not None and sending:
        settings.preview(plan(sending))


def _upload(fresh: list[Transaction], journal: Journal, report: FileReport) -> None:
    try:  # remote targets map every account and category name first: one missing stops the file
        getattr(journal.target, "prepare", lambda _: None)(fresh)
    except UploadError as exc:
        report.failed, report.error = len(fresh), str(exc)
        return
    for batch in batches(fresh, journal.target.batch_size):
        try:
            results = journal.send(batch, batch_key(journal.target.name, batch))
        except UploadError as exc:
            report.failed += len(batch)
            report.error = str(exc)
            continue
        report.new += sum(1 for r in results if r.outcome is Outcome.ACCEPTED)
        report.duplicate += sum(1 for r in results if r.outcome is Outcome.DUPLICATE)
        rejected = [r for r in results if r.outcome is Outcome.REJECTED]
        report.failed += len(rejected)
        if rejected and report.error is None:
            report.error = f"{journal.target.name} rejected {len(rejected)} record(s), first: {rejected[0].reason}"


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
