"""CSV read through bank profiles: encodings, decimal commas, and bad input named by line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import ParseError
from importer.parsers import ParseOptions, parse_file
from importer.parsers.numbers import NotANumber, parse_amount

CHASE_HEADER = "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"


@pytest.mark.parametrize(
    ("cell", "decimal", "thousands", "expected"),
    [
        ("-1,234.56", ".", ",", "-1234.56"),
        ("1.234,56", ",", ".", "1234.56"),
        ("(12.00)", ".", None, "-12.00"),
        ("12.00-", ".", None, "-12.00"),
        ("€ -3,50", ",", None, "-3.50"),
        ("1 234,50", ",", " ", "1234.50"),
    ],
)
def test_amount_cells(cell: str, decimal: str, thousands: str | None, expected: str) -> None:
    assert parse_amount(cell, decimal, thousands) == Decimal(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["", "abc", "-", "NaN", "Infinity"])
def test_non_numbers_are_refused(cell: str) -> None:
    with pytest.raises(NotANumber):
        parse_amount(cell)


def test_cp1252_decimal_comma_profile() -> None:
    [statement] = parse_file(Path("samples/csv/sparkasse/sparkasse-giro-2026-10.csv"), ParseOptions())
    salary = next(t for t in statement.transactions if "Gehalt" in t.description)
    assert salary.amount == Decimal("3412.77") and salary.currency == "EUR"
    assert "Müller" in statement.transactions[0].description


def test_wrong_date_names_line_and_value(tmp_path: Path) -> None:
    path = tmp_path / "chase.csv"
    path.write_text(CHASE_HEADER + "DEBIT,10/30/2026,A,-1.00,X,1,,\nDEBIT,2026-10-31,B,-1.00,X,1,,\n")
    with pytest.raises(ParseError) as err:
        parse_file(path, ParseOptions())
    assert "line 3" in str(err.value) and "'2026-10-31'" in str(err.value)


def test_undecodable_bytes_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "chase.csv"
    path.write_bytes(CHASE_HEADER.encode() + b"DEBIT,10/30/2026,CAF\xe9,-1.00,X,1,,\n")
    with pytest.raises(ParseError, match="line 2.*not valid utf-8"):
        parse_file(path, ParseOptions())
