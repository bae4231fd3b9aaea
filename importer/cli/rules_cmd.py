"""`importer rules test|explain|lint|suggest`: look inside the rules without importing anything."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from importer.cli.options import StatementInputs, config_option, open_rules, open_state, rules_option, statement_inputs
from importer.config.settings import Config, load_config
from importer.config.state_location import Location
from importer.core.errors import ConfigError
from importer.core.models import Source, Transaction
from importer.parsers import ParseOptions, parse_file
from importer.rules.examples import check_examples
from importer.rules.explain import explain as explain_one
from importer.rules.explain import render
from importer.rules.lint import lint as lint_rules
from importer.rules.lint import warnings
from importer.rules.suggest import render_yaml
from importer.rules.suggest import suggest as suggest_rules
from importer.run.pipeline import statement_files


@click.group()
def rules() -> None:
    """Check, explain, lint and extend your categorisation rules."""


@rules.command()
@config_option
@rules_option
def test(config_path: Path | None, rules_paths: tuple[Path, ...]) -> None:
    """Check every rule's `examples:`: each must be caught by its own rule and no earlier one."""
    ruleset = open_rules(rules_paths, load_config(config_path))
    report = check_examples(ruleset)
    for failure in report.failures:
        click.echo(f"FAIL {failure}")
    if report.without_examples:
        ids = ", ".join(rule.id for rule in report.without_examples)
        click.echo(f"note: {len(report.without_examples)} rule(s) have no examples: {ids}")
    if report.unchecked:
        ids = ", ".join(rule.id for rule in report.unchecked)
        click.echo(
            f"note: {len(report.unchecked)} rule(s) test `foreign` but no home currency is configured "
            f"(`currency:` in importer.yaml), so their examples were not checked: {ids}"
        )
    passed = report.examples - len(report.failures)
    click.echo(f"{passed} of {report.examples} examples pass, over {report.rules} rules.")
    sys.exit(1 if report.failures else 0)


@rules.command()
@click.argument("text", required=False)
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Explain every transaction of this statement (repeatable).",
)
@click.option("--amount", default="-10.00", show_default=True, help="Amount of the TEXT transaction.")
@click.option("--payee", help="Payee of the TEXT transaction.")
@click.option("--memo", help="Memo of the TEXT transaction (where many banks put the merchant).")
@click.option("--date", "day", default="2026-01-15", show_default=True, help="Date of the TEXT transaction.")
@statement_inputs()
def explain(
    text: str | None,
    files: tuple[Path, ...],
    amount: str,
    payee: str | None,
    memo: str | None,
    day: str,
    inputs: StatementInputs,
) -> None:
    """Show which rule fires for TEXT (a description) or for each transaction of --file, why, and
    which rules nearly matched."""
    ruleset = inputs.rules(inputs.config())
    if text is None and not files:
        raise click.UsageError("give a description TEXT or --file STATEMENT.")
    txns = [_typed(text, amount, (payee, memo), day, inputs.account, inputs.currency)] if text is not None else []
    txns += _read(files, inputs.parse_options())
    for txn in txns:
        click.echo("\n".join(render(explain_one(ruleset, txn))))


@rules.command()
@click.option(
    "--over",
    "over",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Statements (files or folders) to report rules that never fire on (repeatable).",
)
@statement_inputs()
def lint(over: tuple[Path, ...], inputs: StatementInputs) -> None:
    """Report duplicate, conflicting and unreachable rules, and with --over, rules that never fire."""
    ruleset = inputs.rules(inputs.config())
    findings = lint_rules(ruleset, _read(over, inputs.parse_options()) if over else None)
    for finding in findings:
        click.echo(str(finding))
    for warning in warnings(ruleset):
        click.echo(warning)
    click.echo(f"{len(findings)} finding(s) over {len(ruleset)} rules.")
    sys.exit(1 if findings else 0)


@rules.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the suggestions to this new file instead of stdout.",
)
@click.option("--min-count", default=1, show_default=True, help="Only payees seen at least this often.")
@click.option("--no-history", is_flag=True, help="Do not learn from the state database's categorised history.")
@statement_inputs(state=True)
def suggest(
    paths: tuple[Path, ...], output: Path | None, min_count: int, no_history: bool, inputs: StatementInputs
) -> None:
    """Propose rules (as YAML to review) for the uncategorised transactions of PATHS, learning
    categories from what was categorised before. Nothing is changed."""
    config = inputs.config()
    ruleset = inputs.rules(config)
    txns = _read(paths, inputs.parse_options())
    history = _history(inputs.state_path, config, no_history)
    taken = {rule.id for rule in ruleset.rules}
    text = render_yaml(suggest_rules(ruleset, txns, history, min_count), taken)
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists():
        raise ConfigError("the file already exists; name a new file, suggestions never overwrite.", path=output)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {text.count('  - id: ')} suggested rule(s) to {output}", err=True)


def _history(state_path: Location | None, config: Config, skip: bool) -> list[Transaction]:
    if skip:
        return []
    with open_state(state_path, config) as state:
        return state.stored_transactions()


def _read(paths: tuple[Path, ...], options: ParseOptions) -> list[Transaction]:
    files = statement_files(list(paths))
    return [txn for path in files for statement in parse_file(path, options) for txn in statement.transactions]


def _typed(
    text: str,
    amount: str,
    payee_memo: tuple[str | None, str | None],
    day: str,
    account: str | None,
    currency: str | None,
) -> Transaction:
    try:
        value, date = Decimal(amount), dt.date.fromisoformat(day)
    except (InvalidOperation, ValueError):
        raise click.BadParameter(f"--amount {amount!r} or --date {day!r} is not a number / YYYY-MM-DD date.") from None
    return Transaction(
        date=date,
        amount=value,
        currency=(currency or "USD").upper(),
        description=text,
        account=account or "explain",
        source=Source(path="command line"),
        payee=payee_memo[0],
        memo=payee_memo[1],
    )
