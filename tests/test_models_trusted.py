"""The fast constructors in importer.core.models give exactly what validation gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.models import Source, Transaction, trusted, with_updates
from importer.parsers import ParseOptions, parse_file

SAMPLES = sorted(Path("samples/csv").rglob("*.csv"))[:25] + sorted(Path("samples/ofx").rglob("*.[oq]fx"))


def _same(a: Transaction, b: Transaction) -> None:
    assert a == b
    assert list(a.__dict__) == list(b.__dict__)
    assert a.model_fields_set == b.model_fields_set
    assert a.model_dump_json() == b.model_dump_json()


def test_trusted_transaction_equals_the_validated_one() -> None:
    fields = dict(
        date=dt.date(2024, 3, 1),
        amount=Decimal("-12.50"),
        currency="EUR",
        description="COFFEE",
        account="checking",
        bank_id=None,
        balance=Decimal("100.00"),
    )
    fast = trusted(Transaction, **fields, source=trusted(Source, path="a.csv", line=2), raw={"Amount": "-12,50"})
    slow = Transaction(**fields, source=Source(path="a.csv", line=2), raw={"Amount": "-12,50"})
    _same(fast, slow)
    assert fast.tags == () and fast.raw == {"Amount": "-12,50"}


def test_default_factories_give_each_transaction_its_own_value() -> None:
    fields = dict(date=dt.date(2024, 3, 1), amount=Decimal("1"), currency="EUR", description="x", account="a")
    first = trusted(Transaction, **fields, source=trusted(Source, path="a"))
    second = trusted(Transaction, **fields, source=trusted(Source, path="a"))
    _same(first, Transaction(**fields, source=Source(path="a")))
    assert first.raw == {} and first.raw is not second.raw


def test_with_updates_equals_model_copy() -> None:
    txn = Transaction(
        date=dt.date(2024, 3, 1),
        amount=Decimal("1"),
        currency="EUR",
        description="x",
        account="a",
        source=Source(path="a", line=3),
    )
    update = {"category": "Food", "tags": ("coffee",), "external_id": "v1:abc"}
    _same(with_updates(txn, update), txn.model_copy(update=update))
    assert txn.category is None  # the original is untouched


@pytest.mark.parametrize("path", SAMPLES, ids=str)
def test_parsed_transactions_equal_validated_ones(path: Path) -> None:
    try:
        statements = parse_file(path, ParseOptions())
    except Exception:  # samples that need options or are meant to fail are covered elsewhere
        pytest.skip("sample does not parse with default options")
    for statement in statements:
        for txn in statement.transactions:
            given = {name: getattr(txn, name) for name in txn.model_fields_set}
            given["source"] = Source(**{name: getattr(txn.source, name) for name in txn.source.model_fields_set})
            _same(txn, Transaction(**given))
