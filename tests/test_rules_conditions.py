"""Every condition and combinator, written as a user writes them in YAML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.rules_support import fired, rules_from, txn


def matches(tmp_path: Path, when: str, t: object) -> bool:
    rules = rules_from(tmp_path, f"rules:\n  - id: r\n    when: {when}\n    set: {{category: C}}\n")
    return fired(rules, t) == ["r"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("when", "description", "expected"),
    [
        ("{description: starbucks}", "STARBUCKS STORE 05512", True),
        ("{description: starbucks}", "PEETS COFFEE", False),
        ("{description: [peets, starbucks]}", "PEETS COFFEE", True),
        ("{description: {contains: Müller}}", "HAUSVERWALTUNG MÜLLER GMBH", True),
        ("{description: {regex: '^CHECK \\d+$'}}", "check 1043", True),
        ("{description: {regex: '^CHECK \\d+$'}}", "CHECK 1043 VOID", False),
        ("{description: {equals: 'netflix.com'}}", "NETFLIX.COM ", True),
        ("{description: {equals: 'netflix.com'}}", "NETFLIX.COM RECURRING", False),
        ("{description: {startswith: [SQ *, TST*]}}", "TST* NOPA", True),
        ("{description: {startswith: [SQ *, TST*]}}", "PAYPAL TST*", False),
        ("{description: {one_of: [CHECK, CASH]}}", "Cash", True),
        ("{description: {one_of: [CHECK, CASH]}}", "CASH 1", False),
        ("{description: {contains: uber, regex: '\\bEATS\\b'}}", "UBER *EATS", True),
        ("{description: {contains: uber, regex: '\\bEATS\\b'}}", "UBER *TRIP", False),
    ],
)
def test_text_tests_are_case_insensitive(tmp_path: Path, when: str, description: str, expected: bool) -> None:
    assert matches(tmp_path, when, txn(description)) is expected


@pytest.mark.parametrize("name", ["payee", "memo", "account", "currency", "bank_id"])
def test_every_text_field_can_be_tested(tmp_path: Path, name: str) -> None:
    value = {"currency": "EUR"}.get(name, "Wanted Value")
    assert matches(tmp_path, f"{{{name}: {{equals: '{value}'}}}}", txn("x", **{name: value}))
    assert not matches(tmp_path, f"{{{name}: {{equals: '{value}'}}}}", txn("x"))


def test_raw_columns_by_name_and_missing_columns_match_nothing(tmp_path: Path) -> None:
    when = "{raw.Type: {equals: DEBIT_CARD}}"
    assert matches(tmp_path, when, txn("x", raw={"Type": "DEBIT_CARD"}))
    assert not matches(tmp_path, when, txn("x", raw={"Type": "ACH_DEBIT"}))
    assert not matches(tmp_path, when, txn("x"))


@pytest.mark.parametrize(
    ("amount_test", "amount", "expected"),
    [
        ("{lt: -100}", "-100.01", True),
        ("{lt: -100}", "-100", False),
        ("{le: -100}", "-100", True),
        ("{le: -100}", "-99.99", False),
        ("{gt: 0}", "0.01", True),
        ("{gt: 0}", "0", False),
        ("{ge: 12.50}", "12.50", True),
        ("{ge: 12.50}", "12.49", False),
        ("{equals: -6.45}", "-6.450", True),
        ("{equals: -6.45}", "-6.46", False),
        ("{between: [-50, -10]}", "-50", True),
        ("{between: [-50, -10]}", "-9.99", False),
        ("inflow", "3250.00", True),
        ("inflow", "0", False),
        ("outflow", "-0.01", True),
        ("outflow", "0", False),
        ("{sign: outflow}", "-1", True),
        ("{sign: inflow}", "-1", False),
        ("{abs: true, ge: 500}", "-612.40", True),
        ("{abs: true, ge: 500}", "499.99", False),
        ("{abs: true, between: [10, 20]}", "-15", True),
        ("{abs: true, between: [10, 20]}", "25", False),
        ("-6.45", "-6.45", True),
    ],
)
def test_amount_tests(tmp_path: Path, amount_test: str, amount: str, expected: bool) -> None:
    assert matches(tmp_path, f"{{amount: {amount_test}}}", txn("x", amount)) is expected


@pytest.mark.parametrize(
    ("date_test", "day", "expected"),
    [
        ("{from: 2026-10-01, to: 2026-10-31}", dt.date(2026, 10, 31), True),
        ("{from: 2026-10-01, to: 2026-10-31}", dt.date(2026, 11, 1), False),
        ("{from: 2026-10-01}", dt.date(2027, 1, 1), True),
        ("{to: 2026-10-01}", dt.date(2026, 10, 2), False),
        ("{day_of_month: [1, 15]}", dt.date(2026, 10, 15), True),
        ("{day_of_month: 1}", dt.date(2026, 10, 2), False),
        ("{weekday: [sat, sun]}", dt.date(2026, 10, 24), True),  # a Saturday
        ("{weekday: Monday}", dt.date(2026, 10, 24), False),
        ("{month: [11, 12]}", dt.date(2026, 12, 1), True),
    ],
)
def test_date_tests(tmp_path: Path, date_test: str, day: dt.date, expected: bool) -> None:
    assert matches(tmp_path, f"{{date: {date_test}}}", txn("x", date=day)) is expected


def test_value_date_is_a_date_field_and_missing_means_no_match(tmp_path: Path) -> None:
    when = "{value_date: {day_of_month: 1}}"
    assert matches(tmp_path, when, txn("x", value_date=dt.date(2026, 11, 1)))
    assert not matches(tmp_path, when, txn("x"))


def test_several_keys_must_all_hold(tmp_path: Path) -> None:
    when = "{description: shell, amount: {lt: -20}}"
    assert matches(tmp_path, when, txn("SHELL OIL", "-52.30"))
    assert not matches(tmp_path, when, txn("SHELL OIL", "-5"))


def test_all_any_not_nest(tmp_path: Path) -> None:
    when = (
        "{any: [{description: uber}, {all: [{description: lyft}, {not: {description: scooter}}]}], "
        "not: {amount: inflow}}"
    )
    assert matches(tmp_path, when, txn("UBER *TRIP"))
    assert matches(tmp_path, when, txn("LYFT *RIDE"))
    assert not matches(tmp_path, when, txn("LYFT SCOOTER"))
    assert not matches(tmp_path, when, txn("UBER REFUND", "5.00"))
    assert not matches(tmp_path, when, txn("TAXI"))
