"""External ids: deterministic, versioned, repeat-aware, stable across re-exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.core.errors import ImporterError
from importer.core.models import Source, Transaction
from importer.ids.recipe import assign_ids, external_id, normalise_description, plain_amount
from importer.parsers import ParseOptions, identify
from importer.run.pipeline import statement_files


def txn(
    description: str = "STARBUCKS 123",
    amount: str = "-4.75",
    day: int = 3,
    bank_id: str | None = None,
    account: str = "checking",
    line: int = 1,
) -> Transaction:
    return Transaction(
        date=dt.date(2026, 10, day),
        amount=Decimal(amount),
        currency="USD",
        description=description,
        account=account,
        bank_id=bank_id,
        source=Source(path="x.csv", line=line),
    )


def test_ids_are_versioned_and_deterministic() -> None:
    first = external_id(txn())
    assert first.startswith("v1:") and len(first) == 35
    assert external_id(txn()) == first


def test_identical_same_day_lines_get_distinct_ids() -> None:
    ids = [t.external_id for t in assign_ids([txn(line=1), txn(line=2)])]
    assert len(set(ids)) == 2


def test_overlapping_exports_share_ids_for_the_overlap() -> None:
    september = [txn("RENT", "-1000", 1), txn("COFFEE", "-3", 3), txn("COFFEE", "-3", 3), txn("GYM", "-30", 5)]
    later = [txn("COFFEE", "-3", 3), txn("COFFEE", "-3", 3), txn("GYM", "-30", 5), txn("BOOKS", "-12", 9)]
    first = {t.external_id for t in assign_ids(september)}
    second = [t.external_id for t in assign_ids(later)]
    assert second[:3] == [i for i in second[:3] if i in first]
    assert second[3] not in first


def test_whitespace_and_case_do_not_change_the_id() -> None:
    assert external_id(txn("Starbucks   123 ")) == external_id(txn("STARBUCKS 123"))
    assert normalise_description(" A\tB  c ") == "a b c"


def test_trailing_zeros_do_not_change_the_id() -> None:
    assert plain_amount(Decimal("-12.50")) == plain_amount(Decimal("-12.5")) == "-12.5"
    assert plain_amount(Decimal("100")) == "100"
    assert plain_amount(Decimal("-0.00")) == "0"


def test_bank_id_is_combined_with_date_and_amount() -> None:
    # Some banks reuse FITIDs: the same id on another day or for another amount is another line.
    a = external_id(txn(bank_id="1001"))
    assert a != external_id(txn(bank_id="1001", day=4))
    assert a != external_id(txn(bank_id="1001", amount="-5"))
    assert a != external_id(txn(bank_id="1001", account="savings"))
    assert a == external_id(txn("other text", bank_id="1001"))


def test_repeated_bank_id_within_one_file_is_kept_apart() -> None:
    ids = [t.external_id for t in assign_ids([txn(bank_id="FEE"), txn(bank_id="FEE")])]
    assert len(set(ids)) == 2


def reference_ids(txns: list[Transaction]) -> list[str]:
    """The recipe of the module doc, row by row, with the repeat key as the tuple it describes."""
    seen: dict[tuple[object, ...], int] = {}
    ids = []
    for t in txns:
        key = (
            ("bank", t.account, t.bank_id.strip(), t.date, t.amount)
            if t.bank_id
            else ("text", t.account, t.date, t.amount, normalise_description(t.description))
        )
        ids.append(external_id(t, seen.get(key, 0)))
        seen[key] = seen.get(key, 0) + 1
    return ids


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["COFFEE 1", "coffee  1", "RENT", " Rent "]),
            st.sampled_from(["-3", "-3.00", "-3.5", "12", "0.00", "-0"]),
            st.integers(1, 3),
            st.sampled_from([None, "", "F1", " F1 ", "F2"]),
            st.sampled_from(["checking", "savings"]),
        ),
        max_size=30,
    )
)
def test_bulk_ids_equal_the_recipe_row_by_row(rows: list[tuple[str, str, int, str | None, str]]) -> None:
    txns = [txn(d, a, day, bank, account, line=n) for n, (d, a, day, bank, account) in enumerate(rows)]
    assert [t.external_id for t in assign_ids(txns)] == reference_ids(txns)


def test_bulk_ids_equal_the_recipe_on_every_sample() -> None:
    checked = 0
    for path in statement_files([Path("samples")]):
        try:
            statements = identify(path, ParseOptions()).parse(path, ParseOptions())
        except ImporterError:
            continue  # samples of refusals
        txns = [t for statement in statements for t in statement.transactions]
        assert [t.external_id for t in assign_ids(txns)] == reference_ids(txns), path
        checked += len(txns)
    assert checked > 250


def test_a_statement_prepared_in_parts_gets_the_ids_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from importer.core.models import Statement
    from importer.rules import load_rules
    from importer.run import pipeline

    rows = [txn("COFFEE", "-3", 3, line=n) for n in range(5)] + [txn(bank_id="FEE", line=n) for n in range(5, 9)]
    statement = Statement(path="x.csv", format="csv", account="checking", currency="USD", transactions=tuple(rows))
    rules = load_rules([Path("rules")])
    whole = pipeline.prepare(statement, rules)
    monkeypatch.setattr(pipeline, "PREPARE_CHUNK", 2)
    assert pipeline.prepare(statement, rules) == whole
    assert [t.external_id for t in whole] == reference_ids(rows)


def test_descriptions_collapse_exactly_the_white_space_a_regex_would() -> None:
    import re
    import sys

    spaces = re.compile(r"\s+")
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    assert set(re.findall(r"\s", everything)) == {c for c in everything if c.isspace()}
    for text in (" A\u00a0\u2003b\t\nC  ", "\x1c x \x85", "", "   "):
        assert normalise_description(text) == spaces.sub(" ", text).strip().casefold()
