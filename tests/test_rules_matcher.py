"""The prefilter never changes a result: the fast matcher equals trying every rule in order."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.rules import Rule, RuleSet
from importer.rules.fold import fold
from importer.rules.literals import required_literals
from importer.rules.parse import parse_condition
from importer.rules.plans import DATED
from tests.rules_support import txn

WORDS = ["uber", "eats", "UBER *TRIP", "shell oil", "ß", "ss", "İstanbul", "kelvin", "sq *", "#12", "müller", "ſt"]
PATTERNS = [r"\bUBER\b", r"^SQ \*", r"(shell|bp) oil", r"\d{2,}", r"st", r"k(elvin)?", r"(?i:ab|cd)+x", r"müller"]
ALPHABET = "abcdekilnorstuxyz *#0129İıſKßü"

texts = st.lists(st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, max_size=6)), max_size=5).map(" ".join)
text_tests = st.one_of(
    st.builds(lambda w: w, st.sampled_from(WORDS)),
    st.builds(lambda ws: ws, st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)),
    st.builds(lambda op, w: {op: w}, st.sampled_from(["equals", "startswith", "contains"]), st.sampled_from(WORDS)),
    st.builds(lambda ws: {"one_of": ws}, st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)),
    st.builds(lambda p: {"regex": p}, st.sampled_from(PATTERNS)),
)
amount_tests = st.sampled_from(["inflow", "outflow", {"lt": -50}, {"abs": True, "between": [5, 20]}, {"ge": 0}])
leaves = st.one_of(
    st.builds(lambda f, t: {f: t}, st.sampled_from(["text", "description", "payee", "memo", "raw.Type"]), text_tests),
    st.builds(lambda wanted: {"foreign": wanted}, st.booleans()),
    st.builds(lambda t: {"amount": t}, amount_tests),
)


def _combine(children: Any) -> Any:
    return st.one_of(
        st.builds(lambda cs: {"any": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda cs: {"all": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    )


conditions = st.recursive(leaves, _combine, max_leaves=4)
rule_specs = st.lists(st.tuples(conditions, st.booleans(), st.booleans()), min_size=1, max_size=12)
transactions = st.lists(
    st.tuples(
        texts, texts, texts, texts, st.sampled_from(["-100", "-12.5", "0", "7", "900"]), st.sampled_from(["USD", "EUR"])
    ),
    min_size=1,
    max_size=8,
)


def build(specs: list[tuple[Any, bool, bool]]) -> RuleSet:
    rules = []
    for i, (when, cont, scoped) in enumerate(specs):
        accounts = frozenset({"checking"}) if scoped else frozenset()
        rules.append(Rule(f"r{i}", parse_condition(when, (), "EUR"), continue_=cont, accounts=accounts))
    return RuleSet(rules, home_currency="EUR")


@settings(max_examples=100, deadline=None)
@given(rule_specs, transactions)
def test_fast_matcher_equals_naive_in_order_evaluation(specs: list[tuple[Any, bool, bool]], rows: list[Any]) -> None:
    rules = build(specs)
    txns = [
        txn(
            d,
            amount,
            payee=p or None,
            memo=m or None,
            raw={"Type": r},
            currency=currency,
            account="checking" if len(d) % 2 else "savings",
        )
        for d, p, r, m, amount, currency in rows
    ]
    expected = [tuple(rules.rules.index(r) for r in rules.chain_naive(t)) for t in txns]
    assert rules.chains(txns) == expected
    assert [rules.chain(t) for t in txns] == [rules.chain_naive(t) for t in txns]


def test_fold_keeps_every_ignorecase_twin_of_an_ascii_letter() -> None:
    # The regex prefilter relies on this: whatever IGNORECASE lets match an ASCII letter folds to it.
    letters = re.compile("[a-z]", re.IGNORECASE)
    twins = [chr(code) for code in range(0x80, 0x10000) if letters.fullmatch(chr(code))]
    assert twins == ["\u0130", "\u0131", "\u017f", "\u212a"]
    for char in twins:
        assert any(re.fullmatch(letter, char, re.IGNORECASE) for letter in fold(char))


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"\bSTARBUCKS\b", {"starbucks"}),
        (r"\b(UBER|LYFT)\b", {"uber", "lyft"}),
        (r"^ZELLE FROM (?P<name>.+?) ON \d", {"zelle from "}),
        (r"^\d+$", None),
        (r"(AB|CDE+)", {"ab", "cd"}),
        (r"(A|B+)", None),
        (r"^\d{4,} ", None),
        (r"(A|\d)", None),
        (r"x?yz", {"yz"}),
        (r"müller", {"ller"}),
        (r"(", None),
    ],
)
def test_required_literals(pattern: str, literals: set[str] | None) -> None:
    found = required_literals(pattern)
    assert (set(found) if found is not None else None) == literals


def test_a_rule_with_no_literal_is_tried_for_every_transaction() -> None:
    rules = build([({"amount": {"lt": 0}}, False, False), ({"description": "coffee"}, False, False)])
    assert rules.prefilter.candidates(txn("TEA", "-1")) == ([0], set())
    assert rules.prefilter.candidates(txn("COFFEE", "1")) == ([0, 1], {1})
    assert rules.chains([txn("COFFEE", "-1"), txn("COFFEE", "1"), txn("TEA", "1")]) == [(0,), (1,), ()]
    assert Decimal("-1") < 0


@pytest.mark.parametrize("text", ["ſt", "İS", "\u212aelvin", "ıs"])
def test_regex_literals_are_found_through_ignorecase_twins(text: str) -> None:
    rules = build([({"description": {"regex": "st|is|kelvin"}}, False, False)])
    assert rules.chains([txn(text)]) == [(0,)] == [tuple(0 for _ in rules.chain_naive(txn(text)))]


def test_the_prefilter_picks_the_description_over_a_raw_booking_type() -> None:
    # Chase's venmo rule: "ACH_CREDIT" is the longer literal, but a third of the rows hold it, so
    # the description's literal selects and the raw column is left out of the batch key.
    rules = build([({"description": "VENMO", "raw.Type": {"one_of": ["ACH_DEBIT", "ACH_CREDIT"]}}, False, False)])
    assert rules.prefilter.fields == {"description"}
    assert rules.matcher.fields == ["description"]
    venmo, card = txn("VENMO PAYMENT 1029", raw={"Type": "ACH_CREDIT"}), txn("SHELL", raw={"Type": "ACH_CREDIT"})
    assert rules.prefilter.candidates(card) == ([], set())
    assert rules.chains([venmo, card, txn("VENMO 1", raw={"Type": "DEBIT_CARD"})]) == [(0,), (), ()]


def test_a_key_is_planned_once_whatever_its_dates_unless_a_rule_on_a_date_may_match() -> None:
    rules = build(
        [
            ({"description": "COFFEE", "date": {"weekday": ["sat", "sun"]}}, False, False),
            ({"description": "TEA"}, False, False),
        ]
    )
    days = [dt.date(2026, 10, d) for d in (24, 26, 27, 25, 28)]  # Saturday, Monday, Tuesday, Sunday, Wednesday
    rows = [txn(text, date=day) for text in ("TEA", "COFFEE", "JUICE") for day in days]
    assert rules.chains(rows) == [(1,)] * 5 + [(0,), (), (), (0,), ()] + [()] * 5
    assert rules.chains(rows) == [tuple(rules.rules.index(r) for r in rules.chain_naive(t)) for t in rows]
    undated, dated = rules.matcher.plans.values()
    assert list(undated.values()).count(DATED) == 1  # coffee's rows: planned by their dates too
    assert sorted(plan for plan in undated.values() if plan is not DATED) == [(), (1,)]  # juice, tea: once each
    assert sorted(dated.values()) == [(), (0,)]  # coffee on a weekend day, on another day


def test_a_batch_after_one_of_mostly_dated_rows_is_planned_by_dates_at_once() -> None:
    rules = build(
        [({"description": "COFFEE", "date": {"weekday": ["sat"]}}, False, False), ({"amount": {"lt": 0}}, False, False)]
    )
    days = [dt.date(2026, 10, d) for d in (24, 26, 27, 31, 28)]  # Saturday, Monday, Tuesday, Saturday, Wednesday
    rows = [txn(f"COFFEE {d.day}", amount, date=d) for d in days for amount in ("-1", "1")] + [txn("TEA", "-1")]
    naive = [tuple(rules.rules.index(r) for r in rules.chain_naive(t)) for t in rows]
    assert rules.chains(rows) == naive and naive[:4] == [(0,), (0,), (1,), ()]
    assert list(rules.matcher.mostly_dated.values()) == [True]  # ten of the eleven rows were dated
    assert rules.chains(rows[::-1]) == naive[::-1]  # planned by their dates at once this time
    rules.forget()
    assert not rules.matcher.mostly_dated
