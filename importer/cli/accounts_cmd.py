"""`importer accounts list|rename`: the accounts the state knows, by identity and by name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from importer import api
from importer.cli.options import config_option, open_state, state_option
from importer.config.settings import Config
from importer.core.accounts import Account, display_identifier
from importer.core.errors import ConfigError


@click.group()
def accounts() -> None:
    """The accounts transactions are stored under: their identifiers and names."""


@accounts.command("list")
@config_option
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_accounts(config_path: Path | None, state_path: Path | None, as_json: bool) -> None:
    """Each account with its identifiers, currency, first and last date and transaction count."""
    config = api.open_config(config_path)
    with open_state(state_path, config) as state:
        rows = _rows(state.accounts(), state.account_activity(), config)
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        click.echo()
        return
    if not rows:
        click.echo("No accounts yet: import a statement (importer run FILE --account NAME).")
    for row in rows:
        click.echo(_line(row))


@accounts.command("rename")
@click.argument("old")
@click.argument("new")
@config_option
@state_option
def rename(old: str, new: str, config_path: Path | None, state_path: Path | None) -> None:
    """Show account OLD as NEW from now on.  Its identity and every external id stay the same,
    so nothing is imported again."""
    config = api.open_config(config_path)
    with api.session(config, state_path, exclusive=True) as session:
        state = session.state
        names = {a.name for a in state.accounts()}
        if old not in names:
            raise ConfigError(f"no account is named {old!r}. Accounts: {', '.join(sorted(names)) or 'none yet'}.")
        if new in names and new != old:
            raise ConfigError(f"an account is already named {new!r}; choose another name.")
        moved = state.rename_account(old, new)
    click.echo(f"renamed {old!r} to {new!r}: {moved} stored transactions, no external id changed.")
    for place in _config_mentions(config, old):
        click.echo(f"warning: importer.yaml still names {old!r} under {place}; rename it there too.", err=True)


def _rows(
    known: list[Account], activity: dict[str, tuple[str | None, str | None, int]], config: Config
) -> list[dict[str, object]]:
    declared = config.accounts
    rows: list[dict[str, object]] = []
    for account in known:
        first, last, count = activity.get(account.name, (None, None, 0))
        spec = declared.get(account.name)
        rows.append(
            {
                "name": account.name,
                "identifiers": [display_identifier(i) for i in account.identifiers],
                "currency": account.currency or (spec.currency if spec else None),
                "first": first,
                "last": last,
                "count": count,
                "id_recipe": account.recipe,
            }
        )
    stored = {a.name for a in known}
    undeclared: list[dict[str, object]] = [
        {
            "name": name,
            "identifiers": list(spec.identifiers),
            "currency": spec.currency,
            "first": None,
            "last": None,
            "count": 0,
            "id_recipe": None,
        }
        for name, spec in declared.items()
        if name not in stored
    ]
    return rows + undeclared


def _line(row: dict[str, object]) -> str:
    named = row["identifiers"]
    identifiers = ", ".join(named) if isinstance(named, list) and named else "no identifier (named by you)"
    span = f"{row['first']} to {row['last']}" if row["first"] else "nothing stored yet"
    currency = row["currency"] or "-"
    return f"{row['name']}\n  identifiers: {identifiers}\n  currency: {currency}; {row['count']} transactions, {span}"


def _config_mentions(config: Config, name: str) -> list[str]:
    places = ["accounts:"] if name in config.accounts else []
    places += [f"sources[{i}].account" for i, s in enumerate(config.sources) if s.account == name]
    places += [f"targets.{t}.accounts" for t, settings in config.targets.items() if name in settings.accounts]
    return places
