"""`importer run PATH...`: import statement files into a target.

With no PATH, the sources of the configuration file are imported (the monthly routine; see
`importer/run/routine.py`), under the run lock and with a log file, so it is safe from cron.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console

from importer.cli.options import (
    allow_partial_option,
    config_option,
    make_parse_options,
    open_rules,
    open_state,
    parse_options,
    resolve_state_path,
    rules_option,
    state_option,
)
from importer.cli.unattended import render_routine, run_configured, tell_interrupted
from importer.config.settings import default_currency, load_config
from importer.run.lock import run_lock
from importer.config.paths import no_rules_warning, rules_looked_in
from importer.dedupe.layers import MatchSettings
from importer.run.pipeline import RunSettings, run as run_pipeline, statement_files
from importer.reports.summary import render_json, render_text
from importer.run.routine import observed
from importer.targets import DEFAULT_TARGET


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--target", help=f"Where to land the transactions (default: the config's default_target, else {DEFAULT_TARGET}).")
@config_option
@parse_options
@allow_partial_option
@rules_option
@state_option
@click.option("--dry-run", is_flag=True, help="Parse, categorise and compare, but store and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--failfast", is_flag=True, help="Stop at the first file that fails.")
@click.option("--force-duplicates", is_flag=True, help="Also send the rows held as probable duplicates.")
@click.option(
    "--as-new-account", is_flag=True,
    help="Import a file even though its rows are already stored under another account (it really is another account).",
)  # fmt: skip
@click.option(
    "--match-days", type=click.IntRange(0, 31), default=3, show_default=True,
    help="How many days apart two lines of one account may be and still be one transaction (or transfer).",
)  # fmt: skip
@click.option(
    "--wait", type=click.FloatRange(min=0),
    help="When another run holds the state database, wait up to SECONDS for it instead of exiting "
    "(default: the config's lock_wait, else 0).",
)  # fmt: skip
def run(
    paths: tuple[Path, ...],
    target: str | None,
    config_path: Path | None,
    account: str | None,
    profile: str | None,
    date_format: str | None,
    currency: str | None,
    no_balance_check: bool,
    allow_partial: bool,
    rules_paths: tuple[Path, ...],
    state_path: Path | None,
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
    config = load_config(config_path)
    rules = open_rules(rules_paths, config)
    if not len(rules):  # else everything lands uncategorised without a word (stderr: --json stays clean)
        click.echo(no_rules_warning(rules_looked_in(rules_paths, config.rules)), err=True)
    target_name = target or config.default_target
    settings = RunSettings(
        target=target_name,
        target_settings=config.target(target_name),
        parse=make_parse_options(account, profile, date_format, currency, no_balance_check, allow_partial, config),
        default_currency=default_currency(config),
        dry_run=dry_run,
        failfast=failfast,
        match=MatchSettings(window_days=match_days, force_duplicates=force_duplicates),
        preview=lambda requests: click.echo("\n\n".join(requests) + "\n", err=as_json),
        accounts=config.account_specs(),
        as_new_account=as_new_account,
    )
    if not paths:
        routine = run_configured(config, rules, settings, resolve_state_path(state_path, config), wait, show=not as_json)
        render_routine(routine, as_json)
        sys.exit(routine.exit_code)
    # One run at a time per state database: a cron run and a watcher never import a file twice.
    state_file = resolve_state_path(state_path, config)
    wait_seconds = wait if wait is not None else config.lock_wait
    with run_lock(state_file, wait_seconds), open_state(state_path, config) as state:
        with observed(state, settings, len(statement_files(paths)), show=not as_json) as observer:
            report = run_pipeline(list(paths), rules, state, replace(settings, observer=observer))
    for gap in observer.gaps:
        click.echo(f"warning: {gap.message}", err=True)
    if as_json:
        render_json(report, sys.stdout)
    else:
        render_text(report, Console())
    tell_interrupted(report)
    sys.exit(report.exit_code)

