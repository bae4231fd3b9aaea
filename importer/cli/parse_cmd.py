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

from importer.core.accounts import AccountBook, AccountError
from importer.cli.options import (
    allow_partial_option,
    config_option,
    make_parse_options,
    open_rules,
    parse_options,
    resolve_state_path,
    rules_option,
)
from importer.config.settings import Config, default_currency, load_config
from importer.core.errors import InputError
from importer.core.models import Statement, Transaction, with_updates
from importer.reports.output import write_csv, write_jsonl, write_table
from importer.parsers import ParseOptions
from importer.run.pipeline import RunSettings, in_account, prepare, read_file
from importer.rules import RuleSet
from importer.store.sqlite import State


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@config_option
@parse_options
@allow_partial_option
@rules_option
@click.option(
    "--format", "output", type=click.Choice(["table", "jsonl", "csv"]), default="table", show_default=True,
    help="jsonl is a stable contract: one JSON object per transaction.",
)  # fmt: skip
def parse(
    files: tuple[Path, ...],
    config_path: Path | None,
    account: str | None,
    profile: str | None,
    date_format: str | None,
    currency: str | None,
    no_balance_check: bool,
    allow_partial: bool,
    rules_paths: tuple[Path, ...],
    output: str,
) -> None:
    """Print the transactions of each FILE, categorised and with their external ids; store nothing."""
    config = load_config(config_path)
    rules = open_rules(rules_paths, config)
    options = RunSettings(
        parse=make_parse_options(account, profile, date_format, currency, no_balance_check, allow_partial, config),
        default_currency=default_currency(config),
    ).parse_options()
    book = _account_book(config)
    txns: list[Transaction] = []
    failed = False
    for file in files:
        try:
            txns += _read(file, options, rules, book)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if txns or not failed:  # no empty table under the errors
        _write(txns, output)
    sys.exit(1 if failed else 0)


def _read(file: Path, options: ParseOptions, rules: RuleSet, book: AccountBook) -> list[Transaction]:
    """`file`'s transactions, named and categorised as `run` would store them; its warnings go to stderr."""
    read = read_file(file, options)
    for warning in read.warnings:
        click.echo(f"warning: {warning}", err=True)
    explicit = options.account if len({s.bank_account_id for s in read.statements}) == 1 else None
    return [txn for statement in read.statements for txn in _named(statement, book, explicit, rules)]


def _write(txns: list[Transaction], output: str) -> None:
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
