"""The spending report as one self-contained HTML page: tables and an inline SVG chart.

No script, stylesheet, font or image is fetched from anywhere, so the page opens offline, from
an e-mail attachment, or years later.  Each number in the page carries its exact value in a
`data-value` (table cells, y-axis ticks) or `data-amount` (chart bars) attribute, so it can be
checked by a program as well as read.

The layout follows the window: the table and the chart sit side by side on a wide screen and
one above the other on a narrow one; the chart is an SVG with a viewBox, so it scales to the
width it is given.  The legend is HTML (a wrapping list), not SVG: it grows with the number of
categories instead of running out of its box.  Colours come from `palette(n)`, made for the
chart's number of categories, so no two categories of a chart share one.
"""

from __future__ import annotations

import colorsys
from decimal import ROUND_CEILING, Decimal
from html import escape

from importer.reports.spending import MonthSpending, spending_by_month

CHART_W, CHART_H = 600, 300
LEFT, RIGHT, TOP, BOTTOM = 92, 12, 14, 30  # room for the tick labels and the month names
TICKS = 5  # about this many steps up the y-axis
BAR_MAX = 110  # a month or two of data: bars, not slabs
DASH = "–"  # a change against a month without data: there is nothing to compare with

_STYLE = """
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; padding: 1.25rem clamp(0.75rem, 3vw, 2.5rem); color: #222; }
h1 { margin: 0 0 0.25rem; font-size: 1.6rem; }
p.meta { margin: 0.1rem 0; color: #555; }
section.currency { margin-top: 1.5rem; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.5rem 2.5rem; align-items: start; }
@media (min-width: 1100px) { .columns { grid-template-columns: minmax(28rem, 1fr) minmax(0, 1.2fr); } }
.table-box { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 0.3em 0.6em; border-bottom: 1px solid #ddd; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.category { max-width: 22em; overflow-wrap: break-word; }
th.num { white-space: normal; } th.month { white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
.up { color: #b00; } .down { color: #070; } .none { color: #888; }
figure.chart { margin: 0; min-width: 0; }
figure.chart svg { display: block; width: 100%; height: auto; }
ul.legend { display: flex; flex-wrap: wrap; gap: 0.3rem 1.1rem; list-style: none; margin: 0.6rem 0 0; padding: 0; }
ul.legend li { display: flex; align-items: center; gap: 0.4em; min-width: 0; overflow-wrap: anywhere; }
.swatch { flex: none; width: 0.9em; height: 0.9em; border-radius: 2px; }
"""


def render_page(
    sections: list[MonthSpending],
    totals_by_month: dict[str, dict[str, dict[str, Decimal]]],
    months: list[str],
    available: list[str] | None = None,
) -> str:
    """The page for one month: per currency, the category table and the chart over `months`.

    `totals_by_month` maps currency → category → month → money out (see `spending_by_month`);
    `available` lists the months that have data, named in the page's header.
    """
    month = sections[0].month if sections else (months[-1] if months else "")
    body = [f"<h1>Spending, {escape(month)}</h1>", *_header_notes(available)]
    if not sections:
        body.append(f"<p>No transactions are stored for {escape(month)}.</p>")
    for section in sections:
        body.append(_section(section, totals_by_month.get(section.currency, {}), months))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Spending {escape(month)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _header_notes(available: list[str] | None) -> list[str]:
    notes = [
        '<p class="meta">Not counted as spending: money moved between your own accounts (transfers, card '
        "payments, savings, cash) and lines held back as probable duplicates.</p>"
    ]
    if available:
        notes.append(f'<p class="meta" id="months">Months with data: {escape(", ".join(available))}.</p>')
    return notes


def _section(section: MonthSpending, series: dict[str, dict[str, Decimal]], months: list[str]) -> str:
    currency = escape(section.currency)
    return (
        f'<section class="currency" data-currency="{currency}">\n<h2>{currency}</h2>\n<div class="columns">\n'
        f'<div class="table-box">\n{category_table(section)}\n</div>\n'
        f'<figure class="chart">\n{bar_chart(series, months, section.currency)}\n</figure>\n</div>\n</section>'
    )


def category_table(section: MonthSpending) -> str:
    previous, average = "previous month", "3\u2011month average"  # a hyphen the header does not break at
    rows = [
        '<table class="categories">',
        f'<thead><tr><th>category</th><th class="num month">{escape(section.month)}</th>'
        f'<th class="num">vs {previous}</th><th class="num">vs {average}</th></tr></thead>',
        "<tbody>",
    ]
    for line in (*section.lines, section.total()):
        css = ' class="total"' if line.category == "total" else ""
        rows.append(
            f'<tr{css} data-category="{escape(line.category)}"><td class="category">{escape(line.category)}</td>'
            + _cell(line.total, "total")
            + _cell(line.vs_previous, "vs-previous", signed=True)
            + _cell(line.vs_average, "vs-average", signed=True)
            + "</tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _cell(value: Decimal | None, name: str, signed: bool = False) -> str:
    if value is None:  # no earlier month to compare with: not a change of +100% or 0
        return f'<td class="num none" data-name="{name}" data-value="">{DASH}</td>'
    # Spending is negative, so a change below zero means more money went out.
    trend = "" if not signed or value == 0 else (" up" if value < 0 else " down")
    text = f"{value:+}" if signed else f"{value}"
    return f'<td class="num{trend}" data-name="{name}" data-value="{value}">{escape(text)}</td>'


def palette(n: int) -> list[str]:
    """`n` distinct colours, the same for the same `n`: hues spread evenly round the wheel, and
    past six colours every other one darker, so neighbours differ in lightness as well as hue."""
    colours = []
    for index in range(n):
        light = 0.45 if n <= 6 or index % 2 == 0 else 0.66
        red, green, blue = colorsys.hls_to_rgb((0.58 + index / n) % 1.0, light, 0.62)
        colours.append(f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}")
    return colours


def nice_ticks(peak: Decimal) -> list[Decimal]:
    """Round values from 0 to at least `peak`, about TICKS steps of 1, 2, 2.5 or 5 times a power of ten."""
    if peak <= 0:
        return [Decimal(0)]
    raw = peak / TICKS
    power = Decimal(1).scaleb(raw.adjusted())
    step = next(
        power * f for f in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)) if power * f >= raw
    )
    count = int((peak / step).to_integral_value(ROUND_CEILING))
    return [step * n for n in range(count + 1)]


def bar_chart(series: dict[str, dict[str, Decimal]], months: list[str], currency: str) -> str:
    """Stacked bars: one per month, one colour per category, heights in proportion to money out;
    a y-axis with round ticks in the currency, and the legend below (HTML, wrapping)."""
    colours = dict(zip(series, palette(len(series)), strict=True))
    ticks = nice_ticks(_peak(series, months))
    scale = Decimal(CHART_H - TOP - BOTTOM) / ticks[-1] if ticks[-1] > 0 else Decimal(0)
    slot = (CHART_W - LEFT - RIGHT) / max(len(months), 1)
    width = min(slot * 0.7, BAR_MAX)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
        f'aria-label="Spending by category and month, {escape(currency)}" data-currency="{escape(currency)}">',
        *_y_axis(ticks, scale, currency),
    ]
    for index, month in enumerate(months):
        x = LEFT + index * slot
        parts.extend(_stack(series, colours, month, x + (slot - width) / 2, width, scale))
        parts.append(
            f'<text class="month" x="{x + slot / 2:.1f}" y="{CHART_H - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="13">{escape(month)}</text>'
        )
    parts.append("</svg>")
    parts.append(_legend(colours))
    return "\n".join(parts)


def _peak(series: dict[str, dict[str, Decimal]], months: list[str]) -> Decimal:
    """The tallest stack: the most money out in one month."""
    return max((sum((s.get(m, Decimal(0)) for s in series.values()), Decimal(0)) for m in months), default=Decimal(0))


def _y_axis(ticks: list[Decimal], scale: Decimal, currency: str) -> list[str]:
    lines = []
    for value in ticks:
        y = Decimal(CHART_H - BOTTOM) - value * scale
        stroke = "#888" if value == 0 else "#e4e4e4"
        lines.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{CHART_W - RIGHT}" y2="{y:.1f}" stroke="{stroke}"/>')
        lines.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'data-value="{value:f}">{value:,f} {escape(currency)}</text>'
        )
    return lines


def _stack(
    series: dict[str, dict[str, Decimal]], colours: dict[str, str], month: str, x: float, width: float, scale: Decimal
) -> list[str]:
    bars, bottom = [], Decimal(CHART_H - BOTTOM)
    for category, by_month in series.items():
        amount = by_month.get(month, Decimal(0))
        if amount <= 0:
            continue
        height = amount * scale
        bottom -= height
        bars.append(
            f'<rect class="bar" x="{x:.1f}" y="{bottom:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{colours[category]}" data-category="{escape(category)}" data-month="{month}" '
            f'data-amount="{amount}"><title>{escape(category)} {month}: {amount}</title></rect>'
        )
    return bars


def _legend(colours: dict[str, str]) -> str:
    items = [
        f'<li data-category="{escape(category)}"><span class="swatch" style="background: {colour}" '
        f'data-colour="{colour}"></span>{escape(category)}</li>'
        for category, colour in colours.items()
    ]
    return '<ul class="legend">\n' + "\n".join(items) + "\n</ul>"


def spending_page(
    sections: list[MonthSpending],
    totals: dict[tuple[str, str, str], Decimal],
    months: list[str],
    available: list[str] | None = None,
) -> str:
    """`render_page` with the chart series computed from the raw `totals`."""
    currencies = {section.currency for section in sections}
    return render_page(sections, {c: spending_by_month(totals, c, months) for c in currencies}, months, available)
