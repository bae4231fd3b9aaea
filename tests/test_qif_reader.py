"""The QIF reader: sections, accounts, Quicken dates, splits, and refusing to guess."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import AmbiguousDateError, InputError, ParseError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file

BANK = """!Account
NEveryday
TBank
^
!Type:Bank
D1/ 5'26
T1,234.50
PEmployer
^
D12/31' 5
T-20.00
PShop
MTwo things
SFood
EBread
$-5.00
SHome
$-15.00
^
"""


def read(tmp_path: Path, text: str, **options: object) -> list[Statement]:
    path = tmp_path / "export.qif"
    path.write_text(text, encoding="utf-8")
    return parse_file(path, ParseOptions(**options))  # type: ignore[arg-type]


def test_apostrophe_years_amounts_and_splits(tmp_path: Path) -> None:
    [statement] = read(tmp_path, BANK, currency="USD")
    first, second = statement.transactions
    assert (statement.account, first.date, first.amount) == ("Everyday", dt.date(2026, 1, 5), Decimal("1234.50"))
    assert (second.date, second.description, second.notes) == (
        dt.date(2005, 12, 31),
        "Shop Two things",
        "splits: Food (Bread) -5.00; Home -15.00",
    )


def test_bank_card_and_cash_sections_are_separate_statements(tmp_path: Path) -> None:
    text = (
        BANK
        + "!Account\nNVisa\nTCCard\n^\n!Type:CCard\nD1/7'26\nT-9.99\nPStream\n^\n!Type:Cash\nD1/8'26\nT-2.00\nPKiosk\n^\n"
    )
    statements = read(tmp_path, text, currency="EUR")
    assert [(s.account, len(s.transactions)) for s in statements] == [("Everyday", 2), ("Visa", 1), ("Visa", 1)]


def test_quicken_opening_balance_is_the_statement_opening_balance(tmp_path: Path) -> None:
    text = "!Type:Bank\nD01/01/2026\nT250.00\nCX\nPOpening Balance\nL[Everyday]\n^\nD01/13/2026\nT-5.00\nPCafe\n^\n"
    [statement] = read(tmp_path, text, currency="USD", account="Everyday")
    assert (statement.opening_balance, [t.payee for t in statement.transactions]) == (Decimal("250.00"), ["Cafe"])


def test_ambiguous_dates_are_refused_naming_two_records_and_the_flag(tmp_path: Path) -> None:
    text = "!Type:Bank\nD01/02/2026\nT-1.00\nPA\n^\nD03/04/2026\nT-2.00\nPB\n^\n"
    with pytest.raises(AmbiguousDateError) as caught:
        read(tmp_path, text, currency="USD", account="X")
    assert str(caught.value).endswith(
        "export.qif: the dates read both as %d/%m/%Y and as %m/%d/%Y (line 2: '01/02/2026', line 6: '03/04/2026'); "
        "pass --date-format %d/%m/%Y or --date-format %m/%d/%Y."
    )
    [statement] = read(tmp_path, text, currency="USD", account="X", date_format="%m/%d/%Y")
    assert statement.transactions[1].date == dt.date(2026, 3, 4)


def test_without_currency_the_file_is_refused_and_without_account_too(tmp_path: Path) -> None:
    text = "!Type:Bank\nD2026-01-05\nT-1.00\nPA\n^\n"
    with pytest.raises(
        ParseError,
        match=r"export\.qif: the file does not say its currency: pass --currency CODE, or set `currency:` in importer\.yaml \(for every file that names none\) or in its bank profile\.$",
    ):
        read(tmp_path, text, account="Giro")
    assert read(tmp_path, text, account="Giro", currency="eur")[0].transactions[0].currency == "EUR"
    with pytest.raises(
        InputError, match=r"the file names no account \(it has no !Account record\); pass --account NAME\.$"
    ):
        read(tmp_path, text, currency="EUR")
