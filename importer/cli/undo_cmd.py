"""`importer undo RUN`: take back what a run added, here and in the target.

It deletes records, remotely too, so it says what it will delete and asks first on a terminal;
off a terminal (cron, scripts) it refuses unless `--yes` says the caller means it.  `--dry-run`
only says what it would delete.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from importer import api
from importer.cli.options import config_option, state_option
from importer.config.settings import Config
from importer.core.models import Transaction
from importer.run.history import UndoPlan

NOT_A_TERMINAL = (
    "undo deletes records and this is not a terminal to ask on; "
    "pass --yes to undo run {run} (or --dry-run to see what it would delete)."
)


@click.command()
@click.argument("run_id", metavar="RUN", type=int)
@config_option
@state_option
@click.option("--keep-remote", is_flag=True, help="Forget the run here but leave its records in remote targets.")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, here and in each target, and delete nothing.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation (needed off a terminal).")
@click.option(
    "--wait", "wait_seconds", type=click.FloatRange(0), default=0, help="Wait up to SECONDS for a running import."
)
def undo(
    run_id: int,
    config_path: Path | None,
    state_path: Path | None,
    keep_remote: bool,
    dry_run: bool,
    assume_yes: bool,
    wait_seconds: float,
) -> None:
    """Remove what run RUN added (see `importer history`): its transactions, the records it landed
    (deleted remotely where the service allows), and its files, which can then be imported again."""
    config = api.open_config(config_path)
    with api.session(config, state_path, wait=wait_seconds, exclusive=True) as session:
        plan = session.plan_undo(run_id)  # first: a run that is not there, or undone, is said so
        if not (dry_run or assume_yes or is_interactive()):
            raise click.UsageError(NOT_A_TERMINAL.format(run=run_id))
        if dry_run or not assume_yes:
            _echo_plan(plan, keep_remote, config)
        if dry_run:
            click.echo("Nothing was deleted (--dry-run).")
            return
        if not assume_yes and not click.confirm(f"Undo run {run_id}?", default=False):
            click.echo("Nothing was undone.")
            sys.exit(1)
        result = session.undo(run_id, keep_remote=keep_remote)
    removed = (
        ", ".join(f"{n} from {target}" for target, n in sorted(result.removed.items()) if n)
        or "nothing from any target"
    )
    click.echo(f"Undid run {run_id}: forgot {result.transactions} transaction(s); removed {removed}.")
    for target, n in sorted(result.kept_remote.items()):
        click.echo(f"Left {n} record(s) in {target} (--keep-remote).")


def is_interactive() -> bool:
    """Whether someone is there to answer (tests replace this to play one)."""
    return sys.stdin.isatty()


def _echo_plan(plan: UndoPlan, keep_remote: bool, config: Config) -> None:
    run = plan.run
    click.echo(f"Run {run.id} ({run.command}, {run.status}, started {run.started_at}): undo would")
    click.echo(f"  forget {plan.transactions} transaction(s) it stored" + _colon(plan.first, plan.transactions))
    _echo_first(plan.first)
    for target, (count, first) in sorted(plan.landed.items()):
        here = api.lands_in_state(target, config)
        where = "the local ledger" if here else target
        kept = keep_remote and not here
        click.echo(f"  {'leave' if kept else 'delete'} {count} record(s) in {where}" + _colon(first, count))
        _echo_first(first)
    if plan.held_again:
        click.echo(f"  hold again the {plan.held_again} row(s) it released (`importer held list`)")


def _colon(first: list[Transaction], count: int) -> str:
    return "" if not first else (":" if len(first) == count else f", the first {len(first)}:")


def _echo_first(first: list[Transaction]) -> None:
    for t in first:
        click.echo(f"      {t.date}  {t.amount:>10} {t.currency}  {t.description}")
