"""The batch matcher's caches never change a result: `chains` and `apply_all` equal the reference.

The reference is `chain_naive` (every rule, in order, on every row) and `RuleSet.decide` per row.
Batches repeat rows and vary them only in amount, date, raw columns, tags or notes, so that keys,
plans and shared updates are reused; each case runs with fields keyed by value and by signature.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import re
import weakref
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.core.batch import TxBatch
from importer.core.models import Transaction
from importer.parsers import ParseOptions, parse_file
from importer.rules import Rule, RuleSet, load_rules, plans
from importer.rules.fold import fold
from importer.rules.literals import digit_blind
from importer.rules.parse import parse_condition
from importer.rules.schema import Actions
from importer.rules.signature import Signer
from tests.rules_support import txn

WORDS = ["uber", "eats", "oil", "shell oil", "sq *", "12", "24 hour", "310", "a1b", "ß", "İstanbul", "σ", "ſt"]
PATTERNS = [r"\bUBER\b", r"^SQ \*", r"(shell|bp) oil", r"\d{2,}", r"^(?P<n>\w+) (\d+)", r"k(elvin)?", r"310"]
# Regexes decided per digit-blind text (literals.py `digit_blind`) beside some that are not:
# they tell digits apart, refer back to a group or turn IGNORECASE off.
PATTERNS += [r"\buber\b.*\d{3,}", r"^\d{2} ", r"[0-9]x?$", r"^\D+$", r"[0-4]", r"(\d)\1", r"(?-i:UBER)"]
# Pairs that hold the same literals but differ for an `equals`, `startswith` or regex test.
TEXTS = [
    "UBER",
    "UBER 12",
    "12 UBER",
    "UBER EATS 0042",
    "SQ *CAFE",
    "CAFE SQ *",
    "SHELL OIL 57442",
    "BP OIL 1",
    "24 HOUR FITNESS 9",
    "IRS 310 X",
    "X 3100",
    "UBER 310",
    "UBER 77 X",
    "12 SQ *",
    "",
]
ALPHABET = "abekilnorstuxyz *#0123ΣσİıſK\0\n"
MARKS = ["", "tags", "notes", "tags notes"]  # what the bank already put on a row
DAYS = [dt.date(2026, 10, d) for d in (1, 3, 4, 15, 20)]  # Thursday, Saturday, Sunday, ...

texts = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from(TEXTS),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, max_size=6)), max_size=4).map(" ".join),
)
text_tests = st.one_of(
    st.sampled_from(WORDS),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.builds(lambda op, w: {op: w}, st.sampled_from(["equals", "startswith", "contains"]), st.sampled_from(WORDS)),
    st.builds(lambda p: {"regex": p}, st.sampled_from(PATTERNS)),
)
leaves = st.one_of(
    st.builds(
        lambda f, t: {f: t}, st.sampled_from(["text", "description", "payee", "raw.Type", "currency"]), text_tests
    ),
    text_tests,  # no field: `text`
    st.builds(lambda wanted: {"foreign": wanted}, st.booleans()),
    st.builds(lambda t: {"amount": t}, st.sampled_from(["inflow", "outflow", {"lt": -50}, {"abs": True, "ge": 7}])),
    st.builds(
        lambda t: {"date": t},
        st.sampled_from([{"weekday": ["sat", "sun"]}, {"day_of_month": [1, 15]}, {"from": "2026-10-04"}]),
    ),
)
conditions = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(lambda cs: {"any": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda cs: {"all": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=4,
)
actions = st.builds(
    Actions,
    category=st.sampled_from([None, "Food", "Travel"]),
    payee=st.sampled_from([None, "Fixed", "{0}"]),
    note=st.sampled_from([None, "seen", "seen {0}"]),
    tags=st.sampled_from([(), ("a",), ("a", "b")]),
    skip=st.booleans(),
    transfer_to=st.sampled_from([None, "Savings"]),
)
rule_specs = st.lists(st.tuples(conditions, actions, st.booleans(), st.booleans()), min_size=1, max_size=12)
row = st.tuples(
    texts,
    texts,
    st.sampled_from(["DEBIT", "CHECK", ""]),
    st.sampled_from(["-100", "-12.5", "0", "7"]),
    st.sampled_from(DAYS),
    st.sampled_from(["USD", "EUR"]),
    st.booleans(),
    st.sampled_from(MARKS),
)
# Each drawn row comes back varied: the same row again, then with another amount, date, raw or tags.
variants = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(["same", "amount", "date", "raw", "tags"])), max_size=20
)


def build(specs: list[tuple[Any, Actions, bool, bool]]) -> RuleSet:
    rules = []
    for i, (when, acts, cont, scoped) in enumerate(specs):
        accounts = frozenset({"checking"}) if scoped else frozenset()
        rules.append(Rule(f"r{i}", parse_condition(when, (), "EUR"), acts, continue_=cont, accounts=accounts))
    return RuleSet(rules, home_currency="EUR")


def make(fields: tuple[Any, ...]) -> Transaction:
    d, p, r, amount, day, currency, savings, tagged = fields
    extra: dict[str, Any] = {"tags": ("bank",)} if "tags" in tagged else {}
    extra |= {"notes": "from bank"} if "notes" in tagged else {}
    # The booking type is both a raw column and the memo, as European exports have it.
    return txn(
        d,
        amount,
        payee=p or None,
        memo=r or None,
        raw={"Type": r} if r else {},
        date=day,
        currency=currency,
        account="savings" if savings else "checking",
        **extra,
    )


def vary(fields: tuple[Any, ...], how: str) -> tuple[Any, ...]:
    d, p, r, amount, day, currency, savings, tagged = fields
    changed = {
        "amount": (d, p, r, "-75", day, currency, savings, tagged),
        "date": (d, p, r, amount, DAYS[(DAYS.index(day) + 1) % len(DAYS)], currency, savings, tagged),
        "raw": (d, p, "DEBIT" if r != "DEBIT" else "", amount, day, currency, savings, tagged),
        "tags": (d, p, r, amount, day, currency, savings, MARKS[(MARKS.index(tagged) + 1) % len(MARKS)]),
    }
    return changed.get(how, fields)


def batch(rows: list[tuple[Any, ...]], more: list[tuple[int, str]]) -> list[Transaction]:
    fields = rows + [vary(rows[i % len(rows)], how) for i, how in more]
    return [make(f) for f in fields]


def reference(rules: RuleSet, txns: list[Transaction]) -> tuple[list[Transaction], list[Transaction]]:
    kept: list[Transaction] = []
    skipped: list[Transaction] = []
    for t in txns:
        result, skip = rules.decide(t, rules.chain_naive(t))
        (skipped if skip else kept).append(result)
    return kept, skipped


def same(a: list[Transaction], b: list[Transaction]) -> bool:
    return [(t.model_dump(), t.model_fields_set) for t in a] == [(t.model_dump(), t.model_fields_set) for t in b]


@pytest.fixture(params=["by value", "by signature"])
def keying(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    # A field with few distinct values is keyed by value; with none allowed, by its signature.
    if request.param == "by signature":
        monkeypatch.setattr(plans, "VALUE_LIMIT", 0)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=rule_specs, rows=st.lists(row, min_size=1, max_size=8), more=variants, dates_keyed=st.booleans())
def test_batch_chains_and_updates_equal_the_reference(
    keying: None, monkeypatch: pytest.MonkeyPatch, specs: Any, rows: Any, more: Any, dates_keyed: bool
) -> None:
    monkeypatch.setattr(plans, "DATE_TESTS_KEYED", 4 if dates_keyed else 0)
    rules = build(specs)
    txns = batch(rows, more)
    assert rules.chains(txns) == [tuple(rules.rules.index(r) for r in rules.chain_naive(t)) for t in txns]
    applied = rules.apply_all(txns)
    kept, skipped = reference(rules, txns)
    assert same(applied.kept, kept) and same(applied.skipped, skipped)


@pytest.mark.parametrize(
    ("when", "actions", "texts"),
    [
        ({"description": {"equals": "uber"}}, Actions(category="Rides"), ["UBER", "UBER 12", "UBER"]),
        ({"description": {"startswith": "sq *"}}, Actions(category="Food"), ["CAFE SQ *", "SQ *CAFE"]),
        ({"description": {"regex": "^(?P<n>\\w+) (\\d+)"}}, Actions(payee="{n}"), ["UBER 12", "12 UBER", "BP 1"]),
        ({"description": "oil"}, Actions(note="fuel", tags=("fuel",)), ["BP OIL 1", "SHELL OIL 57442"]),
    ],
)
def test_rows_with_the_same_literals_are_still_told_apart(
    keying: None, when: Any, actions: Actions, texts: list[str]
) -> None:
    rules = build([(when, actions, False, False)])
    txns = [make((text, "", "", "-1", DAYS[0], "USD", False, mark)) for text in texts for mark in MARKS]
    kept, skipped = reference(rules, txns)
    assert same(rules.apply_all(txns).kept, kept) and not skipped


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, min_size=1, max_size=4)), max_size=8),
    st.lists(texts, min_size=1, max_size=12),
)
def test_a_signature_names_exactly_the_keywords_a_text_contains(keywords: list[str], column: list[str]) -> None:
    signer = Signer(fold(word) for word in keywords)
    for text, sig in zip(column, signer.signatures(column)):
        assert set(sig) == {mark for word, mark in signer.mark.items() if word in fold(text)}


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PATTERNS), st.lists(texts, min_size=1, max_size=12))
def test_a_signature_decides_each_digit_blind_regex_on_ascii_texts(pattern: str, column: list[str]) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    signer = Signer([], [compiled] if digit_blind(pattern) else [])
    for text, sig in zip(column, signer.signatures(column)):
        if not signer.patterns:
            assert sig == ""
        elif text.isascii():
            assert (signer.patterns[0][1] in sig) == bool(compiled.search(text))
        else:  # left to the row itself, under a mark no ASCII text's signature holds
            assert sig.endswith(signer.unsure)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PATTERNS), st.text("abuerU 0123456789x*\n", max_size=12))
def test_a_digit_blind_regex_cannot_tell_a_text_from_its_digit_blind_form(pattern: str, text: str) -> None:
    blind = text.lower().translate(str.maketrans("123456789", "000000000"))
    compiled = re.compile(pattern, re.IGNORECASE)
    if digit_blind(pattern):
        assert bool(compiled.search(text)) == bool(compiled.search(blind))


def test_digit_blind_regexes_are_those_that_treat_every_digit_alike() -> None:
    blind = [p for p in PATTERNS if digit_blind(p)]
    assert blind == [
        r"\bUBER\b",
        r"^SQ \*",
        r"(shell|bp) oil",
        r"\d{2,}",
        r"^(?P<n>\w+) (\d+)",
        r"k(elvin)?",
        r"\buber\b.*\d{3,}",
        r"^\d{2} ",
        r"[0-9]x?$",
        r"^\D+$",
    ]


def applied_batch(rules: RuleSet, txns: list[Transaction]) -> tuple[list[Transaction], list[Transaction]]:
    """`apply_batch` over `TxBatch.of(txns)`, split as `apply_all` splits: kept, skipped."""
    out, skips = rules.apply_batch(TxBatch.of(txns))
    rows = list(out.transactions())
    return [r for r, s in zip(rows, skips) if not s], [r for r, s in zip(rows, skips) if s]


def dumped(txns: list[Transaction]) -> list[dict[str, Any]]:
    # A batch's rows are rebuilt models, so the fields a rule did not set are compared by value.
    return [t.model_dump() for t in txns]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=rule_specs,
    rows=st.lists(row, min_size=1, max_size=8),
    more=variants,
    dates_keyed=st.booleans(),
    savings=st.booleans(),
    cut=st.integers(1, 30),
)
def test_apply_batch_equals_apply_all(
    keying: None,
    monkeypatch: pytest.MonkeyPatch,
    specs: Any,
    rows: Any,
    more: Any,
    dates_keyed: bool,
    savings: bool,
    cut: int,
) -> None:
    monkeypatch.setattr(plans, "DATE_TESTS_KEYED", 4 if dates_keyed else 0)
    rules = build(specs)
    # A batch holds one account's rows (one statement), so every row gets the drawn account.
    txns = batch([(*r[:6], savings, r[7]) for r in rows], more)
    # Plans, scans and updates are kept from batch to batch: a head, the rest, then all of it again.
    for part in (txns[:cut], txns[cut:], txns):
        if part:
            applied, (naive_kept, naive_skipped) = rules.apply_all(part), reference(rules, part)
            kept, skipped = applied_batch(rules, part)
            assert dumped(kept) == dumped(applied.kept) == dumped(naive_kept)
            assert dumped(skipped) == dumped(applied.skipped) == dumped(naive_skipped)


def test_apply_batch_fills_the_action_columns_without_a_model_per_row() -> None:
    rules = build(
        [
            (
                {"description": {"regex": "^(?P<n>\\w+) (\\d+)"}},
                Actions(payee="{n}", note="seen {0}", tags=("a",)),
                True,
                False,
            ),
            ({"description": "uber"}, Actions(category="Travel", transfer_to="Savings"), False, False),
            ({"description": "shell oil"}, Actions(skip=True), False, False),
        ]
    )
    txns = [
        make(("UBER 12", "", "", "-1", DAYS[0], "EUR", False, "notes")),
        make(("SHELL OIL 1", "", "", "-1", DAYS[1], "EUR", False, "")),
        make(("CAFE", "", "", "-1", DAYS[2], "EUR", False, "tags")),
    ]
    out, skips = rules.apply_batch(TxBatch.of(txns))
    assert skips == [False, True, False]
    assert list(out.column("payee")) == ["UBER", None, None]
    assert list(out.column("notes")) == ["from bank; seen UBER 12", None, None]
    assert list(out.column("tags")) == [("a",), (), ("bank",)]
    assert list(out.column("category")) == ["Travel", None, None]
    assert list(out.column("transfer_to")) == ["Savings", None, None]
    assert list(out.column("rule_id")) == ["r1", "r2", None]


SAMPLES = sorted(p for p in Path("samples").rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".ofx", ".qfx"))


@pytest.mark.parametrize("path", SAMPLES, ids=str)
def test_apply_batch_equals_apply_all_on_every_sample_with_the_shipped_rules(path: Path) -> None:
    for statement in parse_file(path, ParseOptions()):
        rules = load_rules(sorted(Path("rules").glob("*.yaml")), statement.currency)
        txns = list(statement.transactions)
        if txns:
            applied = rules.apply_all(txns)
            kept, skipped = applied_batch(rules, txns)
            assert dumped(kept) == dumped(applied.kept) and dumped(skipped) == dumped(applied.skipped)


def test_apply_batch_on_the_chase_sample_sets_real_categories() -> None:
    (statement,) = parse_file(Path("samples/csv/chase/chase-checking-2026-10.csv"), ParseOptions())
    rules = load_rules(sorted(Path("rules").glob("*.yaml")), "USD")
    out, _ = rules.apply_batch(TxBatch.of(list(statement.transactions)))
    by_text = {
        d: (c, p, r, t)
        for d, c, p, r, t in zip(
            out.description, out.column("category"), out.column("payee"), out.column("rule_id"), out.column("tags")
        )
    }
    assert by_text["STARBUCKS STORE 05512 SAN FRANCISCO CA"] == ("Food:Coffee", "Starbucks", "coffee", ())
    assert by_text["ZELLE FROM JOHN SMITH ON 10/25 REF # PP0ABC123"] == (
        "Income:Reimbursements",
        "JOHN SMITH",
        "zelle-received",
        (),
    )
    assert by_text["SPOTIFY USA 877-778-1161 NY"][0::3] == ("Entertainment:Subscriptions", ("subscription",))


def test_text_and_description_reading_one_column_share_one_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plans, "VALUE_LIMIT", 0)  # both fields keyed by signature
    rules = build(
        [
            ({"text": "coffee", "amount": {"lt": -5}}, Actions(category="Coffee"), False, False),
            ({"description": {"regex": "^TEA \\d+"}}, Actions(category="Tea"), False, False),
            ({"text": "tea"}, Actions(category="Other tea"), False, False),
        ]
    )
    texts = ["COFFEE 12", "TEA 7", "TEA ROOM", "MILK", "COFFEE 99", "TEA 1"]
    txns = [make((text, "", "", amount, DAYS[0], "USD", False, "")) for text in texts for amount in ("-1", "-9")]
    out, _ = rules.apply_batch(TxBatch.of(txns))
    kept, _ = reference(rules, txns)
    assert list(out.column("category")) == [t.category for t in kept]
    assert list(out.column("category"))[:6] == [None, "Coffee", "Tea", "Tea", "Other tea", "Other tea"]
    (context,) = rules.matcher.plans
    assert ("shared", "description", "text") in context and set(rules.matcher.shared) == {("description", "text")}
    with_payee = [make((text, "SHOP", "", "-1", DAYS[0], "USD", False, "")) for text in texts]
    assert [t.category for t in rules.apply_all(with_payee).kept] == [
        t.category for t in reference(rules, with_payee)[0]
    ]
    assert len(rules.matcher.plans) == 2  # the payee makes text another column: each field signed alone
    rules.forget()
    assert not any(signer.seen for signer in rules.matcher.shared.values())


class _Column(list[str]):
    """A column that can be weakly referenced (a plain list cannot)."""


def test_applying_rules_to_a_batch_lets_go_of_its_columns_without_the_cycle_collector() -> None:
    # The rule tests read rows through a class made for the batch (importer/rules/rows.py), and a
    # class is always in a reference cycle: unless it lets go of the batch's columns, they live
    # until the collector runs, which the import does only every few batches.
    rules = build([({"text": "coffee"}, Actions(category="Coffee"), False, False)])
    texts = ["COFFEE 12", "TEA 7", "MILK"]
    txns = [make((text, "", "", "-1", DAYS[0], "USD", False, "")) for text in texts]
    column = _Column(texts)
    alive = weakref.ref(column)
    batch = dataclasses.replace(TxBatch.of(txns), description=column)
    gc.disable()
    try:
        out, _ = rules.apply_batch(batch)
        assert list(out.column("category")) == ["Coffee", None, None]
        del out, batch, column
        assert alive() is None
    finally:
        gc.enable()
