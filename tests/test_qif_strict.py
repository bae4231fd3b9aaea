"""QIF files that are cut off, flipped or mistyped: a clean error or only true transactions.

Also: a record whose "^" never comes is a cut-off file (TruncatedError), amounts and dates are
exactly what QIF writes or the file is refused, and a currency is never invented.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import ParseError, TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from tests.damage import check_all, cuts, flips, letters_in_amounts

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples" / "qif").glob("*.qif"))
CHECKING = Path(__file__).resolve().parent.parent / "samples" / "qif" / "checking-2026-10.qif"
USD = ParseOptions(currency="USD")
AMOUNTS = re.compile(rb"(?m)^[TU$](?P<amount>-?[\d,.]+)\r?$")  # not "TBank", an !Account type
NO_CURRENCY = "the file does not say its currency: pass --currency CODE, or set `currency:` in importer.yaml (for every file that names none) or in its bank profile."


def read(tmp_path: Path, text: str, **options: object) -> list[Statement]:
    path = tmp_path / "export.qif"
    path.write_text(text, encoding="utf-8")
    return parse_file(path, ParseOptions(**options))  # type: ignore[arg-type]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_cut_is_refused_or_reads_only_true_transactions(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, cuts(sample.read_bytes(), seed=1), USD)
    assert outcome["refused"] > 0 and outcome["parsed"] > 0  # a cut right after a "^" reads the records before it


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_flipped_byte_is_refused_or_reads_only_true_transactions(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, flips(sample.read_bytes(), seed=2), USD)
    assert outcome["refused"] > 0


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_a_letter_inside_any_amount_is_refused(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, letters_in_amounts(sample.read_bytes(), AMOUNTS, letters=b"Xe"), USD)
    assert outcome["parsed"] == 0


def test_a_last_record_without_its_caret_is_truncated_with_the_complete_records_as_partial(tmp_path: Path) -> None:
    text = CHECKING.read_text(encoding="utf-8").rstrip("\n").removesuffix("^")
    with pytest.raises(TruncatedError) as caught:
        read(tmp_path, text, currency="USD")
    assert str(caught.value).endswith(
        'export.qif, line 54: the file ends inside a record: it has no closing "^", so the download was probably cut off. '
        "Download it again, or pass --allow-partial to import the complete records. Expected a line with ^ ending the record, "
        "found 'the end of the file'."
    )
    checking, visa = caught.value.partial
    whole = parse_file(CHECKING, USD)

    def rows(statement: Statement) -> list[tuple[object, ...]]:
        return [(t.date, t.amount, t.currency, t.description) for t in statement.transactions]

    assert rows(checking) == rows(whole[0]) and rows(visa) == rows(whole[1])[:-1]
    assert [t.amount for t in visa.transactions] == [Decimal("-15.99"), Decimal("-48.10")]


def test_a_header_inside_a_record_is_refused_rather_than_dropping_the_record(tmp_path: Path) -> None:
    with pytest.raises(
        ParseError,
        match=r"export\.qif, line 4: the record that starts on line 2 has no closing \"\^\" before the header on line 4\.",
    ):
        read(
            tmp_path,
            "!Type:Bank\nD01/05/2026\nT-1.00\n!Type:Cash\nD01/06/2026\nT-2.00\n^\n",
            currency="EUR",
            account="A",
        )


def test_two_dates_in_one_record_mean_a_lost_caret_and_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"line 4: the record that starts on line 2 has a second D line"):
        read(tmp_path, "!Type:Bank\nD01/05/2026\nT-1.00\nD01/06/2026\nT-2.00\n^\n", currency="EUR", account="A")


@pytest.mark.parametrize(
    ("line", "bad"),
    [
        ("T-84.27", "T-84.2O"),
        ("T-84.27", "T-84.27 USD"),
        ("T-84.27", "T-8,4.27"),
        ("T-84.27", "T1e3"),
        ("T-84.27", "T-"),
        ("$-58.15", "$-58.1S"),
        ("T-84.27", "TNaN"),
    ],
)
def test_an_amount_that_is_not_exactly_a_qif_amount_is_refused_naming_line_and_text(
    tmp_path: Path, line: str, bad: str
) -> None:
    text = CHECKING.read_text(encoding="utf-8").replace(line, bad, 1)
    with pytest.raises(ParseError) as caught:
        read(tmp_path, text, currency="USD")
    number = next(i for i, row in enumerate(text.splitlines(), start=1) if row == bad)
    assert f"export.qif, line {number}: the amount ({bad[0]} line) is not a number." in str(caught.value)
    assert f"found {bad[1:]!r}" in str(caught.value)


def test_the_decimal_mark_is_the_files_not_each_amounts(tmp_path: Path) -> None:
    comma = "!Type:Bank\nD05.01.2026\nT-1.234,56\nPA\n^\nD06.01.2026\nT1.234\nPB\n^\n"
    assert [t.amount for t in read(tmp_path, comma, currency="EUR", account="A")[0].transactions] == [
        Decimal("-1234.56"),
        Decimal("1234"),
    ]
    with pytest.raises(
        ParseError, match=r"line 7: the amounts use both \"\.\" and \",\" as decimal mark.*found '12\.50'"
    ):
        read(tmp_path, comma.replace("T1.234", "T12.50"), currency="EUR", account="A")


@pytest.mark.parametrize("bad", ["D10/14'26x", "D1 0/14'26", "D10/14/2026 12:00", "D2026-1O-14", "D10/32'26"])
def test_a_date_that_is_not_exactly_a_qif_date_is_refused_naming_line_and_text(tmp_path: Path, bad: str) -> None:
    text = CHECKING.read_text(encoding="utf-8").replace("D10/14'26", bad, 1)
    with pytest.raises(ParseError) as caught:
        read(tmp_path, text, currency="USD")
    assert "export.qif, line 19: " in str(caught.value) and bad[1:] in str(caught.value)


def test_quicken_padding_after_a_separator_is_still_read(tmp_path: Path) -> None:
    statement = read(
        tmp_path, CHECKING.read_text(encoding="utf-8").replace("D10/14'26", "D10/14/ 2026"), currency="USD"
    )[0]
    assert statement.transactions[2].date == dt.date(2026, 10, 14)


def test_without_a_currency_the_sample_is_refused_and_with_one_it_reads(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        parse_file(CHECKING, ParseOptions())
    assert str(caught.value) == f"{CHECKING}: {NO_CURRENCY}"
    statements = parse_file(CHECKING, ParseOptions(currency="cad"))
    assert {t.currency for s in statements for t in s.transactions} == {"CAD"} == {s.currency for s in statements}


def test_a_currency_the_user_mistyped_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ParseError,
        match=r"checking-2026-10\.qif: the currency is not an ISO 4217 code\. Expected a code such as EUR, found 'EURO'\.$",
    ):
        parse_file(CHECKING, ParseOptions(currency="EURO"))


OPENING = "!Type:Bank\nD2/10'2020\nT100.00\nP{payee}\nL[Checking]\n^\nD2/14'2020\nT-67.50\nPT-Mobile\n^\n"


def test_an_opening_balance_is_a_balance_not_a_transaction(tmp_path: Path) -> None:
    [statement] = read(tmp_path, OPENING.format(payee="Opening Balance"), currency="USD", account="Checking")
    assert statement.opening_balance == Decimal("100.00")
    assert [t.amount for t in statement.transactions] == [Decimal("-67.50")]


def test_a_misspelled_opening_balance_is_refused_not_imported_as_money(tmp_path: Path) -> None:
    # A flipped byte once turned the record into a transaction of money that never moved.
    with pytest.raises(
        ParseError, match=r"line 4: an opening-balance record's payee is misspelled.*found 'Opening Balanc\xe5'"
    ):
        read(tmp_path, OPENING.format(payee="Opening Balanc\xe5"), currency="USD", account="Checking")
