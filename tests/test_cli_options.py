"""The options shared by the commands that read statements (importer/cli/options.py `statement_inputs`).

Each command's --help is pinned as it was before the options were shared (tests/fixtures/cli-help/,
written by the commands' own stacked decorators at 7cc02d1): the same options, in the same order,
with the same texts.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.cli.options import StatementInputs, statement_inputs

HELP = Path(__file__).parent / "fixtures" / "cli-help"
COMMANDS = [
    ["run"],
    ["parse"],
    ["watch"],
    ["rules", "test"],
    ["rules", "explain"],
    ["rules", "lint"],
    ["rules", "suggest"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=["-".join(a) for a in COMMANDS])
def test_help_is_what_it_was(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert result.output == (HELP / f"{'-'.join(args)}.txt").read_text()


@click.command()
@click.option("--before")
@statement_inputs(partial=True, state=True)
@click.option("--after", type=int)
def _shown(before: str | None, inputs: StatementInputs, after: int | None) -> None:
    click.echo(repr((before, inputs, after)))


def test_the_command_gets_the_values_as_one_argument(tmp_path: Path) -> None:
    argv = ["--before", "b", "--account", "Joint", "--currency", "eur", "--rules", "a.yaml", "--rules", "b"]
    argv += ["--allow-partial", "--state", str(tmp_path / "s.sqlite"), "--after", "3", "--no-balance-check"]
    result = CliRunner().invoke(_shown, argv)
    assert result.exit_code == 0, result.output
    inputs = StatementInputs(
        config_path=None,
        account="Joint",
        profile=None,
        date_format=None,
        currency="EUR",  # checked and upper-cased by the option's callback
        no_balance_check=True,
        rules_paths=(Path("a.yaml"), Path("b")),
        allow_partial=True,
        state_path=tmp_path / "s.sqlite",
    )
    assert result.output == repr(("b", inputs, 3)) + "\n"
    assert inputs.parse_options().check_balances is False and inputs.parse_options().allow_partial is True


def test_options_not_asked_for_are_not_offered() -> None:
    @click.command()
    @statement_inputs()
    def bare(inputs: StatementInputs) -> None:
        click.echo(f"{inputs.allow_partial} {inputs.state_path}")

    assert CliRunner().invoke(bare, []).output == "False None\n"
    refused = CliRunner().invoke(bare, ["--allow-partial"])
    assert refused.exit_code == 2 and "No such option '--allow-partial'" in refused.output
