"""`importer history [RUN]`: the runs, with their files and batches.

Only runs that changed something are numbered and listed; dry runs and runs that found nothing new
(a cron run over files already imported) are listed, without a number, with `--all`
(importer/run/history.py says why).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from importer.cli.options import config_option, open_state, state_option
from importer.config.settings import load_config
from importer.run.history import RunSummary, run_detail, runs

# What a status means to someone reading the listing; others are shown as they are.
_STATUS = {"interrupted": "interrupted (stopped before the end)", "undoing": "undoing (run undo again)"}


@click.command()
@click.argument("run_id", metavar="[RUN]", type=int, required=False)
@config_option
@state_option
@click.option("--all", "show_all", is_flag=True, help="Also list dry runs and runs that changed nothing (unnumbered).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def history(
    run_id: int | None, config_path: Path | None, state_path: Path | None, show_all: bool, as_json: bool
) -> None:
    """List the runs (newest first): kind, status, counts of files, stored and sent transactions
    and batches; with RUN, that run's files and batches."""
    with open_state(state_path, load_config(config_path)) as state:
        detail = run_detail(state, run_id) if run_id is not None else None
        summaries = runs(state, quiet=show_all)
    if as_json:
        _dump(detail if detail is not None else [r.__dict__ for r in summaries])
    elif detail is not None:
        _echo_detail(detail)
    else:
        _echo_runs(summaries)


def _dump(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    click.echo()


def _echo_runs(summaries: list[RunSummary]) -> None:
    if not summaries:
        click.echo("No runs yet (`importer history --all` also lists dry runs and runs that changed nothing).")
        return
    click.echo("run  kind     started                    status       files  stored  sent  batches")
    for r in summaries:
        batches = ", ".join(f"{n} {status}" for status, n in sorted(r.batches.items())) or "-"
        number = "-" if r.id is None else str(r.id)
        click.echo(
            f"{number:>3}  {r.command:<7}  {r.started_at:<25}  {_STATUS.get(r.status, r.status):<11}  "
            f"{r.files:>5}  {r.stored:>6}  {r.sent:>4}  {batches}"
        )


def _echo_detail(detail: dict[str, list[dict[str, object]] | dict[str, object]]) -> None:
    run = detail["run"]
    assert isinstance(run, dict)
    status = _STATUS.get(str(run["status"]), run["status"])
    click.echo(f"run {run['id']} ({run['command']}, {status}) started {run['started_at']}")
    for f in detail["files"]:
        assert isinstance(f, dict)
        click.echo(f"  file   {f['path']} [{f['format']}]: {f['parsed']} parsed, {f['stored']} stored")
    for b in detail["batches"]:
        assert isinstance(b, dict)
        click.echo(f"  batch  {b['id']} -> {b['target']}: {b['status']}, {b['confirmed']}/{b['size']} confirmed")
