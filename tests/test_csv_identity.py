"""Which account a CSV export is of (`Statement.bank_account_id`), and what its lines above the
table and its text columns must not cost: the table, its payee and its description."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.accounts import normalise_identifier
from importer.core.errors import ConfigError, ParseError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from importer.parsers.csv.detect import detect
from importer.parsers.csv.profiles import load_profile
from tests.golden import ROOT

ING_DE = ROOT / "samples/csv/ing-de/Umsatzanzeige_DE19500105175418276390_20261101.csv"
ING_DE_IBAN = "DE19 5001 0517 5418 2763 90"

# A German export no profile knows: the merchant, the kind of booking and the purpose apart.
GERMAN_TABLE = (
    "Buchungstag;Valuta;Empfänger;Buchungsart;Verwendungszweck;Betrag;Währung\n"
    "27.10.2026;27.10.2026;REWE Markt GmbH;Kartenzahlung;REWE SAGT DANKE 44170032;-62,37;EUR\n"
    "14.10.2026;14.10.2026;Stadtwerke Köln GmbH;Lastschrift;Abschlag Strom Vertragskonto 88120457;-71,00;EUR\n"
    "01.10.2026;01.10.2026;Muster Software GmbH;Überweisung;Gehalt Oktober 2026;3.250,00;EUR\n"
)
GERMAN_ROWS = [
    (date(2026, 10, 27), Decimal("-62.37"), "REWE Markt GmbH", "REWE SAGT DANKE 44170032", "Kartenzahlung"),
    (
        date(2026, 10, 14),
        Decimal("-71.00"),
        "Stadtwerke Köln GmbH",
        "Abschlag Strom Vertragskonto 88120457",
        "Lastschrift",
    ),
    (date(2026, 10, 1), Decimal("3250.00"), "Muster Software GmbH", "Gehalt Oktober 2026", "Überweisung"),
]


def _parse(tmp_path: Path, text: str, name: str = "export.csv", **options: object) -> Statement:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    [statement] = parse_file(path, ParseOptions(**options))  # type: ignore[arg-type]
    return statement


def _rows(statement: Statement) -> list[tuple[date, Decimal, str | None, str, str | None]]:
    """Each row as (date, amount, payee, purpose, memo); the description is "payee purpose"."""
    rows = []
    for t in statement.transactions:
        assert t.payee is not None and t.description.startswith(t.payee + " ")
        rows.append((t.date, t.amount, t.payee, t.description.removeprefix(t.payee + " "), t.memo))
    return rows


# -- the preamble --------------------------------------------------------------------------------


def test_the_iban_line_above_an_ing_de_table_is_the_account() -> None:
    [statement] = parse_file(ING_DE, ParseOptions())
    assert (statement.profile, statement.bank_account_id) == ("ing-de", ING_DE_IBAN)
    assert len(statement.transactions) == 8
    first = statement.transactions[0]
    assert (first.date, first.amount, first.payee, first.memo, first.balance) == (
        date(2026, 10, 28),
        Decimal("-58.00"),
        "DB Vertrieb GmbH",
        "Lastschrift",
        Decimal("3272.36"),
    )
    assert first.description == "DB Vertrieb GmbH Deutschlandticket November 2026"


@pytest.mark.parametrize(
    ("preamble", "expected"),
    [
        ("IBAN;DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
        ("Konto;DE89370400440532013000", "DE89370400440532013000"),
        ("Kontonummer: 1234567", "1234567"),
        ("Account: 12-34-56 12345678", "12-34-56 12345678"),
        ("Account;12-34-56;12345678;GBP", "12-34-56 12345678"),
        ("Rekeningnummer;NL20INGB0001234567", "NL20INGB0001234567"),
        ("Numéro de compte : 00012345678", "00012345678"),
        ("Umsätze Girokonto DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
        # The account number the IBAN contains is that account, not a second one.
        ("Kontonummer;5418276390\nIBAN;DE19 5001 0517 5418 2763 90", ING_DE_IBAN),
    ],
)
def test_a_labelled_account_or_an_iban_above_the_table_is_the_account(
    tmp_path: Path, preamble: str, expected: str
) -> None:
    statement = _parse(tmp_path, f"{preamble}\nKunde;Erika Mustermann\n\n{GERMAN_TABLE}")
    assert statement.bank_account_id == expected
    assert statement.profile is None and len(statement.transactions) == 3


@pytest.mark.parametrize(
    "preamble",
    [
        "IBAN;DE89 3704 0044 0532 0130 00\nGegenkonto;DE19 5001 0517 5418 2763 90",  # two IBANs: which?
        "Konto;1234567\nKonto;7654321",
        "IBAN;DE88 3704 0044 0532 0130 00",  # the check digits fail: a typo, not an account
        "Konto;Girokonto",  # a name, not a number
        "Kunde;Erika Mustermann\nKundennummer;12345678",  # a customer number is no account
    ],
)
def test_no_or_several_candidates_give_no_account(tmp_path: Path, preamble: str) -> None:
    statement = _parse(tmp_path, f"{preamble}\n{GERMAN_TABLE}")
    assert statement.bank_account_id is None and len(statement.transactions) == 3


def test_importer_detect_shows_where_the_account_was_found_or_why_none_was(tmp_path: Path) -> None:
    layout = detect(ING_DE, ParseOptions())
    assert f"account: {ING_DE_IBAN} (above the table: line 3, after 'IBAN')" in layout.evidence
    path = tmp_path / "two.csv"
    path.write_text(
        "IBAN;DE89 3704 0044 0532 0130 00\nGegenkonto;DE19 5001 0517 5418 2763 90\n" + GERMAN_TABLE, encoding="utf-8"
    )
    assert detect(path, ParseOptions()).evidence[-1] == (
        "account: none taken, the lines above the table name several: DE89 3704 0044 0532 0130 00 "
        f"(line 1, after 'IBAN'), {ING_DE_IBAN} (line 2, an IBAN)"
    )


def test_a_profile_names_an_unusual_account_line(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "depotbank.yaml").write_text(
        "name: depotbank\nbank: Depotbank\nheader: [Buchungstag, Empfänger, Verwendungszweck, Betrag]\n"
        "currency: EUR\naccount_line: '^Depot;Nr\\. (\\d+)'\n"
        "columns: {date: Buchungstag, payee: Empfänger, description: [Empfänger, Verwendungszweck], amount: Betrag}\n",
        encoding="utf-8",
    )
    text = "Depot;Nr. 4471100\nKonto;Verrechnungskonto 1234567\n" + GERMAN_TABLE
    statement = _parse(tmp_path, text, profile_dirs=(profiles,))
    assert (statement.profile, statement.bank_account_id) == ("depotbank", "4471100")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("account_line: 'IBAN;(.*);(.*)'", "needs exactly one"),
        ("account_line: 'IBAN;(DE'", "not a regular expression"),
        ("preamble_account: IBAN", "preamble_account: Extra inputs are not permitted"),
    ],
)
def test_a_bad_account_line_is_refused_when_the_profile_loads(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nbank: Bad\n{line}\ncolumns: {{date: 0, amount: 1}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as caught:
        load_profile(path)
    assert "bad.yaml" in str(caught.value)


# -- columns ---------------------------------------------------------------------------------------


def test_an_own_account_column_is_the_account_and_a_counterparty_iban_column_is_not(tmp_path: Path) -> None:
    text = (
        "Auftragskonto;Buchungstag;Empfänger;Verwendungszweck;IBAN;Betrag\n"
        "DE89370400440532013000;27.10.2026;REWE Markt GmbH;REWE SAGT DANKE;DE02120300000000202051;-62,37\n"
        "DE89370400440532013000;14.10.2026;Stadtwerke Köln GmbH;Abschlag Strom;DE44680501010002051234;-71,00\n"
    )
    statement = _parse(tmp_path, text, currency="EUR")
    assert statement.bank_account_id == "DE89370400440532013000"
    assert [t.raw["IBAN"] for t in statement.transactions] == ["DE02120300000000202051", "DE44680501010002051234"]


def test_a_column_of_counterparty_ibans_alone_is_not_the_account(tmp_path: Path) -> None:
    text = (
        "Buchungstag;Empfänger;Verwendungszweck;IBAN;Betrag\n"
        "27.10.2026;REWE Markt GmbH;REWE SAGT DANKE;DE02120300000000202051;-62,37\n"
        "14.10.2026;Stadtwerke Köln GmbH;Abschlag Strom;DE44680501010002051234;-71,00\n"
        "09.10.2026;Stadtwerke Köln GmbH;Abschlag Wasser;DE44680501010002051234;-23,00\n"
    )
    statement = _parse(tmp_path, text, currency="EUR")
    assert statement.bank_account_id is None
    assert [t.payee for t in statement.transactions] == [
        "REWE Markt GmbH",
        "Stadtwerke Köln GmbH",
        "Stadtwerke Köln GmbH",
    ]


def test_an_unnamed_column_of_one_iban_is_the_account(tmp_path: Path) -> None:
    # ASN Bank's export has no header; its second column is the account's own IBAN on every row.
    text = (
        "17-06-2022,NL20INGB0001234567,NL69ABNA0417164300,Optimal BV,EUR,503.15\n"
        "18-06-2022,NL20INGB0001234567,NL47BUNQ2025181418,DE VOLKSKRANT B V,EUR,-22.95\n"
    )
    statement = _parse(tmp_path, text)
    assert statement.bank_account_id == "NL20INGB0001234567"


def test_a_dkb_export_whose_only_iban_column_is_the_counterparty_names_no_account() -> None:
    # Its "Konto" line holds an IBAN whose check digits fail (the sample's is made up).
    [statement] = parse_file(ROOT / "samples/csv/dkb/26-10-31_Umsatzliste_Girokonto.csv", ParseOptions())
    assert statement.bank_account_id is None


def test_the_sparkasse_auftragskonto_is_the_account() -> None:
    [statement] = parse_file(ROOT / "samples/csv/sparkasse/sparkasse-giro-2026-10.csv", ParseOptions())
    assert statement.bank_account_id == "DE12500105170648489890"


# -- the table below a metadata preamble ----------------------------------------------------------


@pytest.mark.parametrize(
    "preamble",
    [
        "Zeitraum: 01.10.2026 - 31.10.2026",
        "Zeitraum;01.10.2026 - 31.10.2026",
        "Zeitraum;01.10.2026;31.10.2026",
        "Kontostand vom 31.10.2026: 1.234,56 EUR",
        "Kontostand vom 31.10.2026:;1.234,56 EUR",
        "Kontostand vom;31.10.2026;1.234,56;EUR",
        "Saldo;1.234,56;EUR",
        "Exported 2026-11-01 08:15:02",
        "Export;2026-11-01 08:15:02",
        "Sortierung: Datum absteigend",
        "Sortierung;Datum absteigend",
        "Umsatzanzeige;Datei erstellt am: 01.11.2026 08:15\n\nIBAN;DE19 5001 0517 5418 2763 90\n"
        "Zeitraum;01.10.2026 - 31.10.2026\nKontostand vom;31.10.2026;1.234,56;EUR\n\nSortierung;Datum absteigend\n",
    ],
)
def test_a_metadata_preamble_leaves_the_table_whole(tmp_path: Path, preamble: str) -> None:
    statement = _parse(tmp_path, f"{preamble}\n{GERMAN_TABLE}")
    assert _rows(statement) == GERMAN_ROWS
    assert list(statement.transactions[0].raw) == [
        "Buchungstag",
        "Valuta",
        "Empfänger",
        "Buchungsart",
        "Verwendungszweck",
        "Betrag",
        "Währung",
    ]
    assert [t.source.line for t in statement.transactions] == [n + preamble.count("\n") + 3 for n in range(3)]


# -- payee, purpose and the kind of booking in detected layouts -----------------------------------


def test_a_detected_german_export_gives_the_merchant_as_payee(tmp_path: Path) -> None:
    statement = _parse(tmp_path, GERMAN_TABLE)
    assert statement.profile is None
    assert _rows(statement) == GERMAN_ROWS


def test_a_detected_dutch_export_gives_the_counterparty_as_payee(tmp_path: Path) -> None:
    text = (
        "Datum,Rekening,Naam tegenrekening,Tegenrekening,Mutatiesoort,Omschrijving,Bedrag\n"
        "2026-10-27,NL20INGB0001234567,Albert Heijn 1403,NL69ABNA0417164300,Betaalautomaat,AH to go Utrecht CS,-12.85\n"
        "2026-10-25,NL20INGB0001234567,Eneco Services,NL11RABO0104955555,Incasso,Termijnbedrag oktober 88120457,-96.00\n"
        "2026-10-24,NL20INGB0001234567,Werkgever BV,NL47BUNQ2025181418,Overschrijving,Salaris oktober,2850.00\n"
    )
    statement = _parse(tmp_path, text, currency="EUR")
    assert statement.bank_account_id == "NL20INGB0001234567"
    assert _rows(statement) == [
        (date(2026, 10, 27), Decimal("-12.85"), "Albert Heijn 1403", "AH to go Utrecht CS", "Betaalautomaat"),
        (date(2026, 10, 25), Decimal("-96.00"), "Eneco Services", "Termijnbedrag oktober 88120457", "Incasso"),
        (date(2026, 10, 24), Decimal("2850.00"), "Werkgever BV", "Salaris oktober", "Overschrijving"),
    ]


def test_the_kind_of_booking_describes_rows_that_have_no_other_text(tmp_path: Path) -> None:
    statement = _parse(
        tmp_path, "Date,Type,Amount\n2026-10-27,CARD_PAYMENT,-12.85\n2026-10-25,TOPUP,100.00\n", currency="EUR"
    )
    assert [(t.description, t.memo) for t in statement.transactions] == [("CARD_PAYMENT", None), ("TOPUP", None)]


# -- end to end ------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_ing_de_sample_lands_in_the_account_its_iban_names_once(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    first = _cli("run", str(ING_DE.relative_to(ROOT)), "--state", state, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["totals"]["new"] == 8
    listed = _cli("accounts", "list", "--json", "--state", state)
    assert listed.returncode == 0, listed.stderr
    # The repository's importer.yaml declares the other samples' accounts, with no rows yet.
    [account] = [a for a in json.loads(listed.stdout) if a["count"]]
    assert [normalise_identifier(i) for i in account["identifiers"]] == ["DE19500105175418276390"]
    assert account["count"] == 8 and account["currency"] == "EUR"
    second = _cli("run", str(ING_DE.relative_to(ROOT)), "--state", state, "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["totals"]["new"] == 0


def test_booking_text_is_the_description_when_no_purpose_column_holds_it(tmp_path: Path) -> None:
    # Commerzbank: "Umsatzart" is the kind, "Buchungstext" the whole text; the IBAN column is the
    # account's own (its name says so only in German: "Auftraggeberkonto").
    text = (
        "Buchungstag;Wertstellung;Umsatzart;Buchungstext;Betrag;Währung;IBAN Auftraggeberkonto\n"
        "02.03.2026;02.03.2026;Lastschrift;Kartenzahlung REWE SAGT DANKE. 41400673//Hamburg;-17,22;EUR;DE89370400440532013000\n"
        "01.03.2026;01.03.2026;Lastschrift;Stadtwerke Hamburg Abschlag 4471;-71,00;EUR;DE89370400440532013000\n"
    )
    statement = _parse(tmp_path, text)
    assert statement.bank_account_id == "DE89370400440532013000"
    assert [(t.description, t.memo) for t in statement.transactions] == [
        ("Kartenzahlung REWE SAGT DANKE. 41400673//Hamburg", "Lastschrift"),
        ("Stadtwerke Hamburg Abschlag 4471", "Lastschrift"),
    ]


def test_a_named_account_column_of_one_value_is_the_account_even_with_failing_check_digits(tmp_path: Path) -> None:
    # KBC's export, anonymised: "Rekeningnummer" holds one (made-up) IBAN on every row.
    text = (
        "Rekeningnummer;Naam;Datum;Omschrijving;Bedrag;Munt\n"
        "BE11123456789012;SMITH JOHN;28/02/2026;BIJDRAGE FEBRUARI KBC-PLUSREKENING;-3,40;EUR\n"
        "BE11123456789012;SMITH JOHN;27/02/2026;OVERSCHRIJVING HUUR;-650,00;EUR\n"
    )
    assert _parse(tmp_path, text).bank_account_id == "BE11123456789012"


def test_a_labelled_metadata_line_above_a_headerless_table_is_not_a_ragged_row(tmp_path: Path) -> None:
    # Without a header, a line above the table with a date and an amount was taken for a data row
    # cut short; one that begins with a label, where every row begins with a date, is metadata.
    text = (
        "Kontostand vom;31.10.2026;1.234,56;EUR\nZeitraum;01.10.2026;31.10.2026\n"
        "27.10.2026;REWE Markt GmbH;REWE SAGT DANKE 44170032;-62,37;EUR\n"
        "14.10.2026;Stadtwerke Köln GmbH;Abschlag Strom;-71,00;EUR\n"
        "01.10.2026;Muster Software GmbH;Gehalt Oktober 2026;3.250,00;EUR\n"
    )
    statement = _parse(tmp_path, text)
    assert [(t.source.line, t.date, t.amount, t.description) for t in statement.transactions] == [
        (3, date(2026, 10, 27), Decimal("-62.37"), "REWE SAGT DANKE 44170032"),
        (4, date(2026, 10, 14), Decimal("-71.00"), "Abschlag Strom"),
        (5, date(2026, 10, 1), Decimal("3250.00"), "Gehalt Oktober 2026"),
    ]  # the longest text column, found from the cells (it used to be left empty)


def test_a_ragged_first_row_of_a_headerless_table_is_still_refused(tmp_path: Path) -> None:
    text = (
        "2026-10-27,REWE Markt GmbH,-62.37,EUR\n"
        "2026-10-14,Stadtwerke Köln GmbH,Abschlag Strom,-71.00,EUR\n"
        "2026-10-01,Muster Software GmbH,Gehalt Oktober 2026,3250.00,EUR\n"
        "2026-10-01,Muster Software GmbH,Bonus Oktober 2026,250.00,EUR\n"
    )
    with pytest.raises(ParseError, match="this row has 4 fields where the table has 5") as caught:
        _parse(tmp_path, text)
    assert caught.value.line == 1
