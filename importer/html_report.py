"""The spending report as one self-contained HTML page: tables and an inline SVG chart.

No script, stylesheet, font or image is fetched from anywhere, so the page opens offline, from
an e-mail attachment, or years later.  Each number in the page carries its exact value in a
`data-value` (table cells) or `data-amount` (chart bars) attribute, so it can be checked by a
program as well as read.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from importer.spending import MonthSpending, spending_by_month

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
CHART_W, CHART_H, PAD, LEGEND_W = 640, 260, 40, 220

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 0.25em 0.75em; border-bottom: 1px solid #ddd; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
.up { color: #b00; } .down { color: #070; }
"""


def render_page(sections: list[MonthSpending], totals_by_month: dict[str, dict[str, dict[str, Decimal]]], months: list[str]) -> str:
    """The page for one month: per currency, the category table and the chart over `months`.

    `totals_by_month` maps currency → category → month → money out (see `spending_by_month`).
    """
    month = sections[0].month if sections else (months[-1] if months else "")
    body = [f"<h1>Spending, {escape(month)}</h1>"]
    if not sections:
        body.append(f"<p>No transactions are stored for {escape(month)}.</p>")
    for section in sections:
        body.append(f'<section data-currency="{escape(section.currency)}">')
        body.append(f"<h2>{escape(section.currency)}</h2>")
        body.append(category_table(section))
        body.append(bar_chart(totals_by_month.get(section.currency, {}), months, section.currency))
        body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Spending {escape(month)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def category_table(section: MonthSpending) -> str:
    previous, average = "previous month", "3-month average"
    rows = [
        "<table class=\"categories\">",
        f'<thead><tr><th>category</th><th class="num">{escape(section.month)}</th>'
        f'<th class="num">vs {previous}</th><th class="num">vs {average}</th></tr></thead>',
        "<tbody>",
    ]
    for line in (*section.lines, section.total()):
        css = ' class="total"' if line.category == "total" else ""
        rows.append(
            f'<tr{css} data-category="{escape(line.category)}"><td>{escape(line.category)}</td>'
            + _cell(line.total, "total") + _cell(line.vs_previous, "vs-previous", signed=True)
            + _cell(line.vs_average, "vs-average", signed=True) + "</tr>"
        )  # fmt: skip
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _cell(value: Decimal, name: str, signed: bool = False) -> str:
    # Spending is negative, so a change below zero means more money went out.
    trend = "" if not signed or value == 0 else (' up' if value < 0 else ' down')
    text = f"{value:+}" if signed else f"{value}"
    return f'<td class="num{trend}" data-name="{name}" data-value="{value}">{escape(text)}</td>'


def bar_chart(series: dict[str, dict[str, Decimal]], months: list[str], currency: str) -> str:
    """Stacked bars: one per month, one colour per category, heights in proportion to money out."""
    peak = max((sum(s.get(m, Decimal(0)) for s in series.values()) for m in months), default=Decimal(0))
    scale = Decimal(CHART_H - 2 * PAD) / peak if peak > 0 else Decimal(0)
    slot = (CHART_W - 2 * PAD) / max(len(months), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W + LEGEND_W}" height="{CHART_H}" role="img" '
        f'aria-label="Spending by category and month, {escape(currency)}" data-currency="{escape(currency)}">',
        f'<line x1="{PAD}" y1="{CHART_H - PAD}" x2="{CHART_W - PAD}" y2="{CHART_H - PAD}" stroke="#888"/>',
    ]
    for index, month in enumerate(months):
        x = PAD + index * slot
        parts.extend(_stack(series, month, x + slot * 0.15, slot * 0.7, scale))
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{CHART_H - PAD + 16}" text-anchor="middle" font-size="11">{escape(month)}</text>')
    parts.extend(_legend(list(series)))
    parts.append("</svg>")
    return "\n".join(parts)


def _stack(series: dict[str, dict[str, Decimal]], month: str, x: float, width: float, scale: Decimal) -> list[str]:
    bars, bottom = [], Decimal(CHART_H - PAD)
    for index, (category, by_month) in enumerate(series.items()):
        amount = by_month.get(month, Decimal(0))
        if amount <= 0:
            continue
        height = amount * scale
        bottom -= height
        bars.append(
            f'<rect class="bar" x="{x:.1f}" y="{bottom:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{PALETTE[index % len(PALETTE)]}" data-category="{escape(category)}" data-month="{month}" '
            f'data-amount="{amount}"><title>{escape(category)} {month}: {amount}</title></rect>'
        )
    return bars


def _legend(categories: list[str]) -> list[str]:
    items = []
    for index, category in enumerate(categories):
        y = PAD + index * 18
        items.append(f'<rect x="{CHART_W}" y="{y}" width="12" height="12" fill="{PALETTE[index % len(PALETTE)]}"/>')
        items.append(f'<text x="{CHART_W + 18}" y="{y + 10}" font-size="12">{escape(category)}</text>')
    return items


def spending_page(sections: list[MonthSpending], totals: dict[tuple[str, str, str], Decimal], months: list[str]) -> str:
    """`render_page` with the chart series computed from the raw `totals`."""
    currencies = {section.currency for section in sections}
    return render_page(sections, {c: spending_by_month(totals, c, months) for c in currencies}, months)
