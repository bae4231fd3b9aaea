"""`text` (description, payee and memo, a line each), the default field, and `foreign`.

A European export read with a detected layout puts the booking type in the description and the
merchant in the payee and memo: rules on the description alone leave those rows uncategorised.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.core.errors import ConfigError
from importer.core.models import Transaction
from importer.parsers import ParseOptions, parse_file
from importer.rules import RuleSet, load_rules
from importer.rules.lint import warnings
from tests.rules_support import fired, rules_from, txn, write

SPARKASSE = Path("samples/csv/sparkasse/sparkasse-giro-2026-10.csv")
# How a detected layout reads the Sparkasse export: the booking type is the description.
AS_DETECTED = """
name: sparkasse-as-detected
bank: Sparkasse
country: DE
header: [Auftragskonto, Buchungstag, Valutadatum, Buchungstext, Verwendungszweck, Betrag, Waehrung]
encoding: cp1252
delimiter: ";"
date_format: "%d.%m.%y"
decimal: ","
thousands: "."
columns:
  date: Buchungstag
  description: Buchungstext
  payee: Beguenstigter/Zahlungspflichtiger
  memo: Verwendungszweck
  amount: Betrag
  currency: Waehrung
"""


def _categories(rules: RuleSet, txns: list[Transaction]) -> list[str | None]:
    return [
        next((rules.rules[i].actions.category for i in chain if rules.rules[i].actions.category), None)
        for chain in rules.chains(txns)
    ]


def _as_detected(tmp_path: Path) -> list[Transaction]:
    write(tmp_path, "sparkasse-as-detected.yaml", AS_DETECTED)
    options = ParseOptions(profile="sparkasse-as-detected", profile_dirs=(tmp_path,))
    return [t for statement in parse_file(SPARKASSE, options) for t in statement.transactions]


def test_the_shipped_rules_categorise_a_german_export_whose_description_is_the_booking_type(tmp_path: Path) -> None:
    txns = _as_detected(tmp_path)
    assert [t.description for t in txns[:3]] == ["FOLGELASTSCHRIFT", "KARTENZAHLUNG", "LASTSCHRIFT"]
    rules = load_rules([Path("rules")], home_currency="EUR")
    # Before: what rules reading only the description see.
    alone = [t.model_copy(update={"payee": None, "memo": None}) for t in txns]
    assert _categories(rules, alone) == [None, None, None, None, None, "Income:Salary", None, None, "Cash", None]
    # After: `text` reads the payee and the Verwendungszweck too: 2 of 10 categorised become 10 of 10.
    assert _categories(rules, txns) == [
        "Housing:Rent",
        "Food:Groceries",
        "Housing:Utilities",
        "Shopping:Drugstore",
        "Income:Refunds",
        "Income:Salary",
        "Food:Groceries",
        "Housing:Phone",
        "Cash",
        "Transfer:Savings",
    ]
    assert rules.chains(txns) == [tuple(rules.rules.index(r) for r in rules.chain_naive(t)) for t in txns]


def test_text_is_description_payee_and_memo_and_its_line_tests_hold_per_line(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - {id: card, when: {text: {equals: kartenzahlung}}, set: {tags: [card]}, continue: true}
          - {id: rewe-first, when: {text: {regex: '^rewe\\b'}}, set: {category: Groceries}}
          - {id: db, when: {text: {startswith: db fernverkehr}}, set: {category: Rail}}
          - {id: anywhere, when: {text: Miete}, set: {category: Rent}}
    """,
    )
    assert fired(rules, txn("KARTENZAHLUNG", payee="REWE Markt", memo="REWE SAGT DANKE 4140")) == ["card", "rewe-first"]
    assert fired(rules, txn("Lastschrift", payee="Hausverwaltung", memo="Miete November")) == ["anywhere"]
    assert fired(rules, txn("SEPA-Lastschrift", memo="DB Fernverkehr AG Fahrkarte")) == ["db"]
    # Each test holds within one line: a needle never spans description and payee.
    assert fired(rules, txn("KARTENZAHLUNG EDEKA", payee="DB")) == []


def test_a_test_without_a_field_reads_text(tmp_path: Path) -> None:
    rules = rules_from(
        tmp_path,
        """
        rules:
          - {id: one, when: rewe, set: {category: Groceries}}
          - {id: list, when: [aral, shell], set: {category: Fuel}}
          - {id: regex, when: {regex: '^db '}, set: {category: Rail}}
          - {id: nested, when: {any: [sparplan, tagesgeld], amount: outflow}, set: {category: Savings}}
    """,
    )
    assert fired(rules, txn("KARTENZAHLUNG", payee="REWE Markt")) == ["one"]
    assert fired(rules, txn("LASTSCHRIFT", memo="Shell Deutschland 0042")) == ["list"]
    assert fired(rules, txn("SEPA-Lastschrift", payee="DB Vertrieb GmbH")) == ["regex"]
    assert fired(rules, txn("DAUERAUFTRAG", memo="Sparplan Tagesgeld", amount="-200")) == ["nested"]


def test_a_text_needle_with_a_line_break_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", 'rules:\n  - id: x\n    when: {text: "rewe\\nmarkt"}\n')
    with pytest.raises(ConfigError) as caught:
        load_rules([path])
    assert str(caught.value).replace(str(tmp_path) + "/", "") == (
        "r.yaml, line 3, column 18: rule 'x', when.text.contains: a test on text holds within one line (description, "
        "payee or memo); this one spans a line break."
    )


FOREIGN = """
    rules:
      - {id: foreign, when: {foreign: true}, set: {tags: [foreign]}, continue: true}
      - {id: home, when: {foreign: false}, set: {tags: [home]}}
"""


def test_foreign_compares_with_the_home_currency_given_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", FOREIGN)
    for home, gbp, eur in (("EUR", ["foreign"], ["home"]), ("gbp", ["home"], ["foreign"])):
        rules = load_rules([path], home_currency=home)
        assert fired(rules, txn("PRET A MANGER", currency="GBP")) == gbp
        assert fired(rules, txn("REWE", currency="EUR")) == eur
        assert fired(rules, txn("QIF ROW", currency="XXX")) == []  # no currency: neither
        assert warnings(rules) == []
    rules = load_rules([path])
    assert fired(rules, txn("PRET A MANGER", currency="GBP")) == [] and fired(rules, txn("REWE", currency="EUR")) == []
    assert [w.replace(str(tmp_path) + "/", "") for w in warnings(rules)] == [
        "warning: rule 'foreign' (r.yaml:3) tests `foreign`, but no home currency is configured, so it matches "
        "nothing; set `currency:` in importer.yaml.",
        "warning: rule 'home' (r.yaml:4) tests `foreign`, but no home currency is configured, so it matches "
        "nothing; set `currency:` in importer.yaml.",
    ]


def test_foreign_takes_true_or_false(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "rules:\n  - id: x\n    when: {foreign: GBP}\n")
    with pytest.raises(ConfigError) as caught:
        load_rules([path], home_currency="EUR")
    assert str(caught.value).endswith("rule 'x', when.foreign: foreign takes true or false, found 'GBP'.")


def test_the_shipped_rules_tag_foreign_by_the_home_currency_not_by_the_dollar() -> None:
    gbp_row = txn("PRET A MANGER", currency="GBP")
    usd_row = txn("WHOLE FOODS MARKET", currency="USD")
    in_uk, in_us = load_rules([Path("rules")], home_currency="GBP"), load_rules([Path("rules")], home_currency="USD")
    assert in_uk.apply(gbp_row).tags == () and in_uk.apply(usd_row).tags == ("foreign",)
    assert in_us.apply(gbp_row).tags == ("foreign",) and in_us.apply(usd_row).tags == ()
    assert in_uk.apply(gbp_row).category == "Food:Eating out"
