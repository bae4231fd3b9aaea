"""Options shared by several commands, defined once (as sqlite-utils does).

The commands that read statements (`run`, `parse`, `watch`, `rules explain|lint|suggest`) take
the same block of options: --config, what a file may not say itself, --rules, and for some
--allow-partial and --state.  `statement_inputs` adds the block and hands the command its values
as one `StatementInputs`, so the block, its parameters and the calls that use them are written
once.  tests/test_cli_options.py pins each command's --help.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import click

from importer import api
from importer.config.settings import Config, iso_currency
from importer.config.state_location import Location, parse_location
from importer.core.errors import StateError
from importer.parsers import ParseOptions
from importer.rules import RuleSet
from importer.store.base import Store

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def parse_options(func: F) -> F:
    """--account, --profile, --date-format, --currency: what the file may not say itself."""
    for option in reversed(
        [
            click.option("--account", help="Name of the account the file belongs to, when the file does not say."),
            click.option("--profile", help="Bank CSV profile to read the file with (see `importer detect`)."),
            click.option("--date-format", help="strftime format of the date column, e.g. %d/%m/%Y."),
            click.option("--currency", callback=_currency_flag, help="ISO 4217 code, when the file does not say."),
            click.option(
                "--no-balance-check",
                "no_balance_check",
                is_flag=True,
                help="Import even when the file's balances do not add up (normally refused).",
            ),
        ]
    ):
        func = option(func)
    return func


def allow_partial_option(func: F) -> F:
    """--allow-partial, for the commands that read statements to import or show them (run, parse, watch).

    Separate from `parse_options` because the rules commands read files only to explain them.
    """
    return click.option(
        "--allow-partial",
        "allow_partial",
        is_flag=True,
        help="Import the complete part of a cut-off file, with a warning (normally the file is refused).",
    )(func)


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
        callback=_state_location,
        help="State database: an SQLite file, or a postgresql:// URL. Default: $IMPORTER_STATE, else the user data folder.",
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
    """What the parse options say (see `importer.api.parse_options`)."""
    return api.parse_options(
        config,
        account=account,
        profile=profile,
        date_format=date_format,
        currency=currency,
        check_balances=not no_balance_check,
        allow_partial=allow_partial,
    )


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Configuration file. Default: ./importer.yaml, else importer.yaml in the user config folder.",
    )(func)


def open_rules(rules_paths: tuple[Path, ...], config: Config | None = None) -> RuleSet:
    """--rules, else the config's, else the default folders (see `importer.api.open_rules`)."""
    return api.open_rules(config, rules_paths)


def _state_location(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Location | None:
    """--state read as a location before it is a Path (which would fold a URL's `//`)."""
    try:
        location = None if value is None else parse_location(value)
    except StateError as exc:
        raise click.BadParameter(str(exc)) from None
    if isinstance(location, Path) and location.is_dir():  # as click.Path(dir_okay=False) refused it
        raise click.BadParameter(f"{value} is a folder; the state is a file in it, e.g. {location / 'state.sqlite'}.")
    return location


def resolve_state_path(state_path: Location | None, config: Config | None = None) -> Location:
    """--state, else the config file's `state:`, else the default."""
    return api.state_path(config, state_path)


def open_state(state_path: Location | None, config: Config | None = None) -> Store:
    """The state database for reading, without the run lock (history, reports)."""
    return api.open_state(config, state_path)


def _currency_flag(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--currency upper-cased, or a usage error (exit 2) when it is not an ISO 4217 code."""
    try:
        return iso_currency(value or None)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}.", param_hint="--currency") from None


@dataclass(frozen=True)
class StatementInputs:
    """The values of the options `statement_inputs` adds (their defaults: the option not offered)."""

    config_path: Path | None
    account: str | None
    profile: str | None
    date_format: str | None
    currency: str | None
    no_balance_check: bool
    rules_paths: tuple[Path, ...]
    allow_partial: bool = False
    state_path: Location | None = None

    def config(self) -> Config:
        """--config, else ./importer.yaml, else the user's (see `importer.api.open_config`)."""
        return api.open_config(self.config_path)

    def parse_options(self, config: Config | None = None) -> ParseOptions:
        """What the options say about the files, bounded by `config` (the defaults without one)."""
        values = (self.account, self.profile, self.date_format, self.currency, self.no_balance_check)
        return make_parse_options(*values, self.allow_partial, config)

    def rules(self, config: Config) -> RuleSet:
        """--rules, else the config's, else the default folders."""
        return open_rules(self.rules_paths, config)


_INPUT_NAMES = tuple(f.name for f in fields(StatementInputs))


def statement_inputs(*, partial: bool = False, state: bool = False) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """--config, the parse options, --allow-partial (with `partial`), --rules and --state (with
    `state`), in that order, passed to the command as its `inputs` argument."""
    chosen = [config_option, parse_options, *([allow_partial_option] if partial else []), rules_option]
    chosen += [state_option] if state else []

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(command)
        def with_inputs(**values: Any) -> R:
            inputs = StatementInputs(**{name: values.pop(name) for name in _INPUT_NAMES if name in values})
            return command(inputs=inputs, **values)

        for option in reversed(chosen):  # bottom-up, as stacked decorators apply
            with_inputs = option(with_inputs)
        return with_inputs

    return decorate
