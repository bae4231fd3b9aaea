"""The MT940 reader: statement lines, German ?NN details, SWIFT blocks, balances and MT942."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import BalanceError, ParseError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from importer.parsers.mt940.fields import details, statement_line


@pytest.mark.parametrize(
    ("text", "amount", "value_date", "entry_date", "bank_ref"),
    [
        ("2610011001D12,50NMSCNONREF", "-12.50", "2026-10-01", "2026-10-01", None),
        (
            "2610011001CR50990,05NTRFNONREF//0724710333343453",
            "50990.05",
            "2026-10-01",
            "2026-10-01",
            "0724710333343453",
        ),
        ("2612310102RC3,NCHGREF1//BANK2", "-3", "2026-12-31", "2027-01-02", "BANK2"),
        ("270102RD1500,00NTRFKREF", "1500.00", "2027-01-02", None, None),
    ],
)
def test_statement_lines(text: str, amount: str, value_date: str, entry_date: str | None, bank_ref: str | None) -> None:
    line = statement_line(text)
    assert line is not None
    assert (line.amount, str(line.value_date), line.entry_date and str(line.entry_date), line.bank_ref) == (
        Decimal(amount),
        value_date,
        entry_date,
        bank_ref,
    )


def test_german_subfields_split_name_iban_and_sepa_purpose() -> None:
    found = details(
        "166?00GUTSCHRIFT?100399?20EREF+E2E-7?21SVWZ+Rechnung 4?22711?31DE14508800500194785000?32KARL?33 KAUFMANN"
    )
    assert (found.payee, found.iban, found.purpose, found.booking_text, found.code, found.end_to_end) == (
        "KARL KAUFMANN",
        "DE14508800500194785000",
        "Rechnung 4711",
        "GUTSCHRIFT",
        "166",
        "E2E-7",
    )


def read(tmp_path: Path, text: str, **options: object) -> list[Statement]:
    path = tmp_path / "konto.sta"
    path.write_text(text, encoding="ascii")
    return parse_file(path, ParseOptions(**options))  # type: ignore[arg-type]


STATEMENT = (
    "{1:F01BANKDEFFAXXX0000000000}{2:O940BANKDEFFXXXXN}{4:\r\n:20:STARTUMSE\r\n:25:10020030/1234567\r\n:28C:5/1\r\n"
    ":60F:C261001EUR100,00\r\n:61:2610021002D30,00NMSCNONREF\r\n:86:105?00LASTSCHRIFT?20SVWZ+Strom Okt?32Stadtwerke\r\n"
    ":61:2610031003C5,NMSCNONREF\r\n:86:Free text\r\n continued\r\n:62F:C261003EUR{closing}\r\n-}\r\n"
)


def test_a_swift_wrapped_statement(tmp_path: Path) -> None:
    [statement] = read(tmp_path, STATEMENT.replace("{closing}", "75,00"))
    assert (statement.account, statement.currency, statement.opening_balance, statement.closing_balance) == (
        "10020030/1234567",
        "EUR",
        Decimal("100.00"),
        Decimal("75.00"),
    )
    assert [(t.date, t.amount, t.description) for t in statement.transactions] == [
        (dt.date(2026, 10, 2), Decimal("-30.00"), "Stadtwerke Strom Okt"),
        (dt.date(2026, 10, 3), Decimal("5"), "Free text continued"),
    ]


def test_balances_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        BalanceError,
        match=r"konto.sta: statement :20:STARTUMSE does not add up: opening balance 100.00 \+ transactions -25.00 = 75.00, but the closing balance is 76.00",
    ):
        read(tmp_path, STATEMENT.replace("{closing}", "76,00"))
    assert read(tmp_path, STATEMENT.replace("{closing}", "76,00"), check_balances=False)[0].closing_balance == Decimal(
        "76.00"
    )


def test_an_unreadable_statement_line_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        read(tmp_path, STATEMENT.replace("{closing}", "75,00").replace("2610021002D30,00", "26100D30"))
    assert str(caught.value).endswith(
        "konto.sta, line 6: the :61: statement line is not readable. Expected YYMMDD[MMDD]C|D|RC|RD amount type "
        "reference, e.g. 2610011001D12,50NTRFNONREF, found '26100D30NMSCNONREF'."
    )


def test_an_mt942_takes_its_currency_from_the_floor_limit(tmp_path: Path) -> None:
    text = ":20:INTRADAY\n:25:PL29114010810000267002001002\n:28C:1/1\n:34F:PLND0,00\n:13D:2610011200+0100\n:61:2610011001C0,01NTRFNONREF\n:86:test\n:90C:1PLN0,01\n"
    [statement] = read(tmp_path, text)
    assert (statement.currency, statement.opening_balance, [t.amount for t in statement.transactions]) == (
        "PLN",
        None,
        [Decimal("0.01")],
    )
