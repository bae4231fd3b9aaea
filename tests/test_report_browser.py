"""The HTML spending report as a person sees it: rendered by headless Chromium, inspected in the DOM.

The state holds real sample imports over three months (the Chase checking export, moved to
August and September, and for October the Chase checking and credit-card exports and the OFX
checking statement), more categories than the old ten-colour palette had, an own-account
transfer whose two legs are both stored (checking → savings) and a card payment (checking →
the credit card, paired with the card's "Payment Thank You").

Needs Debian's `chromium` at /usr/bin/chromium and the `playwright` package (the test extra);
.ci/run installs both.  Set IMPORTER_REPORT_SCREENSHOT=FILE.png to keep a screenshot of the page.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.store.sqlite import State
from tests.statements import Line, day, ofx

CHROMIUM = Path("/usr/bin/chromium")
MISSING = "" if CHROMIUM.exists() else "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
if not MISSING and importlib.util.find_spec("playwright") is None:
    MISSING = "needs the playwright package (pip install -e '.[test]')"
if MISSING and os.environ.get("CI") == "true":  # .ci/run installs both: a skip there would hide a broken page
    pytest.fail(f"CI: {MISSING}", pytrace=False)
if MISSING:
    pytest.skip(MISSING, allow_module_level=True)
from playwright import sync_api  # noqa: E402  (only once it is known to be there)

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHASE = Path("samples/csv/chase")
CARD_PAYMENT = "CHASE CREDIT CRD AUTOPAY PPD ID 4760039224"
# What moves money between the user's accounts in October (description → amount): not spending.
MOVED = {
    CARD_PAYMENT: Decimal("-500.00"),
    "TRANSFER TO SAVINGS 9876": Decimal("-500.00"),
    "ATM WITHDRAWAL": Decimal("-60.00"),
}


def chase_export(month: str, extra: list[list[str]], into: Path) -> Path:
    """The real Chase checking sample with its dates moved to `month` (MM), plus `extra` rows."""
    rows = list(csv.reader(io.StringIO((CHASE / "chase-checking-2026-10.csv").read_text(encoding="utf-8"))))
    for row in rows[1:]:
        row[1] = f"{month}/{row[1][3:]}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([*rows, *extra])
    into.write_text(out.getvalue(), encoding="utf-8")
    return into


def run_import(runner: CliRunner, state: Path, path: Path, account: str | None) -> None:
    args = ["run", str(path), "--state", str(state), "--no-balance-check", *(["--account", account] if account else [])]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output


@pytest.fixture
def imported(runner: CliRunner, state_path: Path, tmp_path: Path) -> Path:
    payment = ["DEBIT", "10/01/2026", CARD_PAYMENT, "-500.00", "ACH_DEBIT", "", "", ""]
    for month, extra in (("08", []), ("09", []), ("10", [payment])):
        run_import(runner, state_path, chase_export(month, extra, tmp_path / f"chase-{month}.csv"), "Chase checking")
    run_import(runner, state_path, CHASE / "chase-credit-card-2026-10.csv", "Credit card")
    run_import(runner, state_path, Path("samples/ofx/checking-2026-10.ofx"), None)
    savings = ofx(tmp_path / "savings.ofx", [Line(day(25), "500.00", "TRANSFER FROM CHECKING")], account="9876")
    run_import(runner, state_path, savings, "Savings")
    with State(state_path) as state:  # the setup holds what the test is about: two pairs
        paired = state.db.execute("SELECT count(*) FROM transactions WHERE pair_id IS NOT NULL").fetchone()[0]
    assert paired == 4
    return state_path


def october_money_out(state_path: Path) -> Decimal:
    """The test's own sum: every October line that took money out, less the money moved."""
    with State(state_path) as state:
        rows = state.db.execute("SELECT description, amount FROM transactions WHERE date LIKE '2026-10-%'").fetchall()
    out = [(text, Decimal(amount)) for text, amount in rows if Decimal(amount) < 0]
    moved = [amount for text, amount in out if any(text.startswith(m) for m in MOVED)]
    assert sorted(moved) == sorted(MOVED.values())
    return -(sum((amount for _, amount in out), Decimal(0)) - sum(moved, Decimal(0)))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def write_page(runner: CliRunner, state: Path, month: str, into: Path) -> Path:
    result = runner.invoke(main, ["report", "--month", month, "--html", str(into), "--state", str(state)])
    assert result.exit_code == 0, result.output
    return into


def open_page(browser: Any, page_path: Path, width: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(page_path.resolve().as_uri())
    return page


CHART_FACTS = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const section = document.querySelector('section[data-currency="USD"]');
  const bars = [...section.querySelectorAll('rect.bar')].map((b) => [b.dataset.category, b.dataset.month,
      b.dataset.amount, getComputedStyle(b).fill]);
  const ticks = [...section.querySelectorAll('text.tick')].map((t) => [t.textContent, t.dataset.value, box(t)[1]]);
  const legend = section.querySelector('ul.legend');
  const items = [...legend.querySelectorAll('li')].map((li) => [li.dataset.category, box(li),
      getComputedStyle(li.querySelector('.swatch')).backgroundColor]);
  const rows = [...section.querySelectorAll('tr[data-category]')].map((tr) => [tr.dataset.category,
      [...tr.querySelectorAll('td[data-name]')].map((td) => [td.dataset.name, td.textContent])]);
  return {bars, ticks, rows, items, legend: box(legend), figure: box(section.querySelector('figure.chart'))};
}"""


def test_the_page_in_a_browser(runner: CliRunner, imported: Path, browser: Any, tmp_path: Path) -> None:
    page = open_page(browser, write_page(runner, imported, "2026-10", tmp_path / "october.html"), 1280)
    facts = page.evaluate(CHART_FACTS)
    if os.environ.get("IMPORTER_REPORT_SCREENSHOT"):
        page.screenshot(path=os.environ["IMPORTER_REPORT_SCREENSHOT"], full_page=True)
    # A y-axis with round values, in the currency, going up the page as they grow.
    values = [Decimal(value) for _, value, _ in facts["ticks"]]
    assert len(values) >= 3 and values == sorted(set(values)) and values[0] == 0
    assert all(text == f"{value:,f} USD" for (text, _, _), value in zip(facts["ticks"], values, strict=True))
    assert [top for _, _, top in facts["ticks"]] == sorted((top for _, _, top in facts["ticks"]), reverse=True)
    # More categories than the old ten colours; each has its own, in the bars and in the legend.
    fills: dict[str, set[str]] = {}
    for category, _, _, fill in facts["bars"]:
        fills.setdefault(category, set()).add(fill)
    assert len(fills) > 10 and all(len(colours) == 1 for colours in fills.values())
    assert len({colours.pop() for colours in fills.values()}) == len(fills)
    assert [category for category, _, _ in facts["items"]] == sorted(fills)
    assert len({swatch for _, _, swatch in facts["items"]}) == len(fills)
    # The legend stays inside its box.
    left, top, right, bottom = facts["figure"]
    for ln, t, r, b in [facts["legend"], *(item for _, item, _ in facts["items"])]:
        assert left <= ln and r <= right and top <= t and b <= bottom
    # Transfers and the card payment are not spending.
    october = sum((Decimal(amount) for _, month, amount, _ in facts["bars"] if month == "2026-10"), Decimal(0))
    assert october == october_money_out(imported)
    assert not [category for category, *_ in facts["bars"] if category.startswith("Transfer")]
    assert not [category for category, _ in facts["rows"] if category.startswith("Transfer")]


def test_the_first_month_has_no_changes_to_show(
    runner: CliRunner, imported: Path, browser: Any, tmp_path: Path
) -> None:
    august = open_page(browser, write_page(runner, imported, "2026-08", tmp_path / "august.html"), 1280).evaluate(
        CHART_FACTS
    )
    changes = [text for _, cells in august["rows"] for name, text in cells if name != "total"]
    assert changes and set(changes) == {"–"}
    september = open_page(browser, write_page(runner, imported, "2026-09", tmp_path / "september.html"), 1280)
    groceries = dict(
        next(cells for category, cells in september.evaluate(CHART_FACTS)["rows"] if category == "Food:Groceries")
    )
    assert (groceries["total"], groceries["vs-previous"], groceries["vs-average"]) == ("-71.20", "+0.00", "+0.00")


@pytest.mark.parametrize("width", [1280, 800])
def test_the_page_uses_the_width_without_scrolling_sideways(
    runner: CliRunner, imported: Path, browser: Any, tmp_path: Path, width: int
) -> None:
    page = open_page(browser, write_page(runner, imported, "2026-10", tmp_path / "october.html"), width)
    scroll, columns, chart = page.evaluate("""() => [document.documentElement.scrollWidth,
        document.querySelector('.columns').getBoundingClientRect().width,
        document.querySelector('figure.chart svg').getBoundingClientRect().width]""")
    assert scroll <= width
    assert columns >= 0.9 * width
    # Side by side with the table when wide; the whole width when narrow.
    assert chart >= (0.4 if width >= 1100 else 0.9) * width
