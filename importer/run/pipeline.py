"""identify → parse → rules → ids → unsent → batches → upload → mark sent → report.

Each file is read whole before anything from it is stored, so a file that fails to parse
leaves no trace but its error.  One bad file does not stop the run (unless `failfast`): whatever
reading a file raises (our `InputError`s, and also a RecursionError from a hostile nesting, a
pydantic ValidationError, a MemoryError, or a bug) becomes that file's error, and the run goes
on to the next file and prints its summary.

A cut-off file (`TruncatedError`) is refused like any unreadable file, unless the user asked
for `allow_partial`: then the statements the parser built from its complete records are
imported, and the file's report carries a warning saying what was cut.

Progress is told to the run's observer at each stage boundary (reading, categorising, storing,
uploading) and after each upload batch, so a front end can draw it; the library draws nothing.

A Ctrl-C (KeyboardInterrupt) stops the run where it lands, with its report saying what was done
and what is left (`RunReport.interrupted`) and the run marked `interrupted`.  While a file is
being read or categorised nothing of it is stored yet; its storing is shielded (the interrupt
lands when it is complete), so a file is stored whole or not at all.  An upload batch cut in
flight stays *pending* in the journal (importer/run/journal.py), and the next run settles it before
sending anything, as after a crash: each record still lands exactly once.

A dry run stores nothing, but remembers, for the rest of the run, what it would have stored and
sent (`DryRunMemory`), so two overlapping files count their overlap as the real run would.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Protocol

from pydantic import ValidationError

from importer.config.settings import TargetSettings
from importer.core.accounts import Account, AccountBook, AccountSpec
from importer.core.errors import ImporterError, InputError, TruncatedError, UploadError
from importer.core.models import Outcome, Statement, Transaction, UploadResult, with_updates
from importer.dedupe.layers import MatchSettings
from importer.ids.recipe import DayLetGo, IdAssigner
from importer.internals.crash import crash_point
from importer.internals.gcpause import paused_gc
from importer.parsers import ParseOptions, Parser, identify
from importer.reports.summary import (
    CATEGORISING,
    READING,
    STORING,
    UPLOADING,
    FileReport,
    Interruption,
    RunReport,
    Uploaded,
)
from importer.rules import RuleSet
from importer.run.file_import import FileImport, FileSettings, Imported
from importer.run.journal import Journal, batch_key
from importer.run.lock import LockedError
from importer.store.base import SharedKeys, Store
from importer.targets import Ability, Target, make_target

# Files a folder may hold beside statements that are never statements themselves.
_NOT_STATEMENTS = {".md", ".json", ".jsonl", ".yaml", ".yml", ".py", ".sqlite", ".log", ".pdf"}


class RunObserver(Protocol):
    """Told what happens during a run (gap checks, progress, logs); it must not raise."""

    def stage(self, path: Path, stage: str, rows: int) -> None:
        """`path` entered `stage` (READING... UPLOADING) with `rows` rows (0 while reading: not known yet)."""

    def uploaded(self, path: Path, progress: Uploaded) -> None:
        """One more upload batch of `path` was sent (or failed)."""

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
    kind: str = "run"  # what `history` calls the run: run, routine, watch (a dry run is `dry-run`)
    preview: Callable[[list[str]], None] | None = None  # shown the requests a dry run would send
    accounts: tuple[AccountSpec, ...] = ()  # importer.yaml `accounts:`
    as_new_account: bool = False  # import a file even when its rows are stored under another account
    # For files that name no currency when neither --currency nor their source does
    # ($IMPORTER_CURRENCY, else the config's `currency:`; see importer.config.settings.default_currency).
    default_currency: str | None = None

    def parse_options(self) -> ParseOptions:
        """The parse options with the default currency filled in when nothing more specific says one."""
        if self.parse.currency or not self.default_currency:
            return self.parse
        return replace(self.parse, default_currency=self.default_currency)


@dataclass(frozen=True)
class ReadFile:
    """What was read from one statement file, and what the user must be told about it."""

    parser: Parser
    statements: list[Statement]
    warnings: list[str] = field(default_factory=list)


def read_file(path: Path, options: ParseOptions) -> ReadFile:
    """Identify and parse `path`; every failure is an `InputError` naming the file.

    With `options.allow_partial`, a cut-off file gives the statements of its complete records
    and a warning instead of an error.
    """
    try:
        return _parse(path, options)
    except ImporterError:
        raise
    except Exception as exc:  # the boundary: nothing a file can cause may stop the run
        raise unreadable(path, exc) from None


def _parse(path: Path, options: ParseOptions) -> ReadFile:
    """The one parser that claims `path`, and what it read from the whole file (or its complete part)."""
    parser = identify(path, options)
    try:
        statements = parser.parse(path, options)
    except TruncatedError as exc:
        if not (options.allow_partial and exc.partial):
            raise
        return ReadFile(parser, list(exc.partial), [partial_warning(exc)] + _notes(path, exc.partial))
    return ReadFile(parser, statements, _notes(path, statements))


def partial_warning(exc: TruncatedError) -> str:
    """What an `allow_partial` import of a cut-off file left out, naming the file and the cut."""
    count = sum(len(statement.transactions) for statement in exc.partial)
    return (
        f"{exc} Imported only the {count} transaction(s) before the cut (allow partial); "
        "the rest of the file was not imported: download it again to get it."
    )


def _notes(path: Path, statements: Sequence[Statement]) -> list[str]:
    """The parsers' notes (what they could not check), as warnings naming the file."""
    return [f"{path}: {note}" for statement in statements for note in statement.notes]


# Why reading a file can fail in ways no parser reports itself, and what the user can do.
_UNREADABLE: tuple[tuple[type[BaseException], str], ...] = (
    (RecursionError, "its records nest too deeply to be read (a damaged or hostile file); download it again."),
    (MemoryError, "it needs more memory than is available; split it, or import it on a larger machine."),
    (UnicodeError, "its text is not valid in the encoding it declares ({detail}); download it again."),
    (ValidationError, "a value in it is not valid ({detail}); check the file, or download it again."),
)


def unreadable(path: Path, exc: Exception) -> InputError:
    """`exc`, raised while reading `path`, as that file's `InputError` (no traceback reaches the user)."""
    detail = _validation_detail(exc) if isinstance(exc, ValidationError) else str(exc)
    for kind, reason in _UNREADABLE:
        if isinstance(exc, kind):
            return InputError(path, "could not be read: " + reason.format(detail=detail))
    return InputError(
        path,
        f"could not be read: {type(exc).__name__}: {detail}. This is a bug in importer, not in your file: "
        "please report it with this message (and, if you can, the file with its amounts and names changed).",
    )


def _validation_detail(exc: ValidationError) -> str:
    """pydantic's first error as `field: message` (the file's value included)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    found = first.get("input")
    if isinstance(found, (str, int, float)) and repr(found) not in message:
        message += f" (found {found!r})"
    return f"{where}: {message}"


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
    # Not `is_file()`: a FIFO, a device or a dangling link among the statements is listed, so
    # the run reports it (read_statement refuses it unread) instead of skipping it silently.
    hidden = path.name.startswith(".")
    return not path.is_dir() and not hidden and path.suffix.lower() not in _NOT_STATEMENTS


# Rows named and categorised at a time: the named-but-uncategorised copies of a large statement
# are never all in memory at once (they were a fifth of the peak).
PREPARE_CHUNK = 20_000


def prepare(statement: Statement, rules: RuleSet, account: Account | None = None) -> list[Transaction]:
    """The statement's transactions named by their external ids and categorised by `rules`.

    Ids are computed from `account`'s identity (importer/ids/recipe.py; without one, recipe v1 from
    the rows' account name, as the golden files show the parser's view).  Transactions a `skip`
    rule drops are left out; ids come first so they do not depend on rules.
    """
    name = IdAssigner(account)
    rows = statement.transactions
    kept: list[Transaction] = []
    for start in range(0, len(rows), PREPARE_CHUNK):
        kept += rules.apply_all(name(rows[start : start + PREPARE_CHUNK])).kept
    return kept


def run(paths: Sequence[Path], rules: RuleSet, state: Store, settings: RunSettings) -> RunReport:
    """Import every statement file under `paths` into the configured target.

    A KeyboardInterrupt ends the run early: the report's `interrupted` says what was left.
    """
    run_id = state.begin_run("dry-run" if settings.dry_run else settings.kind)
    target = make_target(settings.target, state, run_id, settings.target_settings)
    report = RunReport(run_id=run_id, target=target.name, dry_run=settings.dry_run)
    files = statement_files(paths)
    tracker = Tracker(settings.observer)
    try:
        with state.scratch() if settings.dry_run else nullcontext():  # a dry run forgets all it stored
            _run_files(files, rules, state, target, replace(settings, observer=tracker), report, tracker)
    except KeyboardInterrupt:
        report.interrupted = tracker.interruption([f.path for f in report.files], [str(f) for f in files])
        if tracker.report is not None and tracker.stage_name == UPLOADING:
            report.files.append(tracker.report)  # what its batches sent so far
    finally:
        with shielded():  # a second Ctrl-C must not leave the run marked `running`
            _finish(state, target, report)
    return report


def _run_files(
    files: Sequence[Path],
    rules: RuleSet,
    state: Store,
    target: Target,
    settings: RunSettings,
    report: RunReport,
    tracker: Tracker,
) -> None:
    book = AccountBook(known=state.accounts(), specs=settings.accounts)
    if not settings.dry_run and not _reconcile(Journal(state, target, report.run_id), report):
        return
    for path in files:
        file_report = tracker.report = FileReport(path=str(path))
        import_file(path, rules, state, target, report.run_id, settings, book, file_report)
        report.files.append(file_report)
        tracker.file_done(file_report)
        if file_report.error and settings.failfast:
            break


def _finish(state: Store, target: Target, report: RunReport) -> None:
    target.close()
    status = "interrupted" if report.interrupted else "failed" if report.exit_code else "ok"
    state.finish_run(report.run_id, status)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold a Ctrl-C until the block is done, then raise it: for work that must not stop half way
    (storing a file, closing a run).  Signals reach only the main thread; elsewhere it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:  # None: a handler set outside Python; Python's own is the closest to put back
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


class Tracker:
    """Passes progress on to the run's observer and remembers where the run is, so an interrupted
    run can say what it finished, what it was doing and what it left."""

    def __init__(self, observer: RunObserver | None) -> None:
        self.observer = observer
        self.path: Path | None = None
        self.stage_name = ""
        self.progress: Uploaded | None = None
        self.report: FileReport | None = None  # the current file's report, filled in as it goes

    def stage(self, path: Path, stage: str, rows: int) -> None:
        self.path, self.stage_name = path, stage
        self.progress = None
        if self.observer is not None:
            self.observer.stage(path, stage, rows)

    def uploaded(self, path: Path, progress: Uploaded) -> None:
        self.progress = progress
        if self.observer is not None:
            self.observer.uploaded(path, progress)

    def statements(self, path: Path, statements: list[Statement]) -> None:
        if self.observer is not None:
            self.observer.statements(path, statements)

    def file_done(self, report: FileReport) -> None:
        self.path, self.stage_name, self.progress, self.report = None, "", None, None
        if self.observer is not None:
            self.observer.file_done(report)

    def interruption(self, done: Sequence[str], files: Sequence[str]) -> Interruption:
        """Where the run was stopped: `done` of `files` finished, the current one at which stage."""
        current = str(self.path) if self.path is not None else None
        finished = set(done) | {current}
        sent = self.progress or Uploaded(0, 0, 0, 0)
        return Interruption(
            stage=self.stage_name or None,
            file=current,
            done=list(done),
            not_started=[f for f in files if f not in finished],
            batches_sent=sent.batches,
            batches_left=sent.of_batches - sent.batches,
            rows_left=sent.of_rows - sent.rows,
        )


def import_file(
    path: Path,
    rules: RuleSet,
    state: Store,
    target: Target,
    run_id: int,
    settings: RunSettings,
    book: AccountBook | None = None,
    report: FileReport | None = None,
) -> FileReport:
    """Import one file into `report` (a new one by default); its errors are caught and reported,
    never raised (a KeyboardInterrupt is)."""
    report = report if report is not None else FileReport(path=str(path))
    book = book if book is not None else AccountBook(known=state.accounts(), specs=settings.accounts)
    try:
        with paused_gc():  # see importer/internals/gcpause.py: a third of the parse time was the collector
            _import(path, rules, state, target, run_id, settings, report, book, settings.dry_run)
    except LockedError:
        raise  # another worker holds the file's account: the run stops here, the file is left for later
    except ImporterError as exc:
        report.error = str(exc)
        report.failed = max(report.failed, 1) if isinstance(exc, InputError) else report.failed
    return report


def _stage(settings: RunSettings, path: Path, stage: str, rows: int = 0) -> None:
    if settings.observer is not None:
        settings.observer.stage(path, stage, rows)


def _import(
    path: Path,
    rules: RuleSet,
    state: Store,
    target: Target,
    run_id: int,
    settings: RunSettings,
    report: FileReport,
    book: AccountBook,
    dry_run: bool,
) -> None:
    options = settings.parse_options()
    _stage(settings, path, READING)
    parser = _identified(path, options)
    report.format = parser.name
    told = lambda rows: _stage(settings, path, CATEGORISING, rows)  # noqa: E731  (progress per batch)
    in_state = Ability.IN_STATE in target.abilities
    file_settings = _file_settings(settings, options, run_id, target)

    def reading(how: FileSettings) -> FileImport:  # made inside the file's transaction
        return FileImport(path, parser, rules, state, book, how, report)

    imported = _store_read_again(state, settings, target, told, file_settings, report, reading)
    crash_point("store")
    sending = len(imported.extra) + (0 if in_state else imported.fresh)
    _stage(settings, path, UPLOADING, sending)  # stored (and landed, in the state): only sending is left
    if settings.observer is not None:
        settings.observer.statements(path, imported.statements)
    if dry_run:
        _pretend_sent(state, target, imported, run_id, report, settings)
        return
    rows = _to_send(state, imported, run_id, target.batch_size, with_new=not in_state)
    journal = Journal(state, target, run_id)
    names = [*([] if in_state else state.representatives(run_id, imported.sha256, imported.after)), *imported.extra]
    _upload(rows, sending, names, journal, report, lambda done: _uploaded(settings, path, done))


def _store_read_again(
    state: Store,
    settings: RunSettings,
    target: Target,
    told: Callable[[int], None],
    file_settings: FileSettings,
    report: FileReport,
    reading: Callable[[FileSettings], FileImport],
) -> Imported:
    """`_store_file`, and again from the start in a new transaction (what the reading before
    stored rolled back, its warnings taken back) while a reading ends in what another way of
    reading settles: a long statement not in date order (DayLetGo: repeat counters unbounded), or
    two rows sharing a key while the key index was deferred (SharedKeys: the index kept).  Each
    sets its own setting for good, so a file is read three times at most."""
    warnings = len(report.warnings)
    while True:
        try:
            return _store_file(state, partial(reading, file_settings), settings, target, told)
        except DayLetGo:
            file_settings = replace(file_settings, id_window=None)
        except SharedKeys:
            file_settings = replace(file_settings, defer_keys_after=None)
        del report.warnings[warnings:]


def _store_file(
    state: Store,
    reading: Callable[[], FileImport],
    settings: RunSettings,
    target: Target,
    told: Callable[[int], None],
) -> Imported:
    """Read, categorise and store a file (`reading` begins it) in its one transaction: stored
    whole or not at all (and landed with it in a target inside the state)."""
    with state.transaction():
        file = reading()
        report, run_id = file.report, file.settings.run_id
        imported = _read_into(file, told)
        crash_point("parse")
        _stage(settings, file.path, STORING, report.parsed)
        _record_file(state, file.book, file, imported, report, run_id)
        if Ability.IN_STATE in target.abilities:  # the local ledger is the stored rows: they land with the file
            report.new += _land_in_state(state, target, run_id, imported)
    return imported


def _land_in_state(state: Store, target: Target, run_id: int, imported: Imported) -> int:
    """Land the file's new rows in a target that lives in the state (`Ability.IN_STATE`)."""
    crash_point("upload.pending")  # the crash points of an upload: a kill here undoes the whole file
    landed = state.land_in_state(target.name, run_id, imported.sha256, imported.after, imported.landed)
    crash_point("upload.sent")
    return landed


def _identified(path: Path, options: ParseOptions) -> Parser:
    try:
        return identify(path, options)
    except ImporterError:
        raise
    except Exception as exc:  # the boundary: nothing a file can cause may stop the run
        raise unreadable(path, exc) from None


def _read_into(file: FileImport, told: Callable[[int], None]) -> Imported:
    """Run the file's import; whatever a file can cause becomes that file's `InputError`."""
    try:
        return file.run(told)
    except (ImporterError, KeyboardInterrupt, DayLetGo, SharedKeys):  # the last two: read again (`_store_read_again`)
        raise
    except Exception as exc:
        raise unreadable(file.path, exc) from None


def _file_settings(settings: RunSettings, options: ParseOptions, run_id: int, target: Target) -> FileSettings:
    return FileSettings(
        run_id=run_id,
        target=target.name,
        match=settings.match,
        options=options,
        explicit_account=settings.parse.account,
        as_new_account=settings.as_new_account,
        in_state=Ability.IN_STATE in target.abilities,
    )


def _record_file(
    state: Store, book: AccountBook, file: FileImport, imported: Imported, report: FileReport, run_id: int
) -> None:
    """The file, its accounts and what this run read of it, in the file's transaction."""
    _store_accounts(state, book, file.accounts())
    state.record_file(imported.sha256, file.path, file.size, run_id)
    state.record_run_file(
        run_id, imported.sha256, file.path, file.parser.name, report.parsed, imported.fresh + len(imported.extra)
    )


def _to_send(
    state: Store, imported: Imported, run_id: int, size: int, with_new: bool = True
) -> Iterator[Sequence[Transaction]]:
    """The file's new rows read back after the commit (`with_new`), then the others it owes the target."""
    if with_new:
        yield from state.new_rows(run_id, imported.sha256, imported.after, size)
    yield from batches(imported.extra, size)


def _pretend_sent(
    state: Store, target: Target, imported: Imported, run_id: int, report: FileReport, settings: RunSettings
) -> None:
    """A dry run: count and preview what would be sent, and let the rest of the run see it as
    sent (the run's scratch transaction forgets it all at the end)."""
    size = max(1, target.batch_size)
    if Ability.IN_STATE in target.abilities:  # the new rows landed with the file already
        report.new += len(imported.extra)
        rows: Iterator[Sequence[Transaction]] = batches(imported.extra, size)
    else:
        report.new = imported.fresh + len(imported.extra)
        rows = _to_send(state, imported, run_id, size)
    for batch in rows:
        _preview(target, list(batch), settings)
        accepted = [
            UploadResult(external_id=t.external_id or "", outcome=Outcome.ACCEPTED, remote_id=t.external_id)
            for t in batch
        ]
        state.mark_accepted(target.name, accepted, run_id)


def _uploaded(settings: RunSettings, path: Path, progress: Uploaded) -> None:
    if settings.observer is not None:
        settings.observer.uploaded(path, progress)


def _store_accounts(state: Store, book: AccountBook, accounts: Sequence[Account]) -> None:
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


def _reconcile(journal: Journal, report: RunReport) -> bool:
    """Settle the pending batches of earlier runs; False (and nothing new is sent) if that fails."""
    outcome = journal.reconcile()
    report.reconciled = outcome
    if outcome.errors:
        report.files.append(FileReport(path="(upload journal)", error="; ".join(outcome.errors)))
    return not outcome.errors


def _preview(target: Target, sending: list[Transaction], settings: RunSettings) -> None:
    """Show the exact requests a dry run would send (targets that can PLAN; secrets redacted)."""
    if Ability.PLAN in target.abilities and settings.preview is not None and sending:
        settings.preview(target.plan(sending))


def _upload(
    rows: Iterable[Sequence[Transaction]],
    total_rows: int,
    names: Sequence[Transaction],
    journal: Journal,
    report: FileReport,
    told: Callable[[Uploaded], None] = lambda _: None,
) -> None:
    """Send `rows` (`total_rows` of them) in the target's batches; `names` holds a row of each
    account and category among them, mapped on the target before anything is sent."""
    if total_rows and not _prepared(journal, names, report, total_rows):
        return
    size = max(1, journal.target.batch_size)
    total = -(-total_rows // size)
    sent = number = 0
    told(Uploaded(0, total, 0, total_rows))
    for batch in _rebatched(rows, size):
        number += 1
        _send(journal, batch, report)
        sent += len(batch)
        told(Uploaded(number, total, sent, total_rows))


def _prepared(journal: Journal, names: Sequence[Transaction], report: FileReport, total_rows: int) -> bool:
    """Remote targets map every account and category name first: one missing stops the file."""
    try:
        if Ability.PREPARE in journal.target.abilities:
            journal.target.prepare(names)
    except UploadError as exc:
        report.failed, report.error = total_rows, str(exc)
        return False
    return True


def _rebatched(rows: Iterable[Sequence[Transaction]], size: int) -> Iterator[list[Transaction]]:
    """`rows` in batches of exactly `size` (the last one shorter), whatever pieces they came in."""
    pending: list[Transaction] = []
    for piece in rows:
        pending.extend(piece)
        while len(pending) >= size:
            yield pending[:size]
            del pending[:size]
    if pending:
        yield pending


def _send(journal: Journal, batch: Sequence[Transaction], report: FileReport) -> None:
    """Send one batch through the journal and count its outcome in `report`."""
    try:
        results = journal.send(batch, batch_key(journal.target.name, batch))
    except UploadError as exc:
        report.failed += len(batch)
        report.error = str(exc)
        return
    report.new += sum(1 for r in results if r.outcome is Outcome.ACCEPTED)
    report.duplicate += sum(1 for r in results if r.outcome is Outcome.DUPLICATE)
    rejected = [r for r in results if r.outcome is Outcome.REJECTED]
    report.failed += len(rejected)
    if rejected and report.error is None:
        report.error = f"{journal.target.name} rejected {len(rejected)} record(s), first: {rejected[0].reason}"


def batches(items: Sequence[Transaction], size: int) -> Iterator[Sequence[Transaction]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]
