"""`importer run PATH...`: import statement files into a target.

With no PATH, the sources of the configuration file are imported (the monthly routine; see
`importer/run/routine.py`), under the run lock and with a log file, so it is safe from cron.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from importer import api
from importer.cli.console import stdout_console
from importer.cli.options import StatementInputs, statement_inputs
from importer.cli.unattended import render_routine, tell_interrupted
from importer.config.paths import no_rules_warning, rules_looked_in
from importer.dedupe.layers import MatchSettings
from importer.reports.summary import render_json, render_text
from importer.targets import DEFAULT_TARGET


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--target", help=f"Where to land the transactions (default: the config's default_target, else {DEFAULT_TARGET})."
)
@statement_inputs(partial=True, state=True)
@click.option("--dry-run", is_flag=True, help="Parse, categorise and compare, but store and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--failfast", is_flag=True, help="Stop at the first file that fails.")
@click.option("--force-duplicates", is_flag=True, help="Also send the rows held as probable duplicates.")
@click.option(
    "--as-new-account",
    is_flag=True,
    help="Import a file even though its rows are already stored under another account (it really is another account).",
)
@click.option(
    "--match-days",
    type=click.IntRange(0, 31),
    default=3,
    show_default=True,
    help="How many days apart two lines of one account may be and still be one transaction (or transfer).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    help="When another run holds the state database, wait up to SECONDS for it instead of exiting "
    "(default: the config's lock_wait, else 0).",
)
def run(
    paths: tuple[Path, ...],
    target: str | None,
    inputs: StatementInputs,
    dry_run: bool,
    as_json: bool,
    failfast: bool,
    force_duplicates: bool,
    as_new_account: bool,
    match_days: int,
    wait: float | None,
) -> None:
    """Parse, categorise and import statement files (or folders of them).

    Transactions the target already holds are skipped, so running twice adds nothing new.
    With no PATHS, imports the sources listed in the configuration file (cron-safe).
    """
    config = inputs.config()
    if not paths and not config.sources:
        raise click.UsageError(api.NO_SOURCES)
    rules = inputs.rules(config)
    if not len(rules):  # else everything lands uncategorised without a word (stderr: --json stays clean)
        click.echo(no_rules_warning(rules_looked_in(inputs.rules_paths, config.rules)), err=True)
    settings = api.run_settings(
        config,
        target=target,
        parse=inputs.parse_options(config),
        dry_run=dry_run,
        failfast=failfast,
        match=MatchSettings(window_days=match_days, force_duplicates=force_duplicates),
        preview=lambda requests: click.echo("\n\n".join(requests) + "\n", err=as_json),
        as_new_account=as_new_account,
    )
    # One run at a time per state database: a cron run and a watcher never import a file twice.
    with api.session(config, inputs.state_path, wait=wait, rules=rules) as session:
        if not paths:
            routine = session.routine(settings, show=not as_json)
        else:
            routine = session.run(paths, settings, show=not as_json)
    if not paths:
        render_routine(routine, as_json)
    else:
        _render(routine, as_json)
    sys.exit(routine.exit_code)


def _render(routine: api.RoutineReport, as_json: bool) -> None:
    """One run's summary on stdout, the balance warnings and an interruption on stderr."""
    for gap in routine.gaps:
        click.echo(f"warning: {gap.message}", err=True)
    report = routine.runs[0].report
    if as_json:
        render_json(report, sys.stdout)
    else:
        render_text(report, stdout_console())
    tell_interrupted(report)
