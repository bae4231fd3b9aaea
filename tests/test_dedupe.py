"""External ids: deterministic, versioned, repeat-aware, stable across re-exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from importer.dedupe import assign_ids, external_id, normalise_description, plain_amount
from importer.models import Source, Transaction


def txn(description: str = "STARBUCKS 123", amount: str = "-4.75", day: int = 3, bank_id: str | None = None,
        account: str = "checking", line: int = 1) -> Transaction:  # fmt: skip
    return Transaction(
        date=dt.date(2026, 10, day), amount=Decimal(amount), currency="USD", description=description,
        account=account, bank_id=bank_id, source=Source(path="x.csv", line=line),
    )  # fmt: skip


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
