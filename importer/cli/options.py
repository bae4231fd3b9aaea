"""Options shared by several commands, defined once (as sqlite-utils does)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from importer.config.settings import Config, default_currency, iso_currency
from importer.parsers import ParseOptions
from importer.config.paths import default_rules_paths, default_state_path, user_profile_dirs
from importer.rules import RuleSet, load_rules
from importer.store.sqlite import State

F = TypeVar("F", bound=Callable[..., Any])


def parse_options(func: F) -> F:
    """--account, --profile, --date-format, --currency: what the file may not say itself."""
    for option in reversed(
        [
            click.option("--account", help="Name of the account the file belongs to, when the file does not say."),
            click.option("--profile", help="Bank CSV profile to read the file with (see `importer detect`)."),
            click.option("--date-format", help="strftime format of the date column, e.g. %d/%m/%Y."),
            click.option("--currency", help="ISO 4217 code, when the file does not say."),
            click.option(
                "--no-balance-check", "no_balance_check", is_flag=True,
                help="Import even when the file's balances do not add up (normally refused).",
            ),  # fmt: skip
        ]
    ):
        func = option(func)
    return func


def allow_partial_option(func: F) -> F:
    """--allow-partial, for the commands that read statements to import or show them (run, parse, watch).

    Separate from `parse_options` because the rules commands read files only to explain them.
    """
    return click.option(
        "--allow-partial", "allow_partial", is_flag=True,
        help="Import the complete part of a cut-off file, with a warning (normally the file is refused).",
    )(func)  # fmt: skip


def rules_option(func: F) -> F:
    return click.option(
        "--rules",
        "rules_paths",
        multiple=True,
        type=click.Path(path_type=Path),
        help="Rule file or folder (repeatable). Default: ./rules, else the user config folder.",
    )(func)


def state_option(func: F) -> F:
    return click.option(
        "--state",
        "state_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="State database (SQLite). Default: $IMPORTER_STATE, else the user data folder.",
    )(func)


def make_parse_options(
    account: str | None,
    profile: str | None,
    date_format: str | None,
    currency: str | None,
    no_balance_check: bool = False,
    allow_partial: bool = False,
    config: Config | None = None,
) -> ParseOptions:
    """What the parse options say; `config` gives the statement size bound (its currency is the
    run's default, applied after the source's: see `RunSettings.default_currency`)."""
    return ParseOptions(
        account=account,
        profile=profile,
        date_format=date_format,
        currency=_currency_flag(currency),
        profile_dirs=user_profile_dirs(),
        check_balances=not no_balance_check,
        allow_partial=allow_partial,
        max_bytes=(config or Config()).max_statement_bytes,
    )


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Configuration file. Default: ./importer.yaml, else importer.yaml in the user config folder.",
    )(func)


def open_rules(rules_paths: tuple[Path, ...], config: Config | None = None) -> RuleSet:
    """The rules named, else the config's, else the default folders; the configured default
    currency is the home currency a rule's `foreign:` test compares with."""
    configured = list(config.rules) if config is not None else []
    home = default_currency(config) if config is not None else None
    return load_rules(list(rules_paths) or configured or default_rules_paths(), home_currency=home)


def resolve_state_path(state_path: Path | None, config: Config | None = None) -> Path:
    """--state, else the config file's `state:`, else the default."""
    return state_path or (config.state if config is not None else None) or default_state_path()


def open_state(state_path: Path | None, config: Config | None = None) -> State:
    return State(resolve_state_path(state_path, config))


def _currency_flag(value: str | None) -> str | None:
    """--currency upper-cased, or a usage error (exit 2) when it is not an ISO 4217 code."""
    try:
        return iso_currency(value or None)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}.", param_hint="--currency") from None
