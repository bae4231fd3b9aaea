"""What the fuzz suite found in the CSV reader, one class per test group, each written as the
damaged file itself (not a replay of the harness): a refusal naming file and line, or the exact
statement.  `python -m tests.fuzz --only csv` runs the generated cases these stand for.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import InputError, ParseError, TruncatedError
from importer.parsers import ParseOptions, parse_file

SAMPLES = Path("samples/csv")
AMEX = SAMPLES / "amex/activity.csv"
BARCLAYS = SAMPLES / "barclays/data.csv"
BOI = SAMPLES / "bank-of-ireland/TransactionExport.csv"
BUNQ = SAMPLES / "bunq/2026-10-31_bunq-transactieoverzicht.csv"
LLOYDS = SAMPLES / "lloyds/12345678_20261031_1200.csv"
REVOLUT = SAMPLES / "revolut/account-statement_2026-10-01_2026-10-31_en_4f1c2a.csv"
SANTANDER = SAMPLES / "santander/movimientos-2026-10.csv"
# A configured home currency: the damaged header used to fall back to it for files naming none.
HOME = ParseOptions(default_currency="USD")


def _write(tmp_path: Path, source: Path, text: str) -> Path:
    path = tmp_path / source.name
    path.write_bytes(text.encode("utf-8"))
    return path


def _sample(source: Path) -> str:
    return source.read_bytes().decode("utf-8")


# -- 1. a field longer than the csv module's limit --------------------------------------------


@pytest.mark.parametrize("quoted_elsewhere", [False, True], ids=["one-line records", "a record over two lines"])
def test_a_field_of_megabytes_is_refused_at_its_line(tmp_path: Path, quoted_elsewhere: bool) -> None:
    lines = _sample(AMEX).splitlines(keepends=True)
    lines[4] = lines[4][:20] + "x" * 200_000 + lines[4][20:]
    if quoted_elsewhere:  # the record-wise scan, which follows quoted fields across lines
        lines[1] = lines[1].replace('"AMAZON MKTPL*2K4LL8YQ0"', '"AMAZON\nMKTPL*2K4LL8YQ0"')
    path = _write(tmp_path, AMEX, "".join(lines))
    with pytest.raises(ParseError) as err:
        parse_file(path, HOME)
    line = 6 if quoted_elsewhere else 5
    assert str(err.value) == (
        f"{path}, line {line}: a field is longer than 131072 characters, longer than any "
        "bank writes: the file is damaged or is not a statement. Download it again."
    )


# -- 2. a profile's header wider than what the cut file left of the table ----------------------


def test_a_file_cut_inside_its_first_row_is_refused_not_a_traceback(tmp_path: Path) -> None:
    # Two two-field lines (the account line, the cut row) outnumber the five-field header: the
    # table's width is the header's, so the cut row is the one named.
    text = _sample(SANTANDER)
    path = _write(tmp_path, SANTANDER, text[: text.index("26/10/2026;") + len("26/10/2026;2")])
    with pytest.raises(ParseError) as err:
        parse_file(path, ParseOptions())
    assert (
        str(err.value) == f"{path}, line 4: this row has 2 fields where the table has 5. "
        "Expected 5 fields, found '2 fields'."
    )


# -- 3. a bank's header with one damaged name -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "old", "new", "message"),
    [
        (
            BARCLAYS,
            "Number,Date,",
            "Number,Dįte,",
            "the barclays export's (Barclays), but column 2 reads 'Dįte' instead of 'Date'",
        ),
        (
            AMEX,
            ",Amount\n",
            ",Amďunt\n",
            "the amex export's (American Express), but column 5 reads 'Amďunt' instead of 'Amount'",
        ),
        (
            REVOLUT,
            ",Description,",
            ",Dĺscription,",
            "the revolut export's (Revolut), but column 5 reads 'Dĺscription' instead of 'Description'",
        ),
        (
            LLOYDS,
            "Sort Code",
            "Sďrt Code",
            "the lloyds export's (Lloyds Bank), but column 3 reads 'Sďrt Code' instead of 'Sort Code'",
        ),
        # The delimiter between two names damaged: one cell where two should be.
        (
            BUNQ,
            '"Bedrag","Rekening"',
            '"Bedrag"¬"Rekening"',
            "the bunq export's (bunq), but column 2 reads 'Bedrag¬\"Rekening\"' instead of 'Bedrag,Rekening'",
        ),
    ],
    ids=["letter", "last column", "multi-currency", "debit and credit", "delimiter"],
)
def test_a_header_one_byte_off_a_profile_is_refused_naming_it(
    tmp_path: Path, source: Path, old: str, new: str, message: str
) -> None:
    path = _write(tmp_path, source, _sample(source).replace(old, new, 1))
    with pytest.raises(ParseError) as err:
        parse_file(path, HOME)
    assert str(err.value).startswith(
        f"{path}, line 1: the header looks like {message}: the file may be damaged. "
        "Download it again; if the bank has renamed the column, copy the "
    )


def test_a_header_spelled_another_way_is_read_by_its_own_columns(tmp_path: Path) -> None:
    # PayPal's custom export writes "TimeZone" for "Time Zone": a spelling, not damage.
    text = (
        '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net","Balance"\n'
        '"10/15/2019","03:46:20","PDT","Calm Radio","Subscription Payment","Completed","GBP","-6.99",'
        '"0.00","-6.99","-6.99"\n'
        '"10/20/2019","09:00:00","PDT","","Bank Deposit","Completed","GBP","10.00","0.00","10.00","3.01"\n'
    )
    [statement] = parse_file(_write(tmp_path, Path("paypal.csv"), text), HOME)
    assert [(t.date, t.amount, t.currency) for t in statement.transactions] == [
        (dt.date(2019, 10, 15), Decimal("-6.99"), "GBP"),
        (dt.date(2019, 10, 20), Decimal("10.00"), "GBP"),
    ]


# -- 4. a file cut inside the last row's balance, the column blank above it --------------------


def test_a_balance_cut_short_under_blank_balances_is_a_truncation(tmp_path: Path) -> None:
    text = _sample(BOI)
    path = _write(tmp_path, BOI, text[: text.index("3810.90") + 2])  # "...,43.20,,38"
    with pytest.raises(TruncatedError) as err:
        parse_file(path, ParseOptions())
    assert err.value.line == 3
    assert "the last row's last number has fewer decimals than its column's" in str(err.value)
    [partial] = err.value.partial
    assert [(t.date, t.amount) for t in partial.transactions] == [(dt.date(2026, 10, 1), Decimal("2650.00"))]


@pytest.mark.parametrize("last", ["3410.80", ""], ids=["balance", "blank balance"])
def test_a_whole_last_row_without_a_line_end_reads_completely(tmp_path: Path, last: str) -> None:
    text = _sample(BOI).rstrip("\n")
    path = _write(tmp_path, BOI, text[: text.rindex(",") + 1] + last)
    [statement] = parse_file(path, ParseOptions())
    assert [t.amount for t in statement.transactions][-1] == Decimal("-8.75")
    assert statement.transactions[-1].balance == (Decimal(last) if last else None)


# -- 5. a headerless file with two date columns, one date damaged ------------------------------

_EASYBANK = (
    "AT123456789012345678;Einbehaltene KESt         BG/000000001 ;01.01.2014;31.12.2013;-0,42;EUR\n"
    "AT123456789012345678;Zinsen HABEN              BG/000000002 ;01.01.2014;31.12.2013;+1,23;EUR\n"
    "AT123456789012345678;Usage, specific reason    FE/000000003 ;04.01.2014;04.01.2014;-123,45;EUR\n"
    "AT123456789012345678;Abbuchung Einzug          OG/000000004 ;08.01.2014;08.01.2014;-32,00;EUR\n"
    "AT123456789012345678;CustomerNo: XXXXX         FE/000000005 ;19.01.2014;20.01.2014;-1.001,00;EUR\n"
)


def test_the_booking_date_column_of_a_headerless_file_is_the_first_date_column(tmp_path: Path) -> None:
    [statement] = parse_file(_write(tmp_path, Path("easybank.csv"), _EASYBANK), ParseOptions())
    assert [t.date for t in statement.transactions][:2] == [dt.date(2014, 1, 1), dt.date(2014, 1, 1)]


def test_one_damaged_date_does_not_move_the_dates_to_the_other_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        Path("easybank.csv"),
        _EASYBANK.replace("01.01.2014", "01.01.20±4", 2).replace("01.01.20±4", "01.01.2014", 1),
    )  # the second row's only
    with pytest.raises(ParseError) as err:
        parse_file(path, ParseOptions())
    assert str(err.value) == (
        f"{path}, line 2: a date cell in column 'column 3' is not a date in any format we "
        "know. Expected a date such as 2026-10-31, 31.10.2026 or 10/31/2026 (or pass "
        "--date-format), found '01.01.20±4'."
    )


def test_a_balance_cut_short_in_the_only_row_is_refused(tmp_path: Path) -> None:
    # Lloyds cut inside its first row's balance ("2811.09" -> "2"): the header names the column a
    # balance, so a whole number there under amounts with cents is a cut, not a value.
    text = _sample(LLOYDS)
    path = _write(tmp_path, LLOYDS, text[: text.index("2811.09") + 1])
    with pytest.raises(InputError) as err:
        parse_file(path, ParseOptions())
    assert str(err.value) == f"{path}: holds no table: no rows of delimited fields were found."
