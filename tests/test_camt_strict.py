"""camt files that are cut off, flipped, mistyped or hostile: a clean error or only true transactions.

Also: amounts are exactly ISO 20022 decimals, a balance in another currency is noted instead of
compared, and whatever a corrupt file makes Python raise reaches the user as a ParseError.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import ParseError
from importer.parsers import ParseOptions, parse_file
from tests.damage import check_all, cuts, flips, letters_in_amounts
from tests.test_camt_reader import NS, balance, document, entry, read

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples" / "camt").glob("*.xml"))
GIRO = Path(__file__).resolve().parent.parent / "samples" / "camt" / "giro-2026-10.camt053.xml"
AMOUNTS = re.compile(rb"<Amt[^>]*>(?P<amount>[^<]+)</Amt>")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_cut_is_refused_or_reads_only_true_transactions(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, cuts(sample.read_bytes(), seed=53), ParseOptions())
    assert outcome["refused"] > 100


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_flipped_byte_is_refused_or_reads_only_true_transactions(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, flips(sample.read_bytes(), seed=54), ParseOptions())
    assert outcome["refused"] > 0


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_a_letter_inside_any_amount_is_refused(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, letters_in_amounts(sample.read_bytes(), AMOUNTS), ParseOptions())
    assert outcome["parsed"] == 0


def test_a_cut_off_camt_is_refused_with_the_line_and_column_where_it_stops(tmp_path: Path) -> None:
    path = tmp_path / "giro.xml"
    path.write_bytes(GIRO.read_bytes()[:2000])
    with pytest.raises(ParseError) as caught:
        parse_file(path, ParseOptions())
    assert (
        str(caught.value)
        == f"{path}, line 55: is not well-formed XML (no element found at column 31): the file is damaged or was cut off; download it again."
    )


@pytest.mark.parametrize("text", ["1e3", "12,50", "NaN", "Infinity", "1_000.00", "-30.00", "3O.00", ""])
def test_an_entry_amount_that_is_not_exactly_a_decimal_is_refused_naming_the_entry(tmp_path: Path, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        read(tmp_path, document(entry("30.00").replace(">30.00<", f">{text}<")))
    assert str(caught.value).endswith(
        f"camt.xml: the amount of entry 1 (REF-30.00) is not an amount. Expected an unsigned decimal such as 12.34 (the sign is CdtDbtInd), found {text!r}."
    )


def test_a_balance_or_detail_amount_that_is_not_a_decimal_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"the balance CLBD is not an amount\. .*found '70,00'\.$"):
        read(tmp_path, document(entry("30.00"), closing="70,00"))
    details = '<TxDtls><Amt Ccy="EUR">10.00</Amt></TxDtls><TxDtls><Amt Ccy="EUR">2O.00</Amt></TxDtls>'
    with pytest.raises(
        ParseError, match=r"the TxDtls Amt of entry 1 \(REF-30\.00\) is not an amount\. .*found '2O\.00'\.$"
    ):
        read(tmp_path, document(entry("30.00", details=details)))


def test_an_amount_without_credit_or_debit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ParseError,
        match=r"the amount of entry 1 \(REF-30\.00\) says neither CRDT nor DBIT\. Expected CdtDbtInd CRDT or DBIT, found 'DEBIT'\.$",
    ):
        read(tmp_path, document(entry("30.00", indicator="DEBIT")))


def test_a_closing_balance_in_another_currency_is_noted_not_compared(tmp_path: Path) -> None:
    # genkgo's fixtures close in SEK on a EUR account; that used to be "does not add up".
    text = document(entry("30.00")).replace(
        balance("CLBD", "70.00"), balance("CLBD", "999.00").replace('"EUR"', '"SEK"')
    )
    [statement] = read(tmp_path, text)
    assert (statement.opening_balance, statement.closing_balance, [t.amount for t in statement.transactions]) == (
        Decimal("100.00"),
        None,
        [Decimal("-30.00")],
    )
    assert statement.notes == (
        "the CLBD balance is in SEK, not in the statement's EUR: it was not checked against the transactions, and is not kept.",
    )


def test_entries_carry_their_own_currency_and_then_the_balances_are_not_checked(tmp_path: Path) -> None:
    text = document(entry("30.00") + entry("5.00").replace('Ccy="EUR"', 'Ccy="CHF"'), closing="12345.00")
    [statement] = read(tmp_path, text)
    assert [(t.amount, t.currency) for t in statement.transactions] == [
        (Decimal("-30.00"), "EUR"),
        (Decimal("-5.00"), "CHF"),
    ]
    assert statement.notes == (
        "Stmt 1 (S1): some booked entries are in CHF, not in the statement's EUR, so the balances were not checked against the transactions.",
    )


def test_deep_nesting_is_refused_cleanly(tmp_path: Path) -> None:
    deep = "<a>" * 50_000 + "</a>" * 50_000
    with pytest.raises(ParseError) as caught:
        read(tmp_path, document(entry("30.00", details=f"<TxDtls><AddtlTxInf>{deep}</AddtlTxInf></TxDtls>")))
    assert str(caught.value).endswith(
        "camt.xml: nests its XML elements more than 100 deep; no bank statement does, so the file is refused. Expected at most 100 levels, found '<a> at level 101'."
    )


def test_a_currency_that_is_not_iso_is_a_parse_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        read(
            tmp_path,
            document(entry("30.00")).replace("<Ccy>EUR</Ccy>", "<Ccy>ZZZ</Ccy>").replace('Ccy="EUR"', 'Ccy="ZZZ"'),
        )
    assert str(caught.value).endswith(
        "camt.xml: cannot be read as camt XML: currency: Value error, 'ZZZ' is not an ISO 4217 currency code. "
        "The file is damaged or is not a camt XML file; download it again from the bank."
    )


def test_a_date_that_is_not_iso_is_refused_naming_the_entry(tmp_path: Path) -> None:
    with pytest.raises(
        ParseError,
        match=r"camt\.xml: entry 1 \(REF-30\.00\) has an unreadable BookgDt\. Expected YYYY-MM-DD, found '2026-10-5'\.$",
    ):
        read(tmp_path, document(entry("30.00").replace("<BookgDt><Dt>2026-10-05", "<BookgDt><Dt>2026-10-5")))
    assert NS.startswith("urn:iso:std:iso:20022")
