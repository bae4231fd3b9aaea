"""`importer parse FILE...`: show the normalised transactions of statement files.

A file that cannot be read is reported on stderr and the others are still shown (exit 1 at the
end), as in `importer run`; warnings (a cut-off file read with --allow-partial) go to stderr too,
so stdout holds only the rows.  Rows are named as `run` would store them: in the account their
identifier or the user names (importer/core/accounts.py), with the external id that follows from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from importer import api
from importer.cli.options import StatementInputs, statement_inputs
from importer.config.settings import Config
from importer.core.errors import InputError
from importer.core.models import Transaction
from importer.parsers import ParseOptions
from importer.reports.output import write_csv, write_jsonl, write_table
from importer.rules import RuleSet


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@statement_inputs(partial=True)
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "jsonl", "csv"]),
    default="table",
    show_default=True,
    help="jsonl is a stable contract: one JSON object per transaction.",
)
def parse(
    files: tuple[Path, ...],
    inputs: StatementInputs,
    output: str,
) -> None:
    """Print the transactions of each FILE, categorised and with their external ids; store nothing."""
    config = inputs.config()
    rules, options = inputs.rules(config), inputs.parse_options(config)
    txns: list[Transaction] = []
    failed = False
    for file in files:
        try:
            txns += _read(file, config, options, rules)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if txns or not failed:  # no empty table under the errors
        _write(txns, output)
    sys.exit(1 if failed else 0)


def _read(file: Path, config: Config, options: ParseOptions, rules: RuleSet) -> list[Transaction]:
    """`file`'s transactions as `run` would store them; its warnings and notes go to stderr."""
    parsed = api.parse_file(file, config, options=options, rules=rules)
    for warning in parsed.warnings:
        click.echo(f"warning: {warning}", err=True)
    for note in parsed.notes:
        click.echo(f"note: {note}", err=True)
    return parsed.transactions


def _write(txns: list[Transaction], output: str) -> None:
    if output == "jsonl":
        write_jsonl(txns, sys.stdout)
    elif output == "csv":
        write_csv(txns, sys.stdout)
    else:
        write_table(txns, Console())
