"""What `run` (with configured sources) and `watch` share: the run lock, the log file, the summary.

Both must be safe under cron and systemd: no prompts, plain text off a terminal, the lock
against a second run on the same state database (exit 3), and a rotating log file.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from rich.console import Console

from importer.config.settings import Config
from importer.run.lock import run_lock
from importer.run.logs import close_logging, setup_logging
from importer.run.pipeline import RunSettings
from importer.reports.summary import RunReport, render_text
from importer.run.routine import RoutineReport, run_sources
from importer.rules import RuleSet
from importer.store.sqlite import State


def run_configured(
    config: Config, rules: RuleSet, base: RunSettings, state_path: Path, wait: float | None, *, show: bool = True
) -> RoutineReport:
    """Import the configured sources under the run lock, logging to the log file (progress on a
    terminal unless `show` is off)."""
    if not config.sources:
        raise click.UsageError("no PATHS given, and no configuration file lists `sources:`. Name files or folders "
                               "to import, or add sources to importer.yaml (`importer init` writes one).")  # fmt: skip
    log = setup_logging(config, state_path)
    try:
        with run_lock(state_path, config.lock_wait if wait is None else wait):
            log.info("run started: %d source(s)%s", len(config.sources), " (dry run)" if base.dry_run else "")
            with State(state_path) as state:
                report = run_sources(config, rules, state, base, log, dt.date.today(), show=show)
            log.info("run finished: exit %d, %d file(s), %d gap(s)", report.exit_code, len(report.files), len(report.gaps))
        return report
    except Exception as exc:
        log.error("run stopped: %s", exc)
        raise
    finally:
        close_logging(log)


def render_routine(report: RoutineReport, as_json: bool) -> None:
    """The summary on stdout: JSON, or per-source tables/lines followed by the warnings."""
    if as_json:
        json.dump(report.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        for run in report.runs:
            tell_interrupted(run.report)
        return
    console = Console()
    for run in report.runs:
        console.print(f"source: {run.source.path if run.source else '(inbox)'}", highlight=False, markup=False)
        render_text(run.report, console)
    for gap in report.gaps:
        console.print(f"warning: {gap.message}", highlight=False, markup=False, soft_wrap=True)
    for run in report.runs:
        tell_interrupted(run.report)


def tell_interrupted(report: RunReport) -> None:
    """What an interrupted run did and left, on stderr (nothing when it ran to the end)."""
    if report.interrupted is None:
        return
    for line in report.interrupted.lines():
        click.echo(line, err=True)
    click.echo(f"run {report.run_id} is marked interrupted in `importer history`; "
               "run the same command again to finish.", err=True)  # fmt: skip
