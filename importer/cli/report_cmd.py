"""`importer report [--month YYYY-MM] [--html FILE]`: spending per category, against earlier months.

Without --month the report is of the latest month that has data, and stderr names every month
that has data: the command never asks (it runs from cron and scripts), and a new user, whose
imports are of some earlier month, sees that month instead of an empty "last month".
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from importer.cli.options import config_option, open_state, state_option
from importer.config.settings import load_config
from importer.reports.html import spending_page
from importer.reports.spending import MonthSpending, month_spending, monthly_totals, months_with_data, shift_month

CHART_MONTHS = 6
DASH = "–"  # a change against a month without data: there is nothing to compare with


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise click.BadParameter(f"expected a month as YYYY-MM (e.g. 2026-10), found {value!r}.")
    return value


@click.command()
@click.option("--month", callback=_month, help="The month to report, YYYY-MM (default: the latest month with data).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a self-contained HTML page with a chart.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON on stdout (money as decimal strings).")
@config_option
@state_option
def report(
    month: str | None, html_path: Path | None, as_json: bool, config_path: Path | None, state_path: Path | None
) -> None:
    """Spending per category for a month, against earlier months.

    Each category's total, its change against the previous month and against the average of the
    three months before. Amounts are signed (money out is negative) and never mixed across currencies.
    """
    config = load_config(config_path)
    with open_state(state_path, config) as state:
        totals = monthly_totals(state)
    available = months_with_data(totals)
    if not available:  # a new user's first try: say what to do, and write no empty page
        click.echo("[]" if as_json else "No spending is stored yet: import a statement first (importer run FILE).")
        return
    month = month or _latest(available)
    sections = month_spending(totals, month)
    if as_json:
        click.echo(json.dumps([section.as_dict() for section in sections], indent=2))
    else:
        _print_sections(month, sections, available)
    if html_path is not None:
        html_path.write_text(
            spending_page(sections, totals, chart_months(month, available), available), encoding="utf-8"
        )
        click.echo(f"wrote {html_path}", err=True)


def _latest(available: list[str]) -> str:
    latest = available[-1]
    click.echo(
        f"Months with data: {', '.join(available)}. Showing {latest}, the latest (choose with --month).", err=True
    )
    return latest


def chart_months(month: str, available: list[str]) -> list[str]:
    """The chart's months: `month` and up to five before it, from the first month with data on."""
    months = [shift_month(month, -n) for n in reversed(range(CHART_MONTHS))]
    return [m for m in months if m >= available[0]] or [month]


def _print_sections(month: str, sections: list[MonthSpending], available: list[str]) -> None:
    if not sections:
        click.echo(f"No transactions are stored for {month}. Months with data: {', '.join(available)}.")
    console = Console()
    for section in sections:
        _print_section(section, console)


def _print_section(section: MonthSpending, console: Console) -> None:
    table = Table(title=f"{section.month} ({section.currency})", title_justify="left")
    for name in ("category", section.month, "vs previous month", "vs 3-month average"):
        table.add_column(name, justify="left" if name == "category" else "right")
    for line in (*section.lines, section.total()):
        table.add_row(
            line.category,
            str(line.total),
            _signed(line.vs_previous),
            _signed(line.vs_average),
            style="bold" if line.category == "total" else None,
        )
    console.print(table)


def _signed(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:+}"
