"""Spending per category and month, from the transactions in the state database.

Every categorised transaction the importer stored counts (whatever target it went to), in its
own currency: amounts in different currencies are never added together.  A category's total
is the signed sum of its amounts (money out is negative), so a refund lowers the spending it
refunds.  Money stays Decimal; the 3-month average is rounded to cents.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from importer.state import State

UNCATEGORISED = "(uncategorised)"
CENTS = Decimal("0.01")
AVERAGE_MONTHS = 3

# (currency, month YYYY-MM, category) -> signed sum
Totals = dict[tuple[str, str, str], Decimal]


@dataclass(frozen=True)
class CategoryLine:
    """One category in one month, against the month before and the average of the three before."""

    category: str
    total: Decimal
    previous: Decimal
    average: Decimal

    @property
    def vs_previous(self) -> Decimal:
        return self.total - self.previous

    @property
    def vs_average(self) -> Decimal:
        return self.total - self.average


@dataclass(frozen=True)
class MonthSpending:
    """A month's category totals in one currency."""

    month: str
    currency: str
    lines: tuple[CategoryLine, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values; money as exact decimal strings."""
        fields = ("total", "previous", "average", "vs_previous", "vs_average")
        lines = [{"category": line.category, **{name: str(getattr(line, name)) for name in fields}}
                 for line in (*self.lines, self.total())]  # fmt: skip
        return {"month": self.month, "currency": self.currency, "categories": lines}

    def total(self) -> CategoryLine:
        return CategoryLine(
            "total", *(sum((getattr(line, name) for line in self.lines), Decimal(0)) for name in ("total", "previous", "average"))
        )


def monthly_totals(state: State) -> Totals:
    """Signed sums per currency, month and category over every stored transaction."""
    totals: Totals = defaultdict(Decimal)
    rows = state.db.execute("SELECT currency, substr(date, 1, 7), category, amount FROM transactions")
    for currency, month, category, amount in rows:
        totals[(currency, month, category or UNCATEGORISED)] += Decimal(amount)
    return dict(totals)


def shift_month(month: str, by: int) -> str:
    """YYYY-MM `by` months after `month` (before, when negative)."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def default_month(today: dt.date) -> str:
    """The last complete calendar month: what the monthly routine just imported."""
    return shift_month(today.strftime("%Y-%m"), -1)


def month_spending(totals: Totals, month: str) -> list[MonthSpending]:
    """`month`'s totals per currency, with the previous month and the 3-month average before it."""
    before = [shift_month(month, -n) for n in range(1, AVERAGE_MONTHS + 1)]
    window = {month, *before}
    sections = []
    for currency in sorted({c for c, m, _ in totals if m == month}):
        categories = sorted({cat for c, m, cat in totals if c == currency and m in window})
        lines = tuple(_line(totals, currency, category, month, before) for category in categories)
        sections.append(MonthSpending(month, currency, lines))
    return sections


def _line(totals: Totals, currency: str, category: str, month: str, before: list[str]) -> CategoryLine:
    def at(m: str) -> Decimal:
        return totals.get((currency, m, category), Decimal(0))

    average = (sum((at(m) for m in before), Decimal(0)) / len(before)).quantize(CENTS, ROUND_HALF_EVEN)
    return CategoryLine(category, at(month), at(before[0]), average)


def spending_by_month(totals: Totals, currency: str, months: list[str]) -> dict[str, dict[str, Decimal]]:
    """Money out per category per month (positive numbers; categories that took in money are left out)."""
    series: dict[str, dict[str, Decimal]] = {}
    for (c, month, category), amount in totals.items():
        if c == currency and month in months and amount < 0:
            series.setdefault(category, {})[month] = -amount
    return {category: series[category] for category in sorted(series)}
