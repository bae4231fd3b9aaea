"""`importer report`: category totals against earlier months, as text and as a checked HTML page."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.core.models import Source, Transaction
from importer.reports.html import nice_ticks, palette
from importer.reports.spending import UNCATEGORISED, month_spending, monthly_totals, shift_month
from importer.store.sqlite import State

# Purchases per month: (day, category, amount); Food:Coffee is absent in July and September.
SPENT: dict[str, list[tuple[int, str | None, str]]] = {
    "2026-07": [(3, "Food:Groceries", "-80.10"), (9, "Housing:Rent", "-1200.00"), (20, "Income:Salary", "3000.00")],
    "2026-08": [
        (2, "Food:Groceries", "-95.35"),
        (5, "Food:Coffee", "-4.50"),
        (9, "Housing:Rent", "-1200.00"),
        (11, None, "-19.99"),
    ],
    "2026-09": [(4, "Food:Groceries", "-60.00"), (9, "Housing:Rent", "-1200.00"), (15, "Food:Groceries", "12.00")],
    "2026-10": [
        (1, "Food:Groceries", "-101.01"),
        (6, "Food:Coffee", "-3.75"),
        (6, "Food:Coffee", "-3.75"),
        (9, "Housing:Rent", "-1250.00"),
        (20, "Income:Salary", "3100.00"),
        (22, None, "-7.00"),
    ],
}


def transactions() -> list[Transaction]:
    txns = []
    for month, lines in SPENT.items():
        for n, (day, category, amount) in enumerate(lines):
            txns.append(
                Transaction(
                    date=dt.date.fromisoformat(f"{month}-{day:02d}"),
                    amount=Decimal(amount),
                    currency="USD",
                    description=f"line {n}",
                    account="Checking",
                    source=Source(path="made-up.csv", line=n + 2),
                    category=category,
                    external_id=f"v1:{month}-{n}",
                )
            )
    return txns


def expected(month: str) -> dict[str, Decimal]:
    """The test's own sums: category -> signed total in `month`."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for txn in transactions():
        if txn.date.strftime("%Y-%m") == month:
            sums[txn.category or UNCATEGORISED] += txn.amount
    return sums


@pytest.fixture
def stored(state_path: Path) -> Path:
    with State(state_path) as state:
        state.store_transactions(transactions(), state.begin_run("test"), None)
    return state_path


def test_month_totals_compare_with_the_previous_month_and_the_three_month_average(stored: Path) -> None:
    with State(stored) as state:
        [section] = month_spending(monthly_totals(state), "2026-10")
    before = [expected(shift_month("2026-10", -n)) for n in (1, 2, 3)]
    for line in section.lines:
        history = [sums.get(line.category, Decimal(0)) for sums in before]
        average = (sum(history, Decimal(0)) / 3).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        assert (line.total, line.previous, line.average) == (
            expected("2026-10").get(line.category, Decimal(0)),
            history[0],
            average,
        )
        assert line.vs_previous == line.total - history[0] and line.vs_average == line.total - average
    assert {line.category for line in section.lines} == {cat for m in SPENT for sums in [expected(m)] for cat in sums}


class PageReader(HTMLParser):
    """Collects the table cells (data-value) per category and the chart bars (data-amount)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, dict[str, Decimal]] = defaultdict(dict)
        self.bars: dict[tuple[str, str], Decimal] = {}
        self.tags: set[str] = set()
        self.links: list[str] = []
        self._row = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags.add(tag)
        self.links.extend(found[name] for name in ("src", "href") if name in found)
        if tag == "tr" and "data-category" in found:
            self._row = found["data-category"]
        elif tag == "td" and "data-value" in found:
            self.cells[self._row][found["data-name"]] = Decimal(found["data-value"])
        elif tag == "rect" and "data-amount" in found:
            self.bars[(found["data-category"], found["data-month"])] = Decimal(found["data-amount"])


def test_html_page_holds_the_numbers_and_a_chart_by_category_and_month(
    runner: CliRunner, stored: Path, tmp_path: Path
) -> None:
    page = tmp_path / "spending.html"
    result = runner.invoke(main, ["report", "--month", "2026-10", "--html", str(page), "--state", str(stored)])
    assert result.exit_code == 0, result.output
    reader = PageReader()
    reader.feed(page.read_text(encoding="utf-8"))
    october, september = expected("2026-10"), expected("2026-09")
    for category, total in october.items():
        assert reader.cells[category]["total"] == total
        assert reader.cells[category]["vs-previous"] == total - september.get(category, Decimal(0))
    assert reader.cells["total"]["total"] == sum(october.values())
    spent = {(cat, month): -net for month in SPENT for cat, net in expected(month).items() if net < 0}
    assert reader.bars == spent
    assert "svg" in reader.tags and "script" not in reader.tags and reader.links == []


def test_text_report_off_a_terminal(runner: CliRunner, stored: Path) -> None:
    result = runner.invoke(main, ["report", "--month", "2026-10", "--state", str(stored)])
    assert result.exit_code == 0 and "\x1b[" not in result.output
    coffee = next(line for line in result.output.splitlines() if "Food:Coffee" in line)
    assert [cell.strip() for cell in coffee.strip("│ ").split("│")] == ["Food:Coffee", "-7.50", "-7.50", "-6.00"]


def test_json_report_keeps_money_exact(runner: CliRunner, stored: Path) -> None:
    result = runner.invoke(main, ["report", "--month", "2026-10", "--json", "--state", str(stored)])
    [section] = json.loads(result.stdout)
    october = expected("2026-10")
    assert section["month"] == "2026-10" and section["currency"] == "USD"
    assert {line["category"]: Decimal(line["total"]) for line in section["categories"]} == {
        **{cat: october.get(cat, Decimal(0)) for cat in {c for m in SPENT for c in expected(m)}},
        "total": sum(october.values()),
    }


def test_a_month_without_transactions_says_so(runner: CliRunner, stored: Path) -> None:
    result = runner.invoke(main, ["report", "--month", "2025-01", "--state", str(stored)])
    assert result.exit_code == 0
    assert (
        result.output
        == "No transactions are stored for 2025-01. Months with data: 2026-07, 2026-08, 2026-09, 2026-10.\n"
    )


def test_a_malformed_month_is_refused(runner: CliRunner, stored: Path) -> None:
    result = runner.invoke(main, ["report", "--month", "10/2026", "--state", str(stored)])
    assert result.exit_code == 2
    assert "Invalid value for '--month': expected a month as YYYY-MM (e.g. 2026-10), found '10/2026'." in result.output


def test_money_moved_between_own_accounts_is_not_spending(state_path: Path) -> None:
    # Checking pays the card and moves money to savings; the card receives the payment; one
    # purchase is held back as a probable duplicate.  Only the groceries are spending.
    lines = [
        ("Food:Groceries", "-42.10", None),
        ("Transfer:Credit card", "-500.00", "Credit card"),
        ("Transfer:Credit card payment", "500.00", None),
        ("Transfer:Savings", "-200.00", "Savings"),
        ("Food:Groceries", "-42.10", None),
    ]
    txns = [
        Transaction(
            date=dt.date(2026, 10, 3),
            amount=Decimal(amount),
            currency="USD",
            description=f"line {n}",
            account="Checking",
            source=Source(path="made-up.csv", line=n + 2),
            category=category,
            transfer_to=to,
            external_id=f"v1:moved-{n}",
        )
        for n, (category, amount, to) in enumerate(lines)
    ]
    with State(state_path) as state:
        state.store_transactions(txns, state.begin_run("test"), None)
        state.set_status(["v1:moved-4"], "review")
        assert monthly_totals(state) == {("USD", "2026-10", "Food:Groceries"): Decimal("-42.10")}


def test_the_first_month_has_no_change_to_show(runner: CliRunner, stored: Path) -> None:
    # July is the first month with data: nothing to compare with, so no "+100%" and no 0.
    result = runner.invoke(main, ["report", "--month", "2026-07", "--json", "--state", str(stored)])
    [section] = json.loads(result.stdout)
    assert {
        (line["previous"], line["vs_previous"], line["average"], line["vs_average"]) for line in section["categories"]
    } == {(None, None, None, None)}
    text = runner.invoke(main, ["report", "--month", "2026-07", "--state", str(stored)]).output
    rent = next(line for line in text.splitlines() if "Housing:Rent" in line)
    assert [cell.strip() for cell in rent.strip("│ ").split("│")] == ["Housing:Rent", "-1200.00", "–", "–"]


def test_the_average_is_over_the_earlier_months_that_have_data(runner: CliRunner, stored: Path) -> None:
    # August has one earlier month (July): its average is July's, not July's divided by three.
    result = runner.invoke(main, ["report", "--month", "2026-08", "--json", "--state", str(stored)])
    [section] = json.loads(result.stdout)
    groceries = next(line for line in section["categories"] if line["category"] == "Food:Groceries")
    assert (groceries["previous"], groceries["average"], groceries["vs_average"]) == ("-80.10", "-80.10", "-15.25")


def test_without_a_month_the_latest_with_data_is_shown_and_the_months_are_named(
    runner: CliRunner, stored: Path
) -> None:
    result = runner.invoke(main, ["report", "--json", "--state", str(stored)])
    assert result.exit_code == 0
    assert [section["month"] for section in json.loads(result.stdout)] == ["2026-10"]
    assert (
        result.stderr
        == "Months with data: 2026-07, 2026-08, 2026-09, 2026-10. Showing 2026-10, the latest (choose with --month).\n"
    )


def test_an_empty_state_says_what_to_do(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    page = tmp_path / "spending.html"
    result = runner.invoke(main, ["report", "--html", str(page), "--state", str(state_path)])
    assert result.exit_code == 0 and not page.exists()
    assert result.output == "No spending is stored yet: import a statement first (importer run FILE).\n"


@pytest.mark.parametrize("count", [1, 2, 5, 10, 11, 12, 25, 60])
def test_a_palette_has_a_colour_for_each_category(count: int) -> None:
    colours = palette(count)
    assert len(set(colours)) == count and colours == palette(count)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour) for colour in colours)


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        ("0", ["0"]),
        ("7", ["0", "2", "4", "6", "8"]),
        ("99.50", ["0", "20", "40", "60", "80", "100"]),
        ("1234.56", ["0", "250", "500", "750", "1000", "1250"]),
        ("3887.45", ["0", "1000", "2000", "3000", "4000"]),
    ],
)
def test_y_axis_ticks_are_round_and_reach_the_tallest_bar(peak: str, ticks: list[str]) -> None:
    assert nice_ticks(Decimal(peak)) == [Decimal(tick) for tick in ticks]
