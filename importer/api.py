"""The library API: everything `importer` does from the command line, callable from Python.

    config = open_config()                               importer.yaml (or the defaults)
    with session(config, state_path) as s:               the run lock, the state opened and migrated
        report = s.run([Path("samples")])                parse -> rules -> ids -> dedupe -> target
    report.files[0].new, report.exit_code                the summary the CLI prints

The command line (importer/cli/) is a thin layer over this module: it turns options into these
calls and renders what they return.  So the two rules every run obeys live here, once:

- One writer at a time (importer/run/lock.py): `session` takes the run lock before it opens the
  state and releases it after closing (SQLite: the whole state; PostgreSQL: shared, and each
  file's account is locked as it is imported, waiting as long), and a held lock is `LockedError`,
  an exception the caller handles, never an exit.
- Settings are assembled in one place: command-line values (or a caller's arguments) win, then the
  source's, then importer.yaml's, then the defaults (`parse_options`, `run_settings`).

A Ctrl-C during a run is the pipeline's to handle (importer/run/pipeline.py): the report says
where it stopped (`report.interrupted`, exit code 130) and the next run finishes the work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from importer.config.paths import default_rules_paths, default_state_path, log_anchor, user_profile_dirs
from importer.config.settings import Config, TargetSettings, default_currency, iso_currency, load_config
from importer.config.state_location import Location
from importer.core.accounts import AccountBook, AccountError
from importer.core.errors import ConfigError, StateError
from importer.core.models import Statement, Transaction, with_updates
from importer.dedupe.layers import MatchSettings
from importer.parsers import ParseOptions
from importer.reports.summary import RunReport
from importer.rules import RuleSet, load_rules
from importer.run.history import HeldRow, Release, UndoPlan, UndoResult, plan_undo, release_held
from importer.run.history import undo as undo_run
from importer.run.journal import Journal
from importer.run.lock import LockedError, run_lock
from importer.run.logs import close_logging, setup_logging
from importer.run.pipeline import RunSettings, in_account, prepare, read_file, statement_files
from importer.run.pipeline import run as run_pipeline
from importer.run.routine import RoutineReport, SourceRun, observed, run_sources
from importer.store.base import Store
from importer.store.copy import Migration, copy_state
from importer.store.locate import exists, open_store
from importer.targets import REGISTRY, Ability, Target, make_target

__all__ = [
    "Config",
    "LockedError",
    "Migration",
    "Parsed",
    "RoutineReport",
    "RunReport",
    "RunSettings",
    "Session",
    "migrate_state",
    "open_config",
    "open_rules",
    "open_state",
    "parse_file",
    "parse_options",
    "run_import",
    "run_routine",
    "run_settings",
    "session",
    "state_path",
    "undo",
]


def open_config(path: Path | None = None) -> Config:
    """`path`, else ./importer.yaml, else importer.yaml in the user config folder, else the defaults."""
    return load_config(path)


def open_rules(config: Config | None = None, paths: Sequence[Path] = ()) -> RuleSet:
    """The rules in `paths`, else the config's `rules:`, else ./rules or the user's; the configured
    currency is the home currency a rule's `foreign:` test compares with."""
    config = config or Config()
    chosen = list(paths) or list(config.rules) or default_rules_paths()
    return load_rules(chosen, home_currency=default_currency(config))


def state_path(config: Config | None = None, explicit: Location | None = None) -> Location:
    """`explicit`, else the config's `state:`, else $IMPORTER_STATE or the user data folder."""
    return explicit or (config.state if config is not None else None) or default_state_path()


def open_state(config: Config | None = None, path: Location | None = None, *, lock_wait: float | None = None) -> Store:
    """The state database, opened (and migrated) without the run lock: for reading it (history,
    reports), and for a watcher, which takes the lock per chunk.  Anything else that writes goes
    through `session`.  A file's import waits up to `lock_wait` seconds (else the config's) for
    its account on a PostgreSQL state."""
    wait = (config or Config()).lock_wait if lock_wait is None else lock_wait
    return open_store(state_path(config, path), wait)


def parse_options(
    config: Config | None = None,
    *,
    account: str | None = None,
    profile: str | None = None,
    date_format: str | None = None,
    currency: str | None = None,
    check_balances: bool = True,
    allow_partial: bool = False,
) -> ParseOptions:
    """What the caller says about files that may not say it themselves; the config bounds the
    statement size (its currency is the run's default, applied later: `RunSettings.default_currency`).
    A currency that is not an ISO 4217 code is a `ConfigError`."""
    try:
        iso = iso_currency(currency or None)
    except ValueError as exc:
        raise ConfigError(f"{exc}.") from None
    return ParseOptions(
        account=account,
        profile=profile,
        date_format=date_format,
        currency=iso,
        profile_dirs=user_profile_dirs(),
        check_balances=check_balances,
        allow_partial=allow_partial,
        max_bytes=(config or Config()).max_statement_bytes,
    )


def run_settings(
    config: Config,
    *,
    target: str | None = None,
    parse: ParseOptions | None = None,
    dry_run: bool = False,
    failfast: bool = False,
    match: MatchSettings | None = None,
    as_new_account: bool = False,
    preview: Callable[[list[str]], None] | None = None,
) -> RunSettings:
    """What one run is asked to do: `target` else the config's default target (with its settings),
    the config's accounts and default currency."""
    name = target or config.default_target
    return RunSettings(
        target=name,
        target_settings=config.target(name),
        parse=parse or parse_options(config),
        default_currency=default_currency(config),
        dry_run=dry_run,
        failfast=failfast,
        match=match or MatchSettings(),
        preview=preview,
        accounts=config.account_specs(),
        as_new_account=as_new_account,
    )


@dataclass(frozen=True)
class Parsed:
    """One file's transactions as `run` would store them, and what the caller should be told."""

    transactions: list[Transaction]
    warnings: list[str] = field(default_factory=list)  # a cut-off file read in part, unchecked balances
    notes: list[str] = field(default_factory=list)  # a statement with no account to name: what to pass


def parse_file(
    path: Path, config: Config | None = None, *, options: ParseOptions | None = None, rules: RuleSet | None = None
) -> Parsed:
    """Read and categorise `path`, storing nothing: each row named in the account it would land in,
    with its external id.  An unreadable file is an `InputError` naming the file and line."""
    config = config or Config()
    settings = run_settings(config, parse=options or parse_options(config))
    read = read_file(path, settings.parse_options())
    explicit = settings.parse.account if len({s.bank_account_id for s in read.statements}) == 1 else None
    book, notes = _account_book(config), []
    transactions: list[Transaction] = []
    for statement in read.statements:
        try:
            transactions += _named(statement, book, explicit, rules or RuleSet(()))
        except AccountError as exc:  # still shown, without an account (and so without an external id)
            notes.append(exc.reason)
            transactions += [
                with_updates(t, {"account": "", "external_id": None}) for t in prepare(statement, rules or RuleSet(()))
            ]
    return Parsed(transactions, read.warnings, notes)


def _named(statement: Statement, book: AccountBook, explicit: str | None, rules: RuleSet) -> list[Transaction]:
    account = book.resolve(statement, explicit, statement.profile)
    return prepare(in_account(statement, account), rules, account)


def _account_book(config: Config) -> AccountBook:
    """The accounts the state knows (read when it exists: parsing never creates one) and the config's."""
    path = state_path(config)
    if not exists(path):
        return AccountBook(specs=config.account_specs())
    with open_store(path) as state:
        return AccountBook(known=state.accounts(), specs=config.account_specs())


@dataclass(frozen=True)
class Session:
    """An open state database under the run lock (see `session`): imports, the routine, undo."""

    config: Config
    state: Store
    rules: RuleSet | None = None  # None: the config's rules, loaded by the run that needs them

    def ruleset(self) -> RuleSet:
        """The rules this session categorises with (`open_rules(config)` unless given)."""
        return self.rules if self.rules is not None else open_rules(self.config)

    def run(self, paths: Sequence[Path], settings: RunSettings | None = None, *, show: bool = False) -> RoutineReport:
        """Import `paths` (files or folders) in one run; `show` draws progress on a terminal's stderr.
        The report's one run is the import (`report.runs[0].report`), its gaps the balance breaks."""
        settings = settings or run_settings(self.config)
        with observed(self.state, settings, len(statement_files(paths)), show=show) as observer:
            report = run_pipeline(list(paths), self.ruleset(), self.state, replace(settings, observer=observer))
        return RoutineReport(runs=[SourceRun(None, report)], gaps=list(observer.gaps))

    def routine(
        self, settings: RunSettings | None = None, *, today: dt.date | None = None, show: bool = False
    ) -> RoutineReport:
        """Import every source of the config, logging to its log file, then warn about missing months."""
        if not self.config.sources:
            raise ConfigError(NO_SOURCES)
        log = setup_logging(self.config, log_anchor(self.state.path))
        base = settings or run_settings(self.config)
        try:
            log.info("run started: %d source(s)%s", len(self.config.sources), " (dry run)" if base.dry_run else "")
            report = run_sources(
                self.config, self.ruleset(), self.state, base, log, today or dt.date.today(), show=show
            )
            log.info(
                "run finished: exit %d, %d file(s), %d gap(s)", report.exit_code, len(report.files), len(report.gaps)
            )
            return report
        except Exception as exc:
            log.error("run stopped: %s", exc)
            raise
        finally:
            close_logging(log)

    def plan_undo(self, run_id: int) -> UndoPlan:
        """What `undo(run_id)` would remove, changing nothing (an unknown or undone run is an error)."""
        return plan_undo(self.state, run_id)

    def undo(self, run_id: int, *, keep_remote: bool = False) -> UndoResult:
        """Take run `run_id` back: its transactions here, and its records in the targets unless `keep_remote`."""
        return undo_run(self.state, run_id, lambda name: self._undo_target(name, run_id, keep_remote))

    def release(self, rows: Sequence[HeldRow], target: str | None = None) -> Release:
        """Send held `rows` to `target` (else the config's default) as a run of kind `release`,
        which `undo` can take back."""
        name = target or self.config.default_target
        run_id = self.state.begin_run("release")
        opened = make_target(name, self.state, run_id, self.config.target(name))
        try:
            result = release_held(self.state, rows, Journal(self.state, opened, run_id))
        finally:
            opened.close()
        self.state.finish_run(run_id, "failed" if result.errors else "ok")
        return result

    def _undo_target(self, name: str, run_id: int, keep_remote: bool) -> Target | None:
        """The target that landed records as `name`; None to leave them there (`--keep-remote`),
        which a target whose records live in the state cannot: forgetting the run removes them."""
        key, settings = configured_target(name, self.config)
        if keep_remote and not lands_in_state(name, self.config):
            return None
        return make_target(key, self.state, run_id, settings)


def configured_target(name: str, config: Config) -> tuple[str, TargetSettings | None]:
    """The configured target (key, settings) whose uploader lands records as `name`, else `name`."""
    for key, settings in config.targets.items():
        if settings.type in REGISTRY and REGISTRY[settings.type].name == name:
            return key, settings
    return name, None


def lands_in_state(name: str, config: Config) -> bool:
    """Whether the target that lands records as `name` keeps them in the state (the local ledger)."""
    key, settings = configured_target(name, config)
    kind = settings.type if settings is not None else key
    return kind in REGISTRY and Ability.IN_STATE in REGISTRY[kind].abilities


NO_SOURCES = (
    "no PATHS given, and no configuration file lists `sources:`. Name files or folders to import, "
    "or add sources to importer.yaml (`importer init` writes one)."
)


@contextmanager
def session(
    config: Config | None = None,
    state: Location | None = None,
    *,
    wait: float | None = None,
    rules: RuleSet | None = None,
    exclusive: bool = False,
) -> Iterator[Session]:
    """Hold the run lock on the state database (waiting up to `wait` seconds, else the config's
    `lock_wait`; then `LockedError`), open and migrate it, and close it and release the lock after.
    On PostgreSQL other sessions run alongside, each file locking its account, unless `exclusive`
    (undo, renaming an account: changes that are not one account's import)."""
    config = config or Config()
    path, seconds = state_path(config, state), config.lock_wait if wait is None else wait
    with run_lock(path, seconds, exclusive=exclusive), open_store(path, seconds) as opened:
        yield Session(config, opened, rules)


def run_import(
    paths: Sequence[Path],
    config: Config | None = None,
    *,
    state: Path | None = None,
    wait: float | None = None,
    settings: RunSettings | None = None,
) -> RoutineReport:
    """Import `paths` into `state` (see `session`) with the config's rules and target."""
    with session(config, state, wait=wait) as opened:
        return opened.run(paths, settings)


def run_routine(config: Config, *, state: Path | None = None, wait: float | None = None) -> RoutineReport:
    """Import every configured source (`importer run` with no paths), then check for missing months."""
    with session(config, state, wait=wait) as opened:
        return opened.routine()


def undo(
    run_id: int, config: Config | None = None, *, state: Path | None = None, wait: float = 0, keep_remote: bool = False
) -> UndoResult:
    """Take run `run_id` back (see `importer history`), here and in its targets unless `keep_remote`."""
    with session(config, state, wait=wait, exclusive=True) as opened:
        return opened.undo(run_id, keep_remote=keep_remote)


def migrate_state(
    destination: Location, config: Config | None = None, *, state: Location | None = None, wait: float | None = None
) -> Migration:
    """Copy the whole state (`state`, else the config's, else the default) into the empty
    `destination`, another engine's or the same's, verified (importer/store/copy.py).  Both run
    locks are held throughout, exclusively (waiting up to `wait` seconds, else the config's
    `lock_wait`), so no run changes either side while it is copied: a copy taken while one worker
    of many still imported would miss what it stores."""
    config = config or Config()
    source = state_path(config, state)
    if _same_place(source, destination):
        raise StateError(f"{source} is the state itself: name another file or database to copy it to.")
    if not exists(source):
        raise StateError(f"there is no state at {source} to copy; name it with --state.")
    wait = config.lock_wait if wait is None else wait
    with (
        run_lock(source, wait, exclusive=True),
        run_lock(destination, wait, exclusive=True),
        open_store(source) as origin,
    ):
        with open_store(destination) as copy:
            return copy_state(origin, copy)


def _same_place(one: Location, other: Location) -> bool:
    if isinstance(one, Path) and isinstance(other, Path):
        return one.resolve() == other.resolve()
    return one == other
