"""CSV bad input and awkward files: each refusal names the file and line and stores nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import (
    AmbiguousDateError,
    BalanceError,
    InputError,
    ParseError,
    TruncatedError,
    UnknownFormatError,
)
from importer.parsers import FileSample, ParseOptions, identify, parse_file
from importer.parsers.csv.reader import CsvParser

HEADER = "Date,Description,Amount,Balance\n"


def write(tmp_path: Path, text: str, name: str = "bank.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2026-10-01,A,-1.00,9.00\n2026-10-02,B,-1.00,8.00,extra\n2026-10-03,C,-1.00,7.00\n")
    with pytest.raises(ParseError) as err:
        parse_file(path, ParseOptions())
    assert str(err.value) == (
        f"{path}, line 3: this row has 5 fields where the table has 4. Expected 4 fields, found '5 fields'."
    )


def test_short_row_is_ragged_too(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER + "2026-10-01,A,-1.00,9.00\n2026-10-02,B\n2026-10-03,C,-1.00,7.00\n2026-10-04,D,-1.00,6.00\n"
    )
    with pytest.raises(ParseError, match="line 3: this row has 2 fields where the table has 4"):
        parse_file(path, ParseOptions())


def test_chase_trailing_field_is_not_ragged() -> None:
    [statement] = parse_file(Path("samples/csv/chase/chase-checking-2026-10.csv"), ParseOptions())
    assert statement.transactions and all("column 8" not in t.raw for t in statement.transactions)


def test_unclosed_quote_names_the_line_it_opens(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + '2026-10-01,A,-1.00,9.00\n2026-10-02,"B,-1.00,8.00\n2026-10-03,C,-1.00,7.00\n')
    with pytest.raises(
        TruncatedError, match=r"line 3: the file ends in the middle of a row \(a quoted field is never closed\)"
    ) as err:
        parse_file(path, ParseOptions(currency="EUR"))
    assert [len(s.transactions) for s in err.value.partial] == [1]


def test_empty_csv_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(InputError) as err:
        parse_file(path, ParseOptions())
    assert str(err.value) == f"{path}: the file is empty: there is no table to read."


def test_binary_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "statement.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match="is a binary file, not delimited text"):
        parse_file(path, ParseOptions())


def test_amount_that_is_not_a_number(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2026-10-01,A,-1.00,9.00\n2026-10-02,B,twelve,8.00\n2026-10-03,C,-1.00,7.00\n")
    with pytest.raises(ParseError) as err:
        parse_file(path, ParseOptions(currency="EUR"))
    assert "line 3: an amount cell in column 'Amount' is not a number" in str(err.value) and "'twelve'" in str(
        err.value
    )


def test_ambiguous_dates_show_two_rows_and_the_settings(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,Description,Amount\n01/02/2026,A,-1.00\n03/04/2026,B,-2.00\n05/06/2026,C,-3.00\n")
    with pytest.raises(AmbiguousDateError) as err:
        parse_file(path, ParseOptions(currency="USD"))
    assert str(err.value) == (
        f"{path}, line 2: the dates read both as %d/%m/%Y and as %m/%d/%Y (no day is above 12), "
        "e.g. line 2: '01/02/2026' and line 3: '03/04/2026'. Say which with --date-format '%d/%m/%Y' "
        "(or '%m/%d/%Y'), or date_format: in the bank profile."
    )
    [statement] = parse_file(path, ParseOptions(currency="USD", date_format="%m/%d/%Y"))
    assert statement.transactions[0].date.isoformat() == "2026-01-02"


def test_broken_balance_chain_names_the_line(tmp_path: Path) -> None:
    rows = "2026-10-01,A,-1.00,9.00\n2026-10-02,B,-1.00,8.00\n2026-10-03,C,-1.00,5.00\n"
    path = write(tmp_path, HEADER + rows)
    with pytest.raises(BalanceError, match="line 4: the running balance does not follow"):
        parse_file(path, ParseOptions(currency="EUR"))
    [statement] = parse_file(path, ParseOptions(currency="EUR", check_balances=False))
    assert len(statement.transactions) == 3


def test_balance_confirms_newest_first_and_sign(tmp_path: Path) -> None:
    # Charges positive, newest first: the balance shows they are money out.
    path = write(tmp_path, HEADER + "2026-10-03,C,1.00,7.00\n2026-10-02,B,1.00,8.00\n2026-10-01,A,1.00,9.00\n")
    [statement] = parse_file(path, ParseOptions(currency="EUR"))
    assert [t.amount for t in statement.transactions] == [Decimal("-1.00")] * 3


def test_currency_unknown_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,Description,Amount\n2026-10-01,A,-1.00\n2026-10-02,B,-2.00\n")
    with pytest.raises(ParseError, match="does not say its currency: pass --currency CODE"):
        parse_file(path, ParseOptions())


@pytest.mark.parametrize(
    ("text", "suffix"),
    [
        ("OFXHEADER:100\nDATA:OFXSGML\n<OFX>\n", ".csv"),
        ("!Type:Bank\nD10/01/2026\nT-1.00\n^\n", ".csv"),
        (":20:STARTUMS\n:25:12345678/0001\n:61:2610011001DR1,00NMSCNONREF\n", ".txt"),
        ("{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}\n", ".txt"),
        ('<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">\n', ".csv"),
        ("just, some, words\nwithout, dates, here\nor, any, amounts\n", ".csv"),
    ],
)
def test_csv_does_not_claim_other_formats(tmp_path: Path, text: str, suffix: str) -> None:
    path = write(tmp_path, text, name="statement" + suffix)
    assert not CsvParser().identify(FileSample.read(path, ParseOptions()))


def test_no_claim_means_unknown_format(tmp_path: Path) -> None:
    path = write(tmp_path, "just, some, words\nwithout, dates, here\n", name="notes.csv")
    with pytest.raises(UnknownFormatError):
        identify(path, ParseOptions())


def test_utf16_with_preamble_footer_and_decimal_comma(tmp_path: Path) -> None:
    text = (
        "Kontoauszug;Girokonto\r\n\r\nDatum;Text;Betrag;Saldo\r\n01.10.2026;Gehalt;1.234,56;2.234,56\r\n"
        "02.10.2026;Miete;-900,00;1.334,56\r\n03.10.2026;Bäcker;-3,20;1.331,36\r\nSumme;;331,36;\r\n"
    )
    path = write(tmp_path, "\ufeff" + text, encoding="utf-16-le")
    [statement] = parse_file(path, ParseOptions(currency="EUR"))
    assert [t.amount for t in statement.transactions] == [Decimal("1234.56"), Decimal("-900.00"), Decimal("-3.20")]
    assert statement.transactions[2].description == "Bäcker" and statement.transactions[0].source.line == 4


def test_cp1251_and_cr_only_line_endings(tmp_path: Path) -> None:
    text = "Дата;Описание;Сумма;Валюта\r01.10.2026;Зарплата;50000,00;RUB\r02.10.2026;Магазин;-1200,50;RUB\r"
    path = write(tmp_path, text, encoding="cp1251")
    [statement] = parse_file(path, ParseOptions())
    assert statement.transactions[1].description == "Магазин" and statement.transactions[1].amount == Decimal(
        "-1200.50"
    )


def test_month_names_and_indicator_column(tmp_path: Path) -> None:
    text = "Fecha;Concepto;Importe;D/H\n3 oct. 2026;Nómina;1.500,00;H\n15 dic. 2026;Alquiler;700,00;D\n"
    path = write(tmp_path, text)
    [statement] = parse_file(path, ParseOptions(currency="EUR"))
    assert [(t.date.month, t.amount) for t in statement.transactions] == [
        (10, Decimal("1500.00")),
        (12, Decimal("-700.00")),
    ]
