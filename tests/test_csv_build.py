"""Transactions built in bulk equal `trusted` ones and validated ones, field for field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import repeat

from importer.core.models import Source, Transaction, trusted, with_updates
from importer.parsers.csv import build as csv_build

ROWS = [
    dict(
        date=dt.date(2024, 3, 1),
        amount=Decimal("-12.50"),
        currency="EUR",
        description="COFFEE",
        payee="Cafe",
        memo=None,
        bank_id="7",
        balance=Decimal("100.00"),
        value_date=dt.date(2024, 3, 2),
        account="checking",
        raw={"Betrag": "-12,50", "Text": "COFFEE"},
    ),
    dict(
        date=dt.date(2024, 3, 3),
        amount=Decimal("0"),
        currency="USD",
        description="",
        payee=None,
        memo="m",
        bank_id=None,
        balance=None,
        value_date=None,
        account="checking",
        raw={},
    ),
]


def _bulk() -> list[Transaction]:
    columns = {name: [row[name] for row in ROWS] for name in ROWS[0]}
    return csv_build.transactions({**columns, "source": csv_build.sources("a.csv", [2, 3])})


def test_bulk_rows_equal_trusted_and_validated_ones() -> None:
    for line, row, fast in zip((2, 3), ROWS, _bulk()):
        for other in (
            trusted(Transaction, **row, source=trusted(Source, path="a.csv", line=line)),
            Transaction(**row, source=Source(path="a.csv", line=line)),
        ):
            assert fast == other and fast.source == other.source
            assert list(fast.__dict__) == list(other.__dict__)
            assert fast.model_fields_set == other.model_fields_set
            assert fast.source.model_fields_set == other.source.model_fields_set
            assert fast.model_dump_json() == other.model_dump_json() and repr(fast) == repr(other)


def test_the_shared_field_set_is_never_changed_by_copies() -> None:
    first, second = _bulk()
    assert first.model_fields_set is second.model_fields_set  # shared: the point of the bulk path
    before = set(first.model_fields_set)
    copied = first.model_copy(update={"category": "food"})
    updated = with_updates(second, {"rule_id": "r1"})
    assert first.model_fields_set == before == second.model_fields_set
    assert "category" in copied.model_fields_set and "rule_id" in updated.model_fields_set


def test_constant_columns_may_be_repeated() -> None:
    columns = {name: [row[name] for row in ROWS] for name in ROWS[0]}
    built = csv_build.transactions({**columns, "account": repeat("x"), "source": csv_build.sources("a", [1, 2])})
    assert [t.account for t in built] == ["x", "x"] and [t.source.line for t in built] == [1, 2]
