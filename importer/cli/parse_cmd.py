"""`importer parse FILE`: show the normalised transactions of one statement file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from importer.accounts import AccountBook, AccountError
from importer.cli.options import config_option, make_parse_options, open_rules, parse_options, resolve_state_path, rules_option
from importer.config import Config, load_config
from importer.models import Statement, Transaction, with_updates
from importer.output import write_csv, write_jsonl, write_table
from importer.parsers import parse_file
from importer.pipeline import in_account, prepare
from importer.rules import RuleSet
from importer.state import State


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@parse_options
@rules_option
@config_option
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
    config_path: Path | None,
    output: str,
) -> None:
    """Print the transactions of FILE, categorised and with their external ids; store nothing."""
    config = load_config(config_path)
    rules = open_rules(rules_paths, config)
    statements = parse_file(file, make_parse_options(account, profile, date_format, currency, no_balance_check))
    book = _account_book(config)
    explicit = account if len({s.bank_account_id for s in statements}) == 1 else None
    txns = [txn for statement in statements for txn in _named(statement, book, explicit, rules)]
    if output == "jsonl":
        write_jsonl(txns, sys.stdout)
    elif output == "csv":
        write_csv(txns, sys.stdout)
    else:
        write_table(txns, Console())


def _account_book(config: Config) -> AccountBook:
    """The accounts the state knows (read when it exists; parse never creates one) and the config's."""
    path = resolve_state_path(None, config)
    if not path.is_file():
        return AccountBook(specs=config.account_specs())
    with State(path) as state:
        return AccountBook(known=state.accounts(), specs=config.account_specs())


def _named(statement: Statement, book: AccountBook, explicit: str | None, rules: RuleSet) -> list[Transaction]:
    """The statement's rows as `run` would store them; with no account to name, rows without
    one (and so without an external id), and a note saying what to pass."""
    try:
        account = book.resolve(statement, explicit, statement.profile)
    except AccountError as exc:
        click.echo(f"note: {exc.reason}", err=True)
        return [with_updates(t, {"account": "", "external_id": None}) for t in prepare(statement, rules)]
    return prepare(in_account(statement, account), rules, account)
