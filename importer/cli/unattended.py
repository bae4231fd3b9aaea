"""How the routine (`importer run` with configured sources) reports: plain text off a terminal, so
it is safe under cron; the lock and the log file are the library's (importer/api.py `Session.routine`)."""

from __future__ import annotations

import json
import sys

import click

from importer.cli.console import stdout_console
from importer.reports.summary import RunReport, render_text
from importer.run.routine import RoutineReport


def render_routine(report: RoutineReport, as_json: bool) -> None:
    """The summary on stdout: JSON, or per-source tables/lines followed by the warnings."""
    if as_json:
        json.dump(report.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        for run in report.runs:
            tell_interrupted(run.report)
        return
    console = stdout_console()
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
    click.echo(
        f"run {report.run_id} is marked interrupted in `importer history`; run the same command again to finish.",
        err=True,
    )
