"""`rules suggest` groups by merchant, not by booking type, and uses the bank's own category column."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.core.models import Transaction
from importer.parsers import ParseOptions, parse_file
from importer.rules import RuleSet
from importer.rules.normalise import merchant, normalise_payee
from importer.rules.suggest import render_yaml, suggest
from tests.test_rules_text_field import _as_detected


def _rows(path: str) -> list[Transaction]:
    return [t for statement in parse_file(Path(path), ParseOptions()) for t in statement.transactions]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("POINT OF SALE PURCHASE LOBLAWS #1012", "LOBLAWS"),
        ("PREAUTHORIZED DEBIT HYDRO ONE", "HYDRO ONE"),
        ("FACTURE CARTE DU 06/10 MONOPRIX PARIS 15", "MONOPRIX PARIS"),
        ("PRLV SEPA EDF CLIENTS PARTICULIERS", "EDF CLIENTS"),
        ("VIR SEPA RECU /DE ACME FRANCE /MOTIF SALAIRE OCTOBRE", "ACME FRANCE"),
        ("CARD PAYMENT TO TESCO STORES 3297 ON 12-10", "TESCO STORES"),
        ("Kartenzahlung REWE SAGT DANKE. 41400673//Hamburg 2018-03-01T11:33:59", "REWE SAGT"),
        ("SEPA-Lastschrift Stadtwerke München Abschlag", "STADTWERKE MÜNCHEN"),
        ("THAMES WATER DD", "THAMES WATER"),
        ("Card transaction of 18.40 EUR issued by Cafe Central WIEN", "CAFE CENTRAL"),
        ("STARBUCKS STORE 05512 SAN FRANCISCO CA", "STARBUCKS STORE"),
        ("Lastschrift", ""),
    ],
)
def test_booking_types_and_noise_are_not_merchants(text: str, name: str) -> None:
    assert merchant(text) == name


def test_a_line_that_is_only_a_booking_type_still_has_a_report_key() -> None:
    assert normalise_payee("KARTENZAHLUNG") == "KARTENZAHLUNG"


def test_canadian_rows_are_grouped_by_merchant_not_by_bank_prefix() -> None:
    found = suggest(RuleSet(), _rows("samples/csv/cibc/cibc.csv"), [])
    assert [s.key for s in found] == ["HYDRO ONE", "LOBLAWS", "PAYROLL DEPOSIT", "ROGERS", "SMITH"]
    assert [s.condition for s in found[:2]] == [{"contains": "HYDRO ONE"}, {"contains": "LOBLAWS"}]


def test_a_german_export_is_grouped_by_payee_when_the_description_is_the_booking_type(tmp_path: Path) -> None:
    keys = [s.key for s in suggest(RuleSet(), _as_detected(tmp_path), [])]
    assert "KARTENZAHLUNG" not in keys and "LASTSCHRIFT" not in keys
    assert keys[:4] == ["BADENOVA AG", "BEISPIEL SOFTWARE", "BEITRAGSSERVICE ARD", "DM-DROGERIE MARKT"]
    assert "HAUSVERWALTUNG MÜLLER" in keys and "REWE MARKT" in keys


def test_suggested_ids_spell_out_umlauts(tmp_path: Path) -> None:
    found = [s for s in suggest(RuleSet(), _as_detected(tmp_path), []) if s.key == "HAUSVERWALTUNG MÜLLER"]
    text = render_yaml(found, set())
    assert "  - id: suggested-hausverwaltung-mueller\n" in text
    assert (
        '      - {"description": "FOLGELASTSCHRIFT", "amount": "-950.00", "payee": "Hausverwaltung Müller GmbH", '
        '"memo": "Miete November Wohnung 3 OG"}'
    ) in text


def test_the_banks_category_column_is_the_evidence_without_history() -> None:
    found = suggest(RuleSet(), _rows("samples/csv/bnp-paribas/E1234567.csv"), [])
    by_key = {s.key: s for s in found}
    assert by_key["MONOPRIX PARIS"].category == "Alimentation"
    assert by_key["SNCF INTERNET"].category == "Transports"
    assert render_yaml([by_key["MONOPRIX PARIS"]], set()).splitlines()[3:] == [
        "  # 1 transaction(s) of 'MONOPRIX PARIS'",
        "  - id: suggested-monoprix-paris",
        '    when: {text: {contains: "MONOPRIX PARIS"}}',
        '    set: {category: "Alimentation"}  # the bank\'s Categorie operation column says so for 1 of 1',
        "    examples:",
        '      - {"description": "FACTURE CARTE DU 06/10 MONOPRIX PARIS 15", "amount": "-46.82", "memo": "Alimentation"}',
    ]
