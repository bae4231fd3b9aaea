"""The monthly routine: import every configured source, then say what looks missing.

`importer run --config importer.yaml` with no paths lands here (the CLI holds the run lock and
the log file around it), and `importer watch` imports its inbox through `run_groups` too, so
both go through the ordinary pipeline: one pipeline run per source, whose files share that
source's account, profile, currency and target.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from importer.config.settings import Config, SourceSettings
from importer.config.state_location import Location
from importer.core.errors import StateError
from importer.core.models import Statement
from importer.reports.gaps import BalanceBook, Gap, missing_month, previous_month
from importer.reports.progress import RunDisplay, run_display
from importer.reports.summary import FileReport, RunReport, Uploaded
from importer.rules import RuleSet
from importer.run.lock import run_lock
from importer.run.logs import LOGGER
from importer.run.pipeline import RunSettings, statement_files
from importer.run.pipeline import run as run_pipeline
from importer.store.base import Store

Group = tuple[SourceSettings | None, list[Path]]


@dataclass
class SourceRun:
    """One pipeline run: the files of one source (None: files no source claims)."""

    source: SourceSettings | None
    report: RunReport

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source.path if self.source else None, **self.report.as_dict()}


@dataclass
class RoutineReport:
    runs: list[SourceRun] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when any file or batch failed; gaps are warnings and leave it at 0."""
        return max((run.report.exit_code for run in self.runs), default=0)

    @property
    def interrupted(self) -> bool:
        """Whether a Ctrl-C stopped it (the run it stopped says where: `RunReport.interrupted`)."""
        return any(run.report.interrupted for run in self.runs)

    @property
    def files(self) -> list[FileReport]:
        return [f for run in self.runs for f in run.report.files]

    def per_target(self) -> dict[str, dict[str, Any]]:
        """Counts summed per target over every source that lands there, and the files' errors."""
        totals: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            into = totals.setdefault(run.report.target, {"files": 0, "errors": []})
            into["files"] += len(run.report.files)
            into["errors"] += [{"path": f.path, "error": f.error} for f in run.report.files if f.error]
            for name, value in run.report.totals().items():
                into[name] = into.get(name, 0) + value
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": [run.as_dict() for run in self.runs],
            "targets": self.per_target(),
            "gaps": [{"kind": g.kind, "account": g.account, "message": g.message} for g in self.gaps],
            "exit_code": self.exit_code,
        }


class RoutineObserver:
    """Records each statement's balances (collecting chain gaps), logs each file, shows progress."""

    def __init__(self, book: BalanceBook | None, log: logging.Logger, display: RunDisplay) -> None:
        self.book, self.log, self.display = book, log, display
        self.gaps: list[Gap] = []

    def stage(self, path: Path, stage: str, rows: int) -> None:
        self.display.stage(path, stage, rows)

    def uploaded(self, path: Path, progress: Uploaded) -> None:
        self.display.uploaded(path, progress)

    def statements(self, path: Path, statements: list[Statement]) -> None:
        if self.book is None:
            return
        try:
            gaps = self.book.record(path, statements)
        except (OSError, StateError) as exc:
            # The transactions are stored already; a lost balance record only weakens a warning.
            self.log.warning("%s: balances not recorded: %s", path, exc)
            return
        for gap in gaps:
            self.log.warning(gap.message)
            self.gaps.append(gap)

    def file_done(self, report: FileReport) -> None:
        for warning in report.warnings:
            self.log.warning(warning)
        if report.error:
            self.log.error("%s: %s", report.path, report.error)
        else:
            self.log.info(
                "%s: %d parsed, %d new, %d duplicate", report.path, report.parsed, report.new, report.duplicate
            )
        self.display.file_done(Path(report.path))


@contextmanager
def observed(
    state: Store, settings: RunSettings, files: int, log: logging.Logger | None = None, *, show: bool = True
) -> Iterator[RoutineObserver]:
    """An observer for a run over `files` files: balance book (unless a dry run), log, progress
    display (on a terminal only, and not when `show` is off, as with `--json`: see importer/reports/progress.py)."""
    book = None if settings.dry_run else BalanceBook(state)
    with run_display(files if show else 0) as display:
        yield RoutineObserver(book, log or logging.getLogger(LOGGER), display)


def source_settings(source: SourceSettings | None, base: RunSettings, config: Config) -> RunSettings:
    """`base` with what `source` says about its files (command-line options still win)."""
    if source is None:
        return base
    parse = replace(
        base.parse,
        account=base.parse.account or source.account,
        profile=base.parse.profile or source.profile,
        currency=base.parse.currency or source.currency,
        date_format=base.parse.date_format or source.date_format,
        allow_partial=base.parse.allow_partial or source.allow_partial,
    )
    target = source.target or base.target
    return replace(base, parse=parse, target=target, target_settings=config.target(target))


def group_by_source(files: Sequence[Path], sources: Sequence[SourceSettings]) -> list[Group]:
    """`files` grouped under the first source that claims each (None for unclaimed), in source order."""
    groups: dict[int, list[Path]] = {}
    for file in files:
        index = next((i for i, s in enumerate(sources) if s.matches(file)), len(sources))
        groups.setdefault(index, []).append(file)
    return [(sources[i] if i < len(sources) else None, groups[i]) for i in sorted(groups)]


def run_groups(
    groups: Sequence[Group],
    rules: RuleSet,
    state: Store,
    base: RunSettings,
    config: Config,
    log: logging.Logger,
    *,
    show: bool = True,
) -> RoutineReport:
    """One pipeline run per group, with balance checks, a log line per file and a progress bar."""
    report = RoutineReport()
    base = replace(base, accounts=base.accounts or config.account_specs())
    with observed(state, base, sum(len(files) for _, files in groups), log, show=show) as observer:
        for source, files in groups:
            settings = replace(source_settings(source, base, config), observer=observer)
            report.runs.append(SourceRun(source, run_pipeline(files, rules, state, settings)))
            if report.runs[-1].report.interrupted:  # a Ctrl-C stops the routine, not just this source
                break
    report.gaps.extend(observer.gaps)
    return report


def run_sources(
    config: Config,
    rules: RuleSet,
    state: Store,
    base: RunSettings,
    log: logging.Logger,
    today: dt.date,
    *,
    show: bool = True,
) -> RoutineReport:
    """Import every configured source, then warn about accounts with no statement for last month."""
    groups: list[Group] = [(source, statement_files(source.files())) for source in config.sources]
    report = run_groups(groups, rules, state, replace(base, kind="routine"), config, log, show=show)
    if not base.dry_run and not report.interrupted:
        for gap in month_gaps(groups, BalanceBook(state), previous_month(today)):
            log.warning(gap.message)
            report.gaps.append(gap)
    return report


def month_gaps(groups: Sequence[Group], book: BalanceBook, month: str) -> list[Gap]:
    """A gap for each source account with no statement or transaction in `month`."""
    gaps: list[Gap] = []
    for source, files in groups:
        if source is None:
            continue
        # The accounts its files turned out to hold; the configured one when none was read.
        accounts = book.accounts_from(files) or ({source.account} if source.account else set())
        if not accounts:
            gaps.append(missing_month(source.path, month))
        gaps.extend(missing_month(a, month) for a in sorted(accounts) if not book.covers(a, month))
    return gaps


def watch_wait(config: Config) -> float:
    """How long a watcher waits for the run lock, or an account (at least a second: another
    run's file is soon done, and a watcher that gave up would only try again)."""
    return max(config.lock_wait, 1.0)


def inbox_importer(
    config: Config, rules: RuleSet, state: Store, base: RunSettings, log: logging.Logger, state_path: Location
) -> Callable[[Sequence[Path]], list[FileReport]]:
    """What `watch` imports with: files → reports through the pipeline, under the run lock per chunk.

    The lock is taken per chunk, not for the watcher's lifetime, so a monthly cron run can still
    get in between two drops.
    """

    def import_files(files: Sequence[Path]) -> list[FileReport]:
        try:
            return _import_locked(files)
        finally:
            rules.forget()  # a watcher lives for months: keep nothing per file past its run

    def _import_locked(files: Sequence[Path]) -> list[FileReport]:
        with run_lock(state_path, wait=watch_wait(config)):
            groups = group_by_source(files, config.sources)
            routine = run_groups(groups, rules, state, replace(base, kind="watch"), config, log)
            # The WAL commits of synchronous=NORMAL survive a crash but not a power cut; the files
            # are about to leave the inbox, so make their transactions durable first.
            state.durable()
            if routine.interrupted:  # the run is marked interrupted; the watcher stops as before
                raise KeyboardInterrupt
            return routine.files

    return import_files
