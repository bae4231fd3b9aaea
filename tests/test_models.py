from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from importer.core.models import Source, Transaction


def make(**changes: object) -> Transaction:
    fields: dict[str, object] = dict(
        date=dt.date(2026, 1, 2),
        amount=Decimal("-1.10"),
        currency="EUR",
        description="x",
        account="a",
        source=Source(path="f.csv", line=2),
    )
    fields.update(changes)
    return Transaction(**fields)  # type: ignore[arg-type]


def test_money_refuses_float() -> None:
    with pytest.raises(ValidationError, match="never float"):
        make(amount=-1.1)


def test_currency_must_be_iso_4217() -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        make(currency="EURO")


def test_transactions_are_frozen() -> None:
    with pytest.raises(ValidationError):
        make().amount = Decimal(1)  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        make(colour="red")


def test_source_names_line_or_record() -> None:
    assert str(Source(path="a.csv", line=3)) == "a.csv:3"
    assert str(Source(path="a.ofx", record=7)) == "a.ofx#7"
