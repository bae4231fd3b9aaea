"""`importer held list|release|drop`: the rows held as probable duplicates, and the user's say.

A run holds a row that looks like a stored record of another file but whose description differs
(importer/dedupe/layers.py); the run report only counts them per file.  Here each is shown beside the
record it resembles, and released (sent now, as a run of its own, through the upload journal:
importer/run/history.py) or dropped (never imported, never held again), by number or by file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from importer import api
from importer.cli.options import config_option, state_option
from importer.core.models import Transaction
from importer.run.history import HeldRow, Release, drop_held, held_rows, in_file, select_held
from importer.store.base import Store

F = TypeVar("F", bound=Callable[..., Any])


def _selection(func: F) -> F:
    """NUMBER... or --file PATH, and where the state is: shared by release and drop."""
    func = click.option(
        "--wait", "wait_seconds", type=click.FloatRange(0), default=0, help="Wait up to SECONDS for a running import."
    )(func)
    func = state_option(config_option(func))
    func = click.option(
        "--file",
        "path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Every row held from this statement file.",
    )(func)
    return click.argument("numbers", metavar="[NUMBER]...", nargs=-1, type=int)(func)


@click.group()
def held() -> None:
    """Rows held as probable duplicates: list them, release them (send) or drop them."""


@held.command("list")
@click.option(
    "--file", "path", type=click.Path(path_type=Path, dir_okay=False), help="Only the rows held from this file."
)
@config_option
@state_option
@click.option("--dropped", is_flag=True, help="List the dropped rows instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_held(
    path: Path | None, config_path: Path | None, state_path: Path | None, dropped: bool, as_json: bool
) -> None:
    """Each held row (number, date, amount, description, source) beside the record it resembles."""
    with api.open_state(api.open_config(config_path), state_path) as state:
        rows = held_rows(state, dropped)
    rows = in_file(rows, path) if path is not None else rows
    if as_json:
        json.dump([_as_dict(row) for row in rows], sys.stdout, indent=2)
        click.echo()
    else:
        _echo_rows(rows, "dropped" if dropped else "held as probable duplicates")


@held.command()
@_selection
@click.option("--target", help="Where to send them (default: the config's default_target).")
def release(
    numbers: tuple[int, ...],
    path: Path | None,
    config_path: Path | None,
    state_path: Path | None,
    wait_seconds: float,
    target: str | None,
) -> None:
    """Send held (or dropped) rows NUMBER... (or every one held from --file) to the target now."""
    config = api.open_config(config_path)
    with api.session(config, state_path, wait=wait_seconds) as session:
        state = session.state
        rows = _chosen(state, numbers, path, dropped_too=True)
        result = session.release(rows, target) if rows else None
    if result is not None:
        _echo_release(result, len(rows))


@held.command()
@_selection
def drop(
    numbers: tuple[int, ...], path: Path | None, config_path: Path | None, state_path: Path | None, wait_seconds: float
) -> None:
    """Never import held rows NUMBER... (or every one held from --file), and never hold them again."""
    config = api.open_config(config_path)
    with api.session(config, state_path, wait=wait_seconds) as session:
        state = session.state
        rows = _chosen(state, numbers, path, dropped_too=False)
        drop_held(state, rows)
    if rows:
        click.echo(f"Dropped {len(rows)} row(s): {_numbers(rows)}; they will not be imported.")


def _chosen(state: Store, numbers: Sequence[int], path: Path | None, dropped_too: bool) -> list[HeldRow]:
    if bool(numbers) == (path is not None):
        which = "not both" if numbers else "which ones"
        raise click.UsageError(f"name the held rows by NUMBER (see `importer held list`) or by --file PATH, {which}.")
    rows = select_held(state, numbers, path, dropped_too)
    if not rows:
        click.echo(f"No rows are held from {path}.")
    return rows


def _echo_release(result: Release, chosen: int) -> None:
    click.echo(f"Run {result.run_id}: released {chosen} row(s); {result.sent} sent.")
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    if result.failed:
        sys.exit(1)


def _numbers(rows: Sequence[HeldRow]) -> str:
    return ", ".join(str(row.number) for row in rows)


def _echo_rows(rows: Sequence[HeldRow], what: str) -> None:
    if not rows:
        click.echo(f"No rows are {what}.")
        return
    click.echo(
        f"{len(rows)} row(s) {what}; `importer held release NUMBER...` sends, "
        "`importer held drop NUMBER...` never imports."
    )
    current = None
    for row in rows:
        if row.txn.source.path != current:
            current = row.txn.source.path
            click.echo(f"\n{current}")
        click.echo(f"  {row.number:>4}  {_describe(row.txn)}")
        resembles = _describe(row.match) if row.match else "a record not recorded (held by an older importer)"
        click.echo(f"  {'like':>4}  {resembles}")


def _describe(txn: Transaction) -> str:
    """Date, amount, description and source: what tells two lines apart at a glance."""
    return f"{txn.date}  {txn.amount:>10} {txn.currency}  {txn.description}  ({txn.source})"


def _as_dict(row: HeldRow) -> dict[str, Any]:
    def brief(txn: Transaction | None) -> dict[str, str] | None:
        if txn is None:
            return None
        return {
            "external_id": txn.external_id or "",
            "date": txn.date.isoformat(),
            "amount": str(txn.amount),
            "currency": txn.currency,
            "description": txn.description,
            "source": str(txn.source),
        }

    return {"number": row.number, "run_id": row.run_id, "held": brief(row.txn), "resembles": brief(row.match)}
