"""Amount cells and date columns as banks write them, decided per column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from importer.parsers import dates
from importer.parsers.dates import CANDIDATE_FORMATS, Ambiguity, _numeric_shape, infer_date_format, parse_dates
from importer.parsers.numbers import NotANumber, infer_decimal_mark, parse_amount, parse_amount_column, plain_amounts


@pytest.mark.parametrize(
    ("cell", "mark", "expected"),
    [
        ("12.00 DR", ".", "-12.00"),
        ("12.00 CR", ".", "12.00"),
        ("11'373.94", ".", "11373.94"),
        ("1\u202f234,50 €", ",", "1234.50"),
        ("1\u00a0234,50", ",", "1234.50"),
        ("+ $73.01", ".", "73.01"),
        ("- $12.01", ".", "-12.01"),
        ("(1,234.56)", ".", "-1234.56"),
        ("EUR -3,50", ",", "-3.50"),
        ("£67.40", ".", "67.40"),
    ],
)
def test_amount_forms(cell: str, mark: str, expected: str) -> None:
    assert parse_amount(cell, mark) == Decimal(expected)


def test_point_in_a_decimal_comma_column_is_not_a_thousands_mark() -> None:
    with pytest.raises(NotANumber):
        parse_amount("12.5", ",")


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (["1,25", "20,00", "2500"], ","),
        (["1.234,56", "3,2"], ","),
        (["1,234.56", "-5.00"], "."),
        (["1,000", "2,500"], None),
        (["12", "7"], None),
    ],
)
def test_decimal_mark_comes_from_the_whole_column(column: list[str], expected: str | None) -> None:
    assert infer_decimal_mark(column) == expected


def test_amount_column_reports_the_first_bad_cell() -> None:
    values, bad = parse_amount_column(["1,00", "", "x", "2,00"], ",")
    assert values == [Decimal("1.00"), None] and bad == 2


@pytest.mark.parametrize(
    ("column", "fmt"),
    [
        (["3. März 2026", "12. Dez. 2026"], "%d. %b %Y"),
        (["12 janv. 2026", "3 févr. 2026"], "%d %b %Y"),
        (["5 mei 2026", "13 okt 2026"], "%d %b %Y"),
        (["3 ottobre 2026", "13 dicembre 2026"], "%d %b %Y"),
        (["15 outubro 2026", "1 maio 2026"], "%d %b %Y"),
        (["15 października 2026", "1 maja 2026"], "%d %b %Y"),
        (["15 октября 2026", "1 мая 2026"], "%d %b %Y"),
        (["2019.04.19."], "%Y.%m.%d."),
        (["22.02.18", "13.03.18"], "%d.%m.%y"),
    ],
)
def test_month_names_in_nine_languages(column: list[str], fmt: str) -> None:
    # Month names in any of the languages become English abbreviations, which %b reads.
    assert infer_date_format(column) == fmt
    assert all(isinstance(day, dt.date) for day in parse_dates(column, fmt))


def test_ambiguous_column_names_two_rows() -> None:
    found = infer_date_format(["03/04/2026", "01/02/2026", "03/04/2026"])
    assert found == Ambiguity(("%d/%m/%Y", "%m/%d/%Y"), (0, 1))


_DAYS = ["0", "1", "01", "9", "09", "10", "28", "29", "30", "31", "32", "00", "5 ", " 5", "123"]
_MONTHS = ["0", "1", "01", "2", "02", "9", "09", "12", "13", "00", "001"]
_YEARS = ["1949", "1950", "2024", "2099", "2100", "0000", "24", "00", "49", "68", "69", "99", "9", "20245"]


@pytest.mark.parametrize("fmt", [f for f in CANDIDATE_FORMATS if _numeric_shape(f) is not None])
def test_numeric_dates_read_as_pandas_reads_them(fmt: str) -> None:
    """The fast reader of digit-only dates against the pandas reader, on every shape of day, month
    and year around the edges (padding, month 13, February 29/30, the %y century, the year range)."""
    values = [
        fmt.replace("%d", d).replace("%m", m).replace("%Y", y).replace("%y", y)
        for d in _DAYS
        for m in _MONTHS
        for y in _YEARS
    ]
    fast = {value: dates._numeric_dates([value], fmt) for value in values}
    read = [value for value, found in fast.items() if found is not None]
    assert len(read) > 100  # the fast path takes most shapes; the rest go to pandas
    assert {v: fast[v][v] for v in read} == dates._pandas_dates(read, fmt)  # type: ignore[index]
    assert parse_dates(["02/29/2024", "2/29/2023", "12/31/2099"], "%m/%d/%Y") == [
        dt.date(2024, 2, 29),
        None,
        dt.date(2099, 12, 31),
    ]


def test_plain_amounts_reads_a_column_of_plain_numbers_or_nothing() -> None:
    assert plain_amounts(["-190.95", "3", "0.10"], ".") == [Decimal("-190.95"), Decimal("3"), Decimal("0.10")]
    assert plain_amounts(["-1,50", "2"], ",") == [Decimal("-1.50"), Decimal("2")]
    for odd in ("", " 3", "1e5", "1\n2", "1,50", "$3", "NaN", "1_000"):
        assert plain_amounts(["2.00", odd], ".") is None, odd
