"""`importer history [RUN]`: the runs, with their files and batches."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from importer.cli.options import config_option, open_state, state_option
from importer.config import load_config
from importer.history import RunSummary, run_detail, runs


@click.command()
@click.argument("run_id", metavar="[RUN]", type=int, required=False)
@config_option
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def history(run_id: int | None, config_path: Path | None, state_path: Path | None, as_json: bool) -> None:
    """List the runs (newest first) with counts of files, stored and sent transactions and batches;
    with RUN, that run's files and batches."""
    with open_state(state_path, load_config(config_path)) as state:
        data = run_detail(state, run_id) if run_id is not None else [r.__dict__ for r in runs(state)]
        if as_json:
            json.dump(data, sys.stdout, indent=2)
            click.echo()
        elif run_id is not None:
            _echo_detail(data)  # type: ignore[arg-type]
        else:
            _echo_runs(runs(state))


def _echo_runs(summaries: list[RunSummary]) -> None:
    click.echo("run  started                    status       files  stored  sent  batches")
    for r in summaries:
        batches = ", ".join(f"{n} {status}" for status, n in sorted(r.batches.items())) or "-"
        click.echo(f"{r.id:>3}  {r.started_at:<25}  {r.status:<11}  {r.files:>5}  {r.stored:>6}  {r.sent:>4}  {batches}")


def _echo_detail(detail: dict[str, list[dict[str, object]] | dict[str, object]]) -> None:
    run = detail["run"]
    assert isinstance(run, dict)
    click.echo(f"run {run['id']} ({run['command']}, {run['status']}) started {run['started_at']}")
    for f in detail["files"]:
        assert isinstance(f, dict)
        click.echo(f"  file   {f['path']} [{f['format']}]: {f['parsed']} parsed, {f['stored']} stored")
    for b in detail["batches"]:
        assert isinstance(b, dict)
        click.echo(f"  batch  {b['id']} -> {b['target']}: {b['status']}, {b['confirmed']}/{b['size']} confirmed")
