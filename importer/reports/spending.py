"""Spending per category and month, from the transactions in the state database.

Every categorised transaction the importer stored counts (whatever target it went to), in its
own currency: amounts in different currencies are never added together.  A category's total
is the signed sum of its amounts (money out is negative), so a refund lowers the spending it
refunds.  Money stays Decimal; the 3-month average is rounded to cents.

Money moved between the user's own accounts is not spending, and counting it would show a
transfer to savings or the monthly card bill as an expense (and the card's purchases twice).
So a stored line is left out when it is a leg of a paired transfer (`pair_id`, see
transfers.py), when a rule said where the money went (`transfer_to`: savings, the credit card,
the cash wallet), or when its category is `Transfer` or `Transfer:...` (the card account's side
of a payment, which names no other account).  Lines held back as probable duplicates
(status `review`) are left out too: they would count a purchase twice.

A comparison needs an earlier month to compare with: when the currency has no data in the
month before, the change against it is None (shown as "–"), not the whole total as a change;
the average is over those of the three months before that have data, None when none has.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from importer.store.base import Store

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
    previous: Decimal | None  # None: no data at all in the month before
    average: Decimal | None  # None: no data in any of the three months before

    @property
    def vs_previous(self) -> Decimal | None:
        return None if self.previous is None else self.total - self.previous

    @property
    def vs_average(self) -> Decimal | None:
        return None if self.average is None else self.total - self.average


@dataclass(frozen=True)
class MonthSpending:
    """A month's category totals in one currency."""

    month: str
    currency: str
    lines: tuple[CategoryLine, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values; money as exact decimal strings."""
        fields = ("total", "previous", "average", "vs_previous", "vs_average")
        lines = [
            {"category": line.category, **{name: _text(getattr(line, name)) for name in fields}}
            for line in (*self.lines, self.total())
        ]
        return {"month": self.month, "currency": self.currency, "categories": lines}

    def total(self) -> CategoryLine:
        total = sum((line.total for line in self.lines), Decimal(0))
        previous, average = _sum([line.previous for line in self.lines]), _sum([line.average for line in self.lines])
        return CategoryLine("total", total, previous, average)


def _sum(values: list[Decimal | None]) -> Decimal | None:
    # Every line of a section has an earlier month or none has: the currency's history decides.
    known = [value for value in values if value is not None]
    return sum(known, Decimal(0)) if known else None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def monthly_totals(state: Store) -> Totals:
    """Signed sums per currency, month and category over the stored transactions that are spending."""
    totals: Totals = defaultdict(Decimal)
    for currency, month, category, amount in state.spending_rows():
        totals[(currency, month, category or UNCATEGORISED)] += Decimal(amount)
    return dict(totals)


def shift_month(month: str, by: int) -> str:
    """YYYY-MM `by` months after `month` (before, when negative)."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_with_data(totals: Totals) -> list[str]:
    """The months (YYYY-MM, oldest first) that have spending in any currency."""
    return sorted({month for _, month, _ in totals})


def month_spending(totals: Totals, month: str) -> list[MonthSpending]:
    """`month`'s totals per currency, with the previous month and the 3-month average before it."""
    before = [shift_month(month, -n) for n in range(1, AVERAGE_MONTHS + 1)]
    window = {month, *before}
    sections = []
    for currency in sorted({c for c, m, _ in totals if m == month}):
        known = [m for m in before if any(c == currency and m == tm for c, tm, _ in totals)]
        categories = sorted({cat for c, m, cat in totals if c == currency and m in window})
        lines = tuple(_line(totals, currency, category, month, known) for category in categories)
        sections.append(MonthSpending(month, currency, lines))
    return sections


def _line(totals: Totals, currency: str, category: str, month: str, known: list[str]) -> CategoryLine:
    """`known`: the months before `month` (of the three) in which the currency has data."""

    def at(m: str) -> Decimal:
        return totals.get((currency, m, category), Decimal(0))

    previous = at(known[0]) if known and known[0] == shift_month(month, -1) else None
    average = (sum((at(m) for m in known), Decimal(0)) / len(known)).quantize(CENTS, ROUND_HALF_EVEN) if known else None
    return CategoryLine(category, at(month), previous, average)


def spending_by_month(totals: Totals, currency: str, months: list[str]) -> dict[str, dict[str, Decimal]]:
    """Money out per category per month (positive numbers; categories that took in money are left out)."""
    series: dict[str, dict[str, Decimal]] = {}
    for (c, month, category), amount in totals.items():
        if c == currency and month in months and amount < 0:
            series.setdefault(category, {})[month] = -amount
    return {category: series[category] for category in sorted(series)}
