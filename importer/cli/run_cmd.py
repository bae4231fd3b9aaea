"""`importer run PATH...`: import statement files into a target."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from importer.cli.options import (
    config_option,
    make_parse_options,
    open_rules,
    open_state,
    parse_options,
    rules_option,
    state_option,
)
from importer.config import load_config
from importer.pipeline import RunSettings, run as run_pipeline
from importer.report import render_json, render_text
from importer.uploaders import DEFAULT_TARGET


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--target", help=f"Where to land the transactions (default: the config's default_target, else {DEFAULT_TARGET}).")
@config_option
@parse_options
@rules_option
@state_option
@click.option("--dry-run", is_flag=True, help="Parse, categorise and compare, but store and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--failfast", is_flag=True, help="Stop at the first file that fails.")
def run(
    paths: tuple[Path, ...],
    target: str | None,
    config_path: Path | None,
    account: str | None,
    profile: str | None,
    date_format: str | None,
    currency: str | None,
    no_balance_check: bool,
    rules_paths: tuple[Path, ...],
    state_path: Path | None,
    dry_run: bool,
    as_json: bool,
    failfast: bool,
) -> None:
    """Parse, categorise and import statement files (or folders of them).

    Transactions the target already holds are skipped, so running twice adds nothing new.
    """
    config = load_config(config_path)
    rules = open_rules(rules_paths, config)
    target_name = target or config.default_target
    settings = RunSettings(
        target=target_name,
        target_settings=config.target(target_name),
        parse=make_parse_options(account, profile, date_format, currency, no_balance_check),
        dry_run=dry_run,
        failfast=failfast,
        preview=lambda requests: click.echo("\n\n".join(requests) + "\n", err=as_json),
    )
    with open_state(state_path, config) as state:
        report = run_pipeline(list(paths), rules, state, settings)
    if as_json:
        render_json(report, sys.stdout)
    else:
        render_text(report, Console())
    sys.exit(report.exit_code)
