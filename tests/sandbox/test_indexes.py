"""The fakes' date indexes select exactly what a scan of every record selected, in the same order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.sandbox.common import DateIndex, Limits
from importer.sandbox.wallet import WalletFake, _matches

LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
days = st.dates(dt.date(2024, 1, 1), dt.date(2024, 1, 20)).map(dt.date.isoformat)
stamps = st.tuples(days, st.sampled_from(["", "T00:00:00Z", "T12:00:00Z", "T23:59:59Z"])).map("".join)
values = days | stamps | st.sampled_from(["2024-01", "2024-01-1", "2025", "", "imp:"])
conditions = st.tuples(st.sampled_from(["eq.", "gt.", "gte.", "lt.", "lte.", "contains.", "bogus.", ""]), values).map(
    "".join
)


def reference_filtered(records: list[dict[str, Any]], params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The scan the Wallet fake used before its index: every record, every condition."""
    dates = [v for k, v in params if k == "recordDate"]
    ids = {i for k, v in params if k == "id" for i in v.split(",")}
    if not dates and not ids:
        dates = [f"gte.{(dt.datetime.now(dt.UTC) - dt.timedelta(days=92)).date()}"]
    rows = [r for r in records if not ids or r["id"] in ids]
    for key, value in params:
        if key in ("recordDate", "note", "counterParty", "accountId", "source") and not ids:
            rows = [r for r in rows if _matches(r.get(key), value)]
    if not ids and "recordDate" not in {k for k, _ in params}:
        rows = [r for r in rows if _matches(r["recordDate"], dates[0])]
    return sorted(rows, key=lambda r: r["recordDate"], reverse=True)


def wallet_with(stamps_: list[str]) -> WalletFake:
    fake = WalletFake(Limits(enabled=False))
    fake.accounts["a1"] = {"id": "a1", "name": "Main", "currencyCode": "EUR"}
    for i, stamp in enumerate(stamps_):
        item = {"accountId": "a1", "amount": {"value": 1}, "recordDate": stamp, "note": f"n{i % 3} imp:{i}"}
        assert fake.create_one(i, item, False, LATEST)["success"]
    return fake


@settings(max_examples=80, deadline=None)
@given(
    st.lists(stamps, max_size=30), st.lists(st.tuples(st.sampled_from(["recordDate", "note"]), conditions), max_size=3)
)
def test_wallet_list_filter_equals_the_scan(stamps_: list[str], params: list[tuple[str, str]]) -> None:
    fake = wallet_with(stamps_)
    rows, _ = fake.filtered(params)
    assert [r["id"] for r in rows] == [r["id"] for r in reference_filtered(list(fake.records.values()), params)]


@settings(max_examples=60, deadline=None)
@given(st.lists(days, max_size=30), st.none() | days, st.none() | days)
def test_date_index_between_equals_the_scan(keys: list[str], low: str | None, high: str | None) -> None:
    index = DateIndex()
    for i, key in enumerate(keys):
        index.add(key, f"r{i}")
    expected = [f"r{i}" for i, key in enumerate(keys) if (low is None or low <= key) and (high is None or key <= high)]
    assert index.between(low, high) == expected


def test_a_cached_list_answer_is_dropped_after_a_write() -> None:
    fake = wallet_with(["2024-01-02T12:00:00Z"])
    query = [("recordDate", "gte.2024-01-01")]
    assert len(fake.filtered(query)[0]) == 1
    fake.create_one(1, {"accountId": "a1", "amount": {"value": 2}, "recordDate": "2024-01-03T12:00:00Z"}, False, LATEST)
    assert len(fake.filtered(query)[0]) == 2
