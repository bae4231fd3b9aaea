"""`importer parse FILE`: show the normalised transactions of one statement file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from importer.cli.options import make_parse_options, open_rules, parse_options, rules_option
from importer.output import write_csv, write_jsonl, write_table
from importer.parsers import parse_file
from importer.pipeline import prepare


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@parse_options
@rules_option
@click.option(
    "--format", "output", type=click.Choice(["table", "jsonl", "csv"]), default="table", show_default=True,
    help="jsonl is a stable contract: one JSON object per transaction.",
)  # fmt: skip
def parse(
    file: Path,
    account: str | None,
    profile: str | None,
    date_format: str | None,
    currency: str | None,
    no_balance_check: bool,
    rules_paths: tuple[Path, ...],
    output: str,
) -> None:
    """Print the transactions of FILE, categorised and with their external ids; store nothing."""
    rules = open_rules(rules_paths)
    statements = parse_file(file, make_parse_options(account, profile, date_format, currency, no_balance_check))
    txns = [txn for statement in statements for txn in prepare(statement, rules)]
    if output == "jsonl":
        write_jsonl(txns, sys.stdout)
    elif output == "csv":
        write_csv(txns, sys.stdout)
    else:
        write_table(txns, Console())
