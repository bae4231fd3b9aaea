"""OFX leaf columns (ofx_fast) to Transactions in bulk, equal to what ofx._transaction makes one by one.

Per row the tree reader's way costs two `trusted()` calls, two date parses and a handful of
lookups; at 100,000 rows a second there are 10 µs for everything.  Here dates are parsed once per
distinct text, amounts are checked by one regex match and read by one `Decimal(text)` each, and the models are copies of one `trusted()`
prototype whose per-row fields are filled in, built with C-level loops (map) rather than Python
calls.  Whatever the tree reader would refuse (no date or an unreadable one, anything but an
exact amount, a currency that is not ISO 4217) makes `transactions` answer None: the caller then leaves
the whole file to the tree reader, which gives the error with its line number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from importer.core.batch import TxBatch
from importer.core.currencies import is_currency
from importer.core.models import Source, Transaction, trusted, trusted_many
from importer.parsers.ofx.values import AMOUNT, amount, date_value

_M = TypeVar("_M", bound=BaseModel)
Columns = dict[str, list[str]]


def transactions(columns: Columns, path: str, account: str, currency: str) -> tuple[Transaction, ...] | None:
    """One Transaction per row of `columns` (ofx_fast.LEAVES), numbered from 1; None as above."""
    if not columns["DTPOSTED"]:
        return ()
    if not is_currency(currency):
        return None
    dates, amounts = _dates(columns["DTPOSTED"]), _amounts(columns["TRNAMT"])
    if dates is None or amounts is None or not _readable(columns["DTAVAIL"]) or not _fitids(columns["FITID"]):
        return None
    return tuple(_rows(columns, dates, amounts, path, account, currency))


def _dates(texts: list[str]) -> list[dt.date] | None:
    days = _days(texts)
    return None if None in days.values() else list(map(days.__getitem__, texts))  # type: ignore[arg-type]


def _days(texts: list[str]) -> dict[str, dt.date | None]:
    # A statement has a few hundred distinct dates at most: parse each text once.  An empty one
    # is an absent date (None), as `Node.get` has it.
    return {text: date_value(text) if text else None for text in set(texts)}


def _readable(texts: list[str]) -> bool:
    """Every date written in the column reads."""
    return all(day is not None for text, day in _days(texts).items() if text)


def _fitids(texts: list[str]) -> bool:
    """ofx._check_fitids: on every row or none, printable ASCII."""
    return (all(texts) or not any(texts)) and _printable(texts)


def _amounts(texts: list[str]) -> list[Decimal] | None:
    if not all(map(AMOUNT.fullmatch, texts)):
        return None
    # A decimal comma ("-200,00") is rare: one join tells whether the column has any.
    return list(map(amount, texts)) if "," in "".join(texts) else list(map(Decimal, texts))  # type: ignore[arg-type]


def _rows(
    text: Columns, dates: list[dt.date], amounts: list[Decimal], path: str, account: str, currency: str
) -> list[Transaction]:
    """ofx._transaction for every row, with `trusted()` called once: the rest are its copies."""
    kinds, names, memos, fitids, avails = text["TRNTYPE"], text["NAME"], text["MEMO"], text["FITID"], text["DTAVAIL"]
    days = _days(avails)
    sources = _sources(path, len(dates))
    first = trusted(
        Transaction,
        date=dates[0],
        amount=amounts[0],
        currency=currency,
        description="",
        payee=None,
        memo=None,
        bank_id=None,
        value_date=None,
        account=account,
        source=sources[0],
        raw={},
    )
    rows: list[dict[str, Any]] = []
    add, row = rows.append, first.__dict__.copy  # a copy and stores beat a dict display of 19 keys
    for d, a, k, n, m, f, v, c, p, s in zip(
        dates, amounts, kinds, names, memos, fitids, avails, text["CHECKNUM"], text["DTPOSTED"], sources
    ):
        into = row()
        into["date"], into["amount"], into["payee"], into["memo"], into["bank_id"] = (
            d,
            a,
            n or None,
            m or None,
            f or None,
        )
        # ofx._transaction: "payee memo" (either alone when the other is missing), else the type.
        into["description"] = f"{n} {m}" if n and m else n or m or k
        into["value_date"], into["source"], into["raw"] = (
            days[v],
            s,
            {"type": k, "fitid": f, "checknum": c, "dtposted": p},
        )
        add(into)
    return _copies(first, rows)


def _sources(path: str, count: int) -> list[Source]:
    first = trusted(Source, path=path, record=1)
    return _copies(first, [{**first.__dict__, "record": record} for record in range(1, count + 1)])


def _copies(first: _M, dicts: list[dict[str, Any]]) -> list[_M]:
    """For each complete field dict (in declared order), what `trusted(type(first), **same names as
    first was given)` makes: `first` with its field values replaced (tests/test_ofx_fast.py)."""
    return trusted_many(type(first), dicts, first.__pydantic_fields_set__)


def batch(columns: Columns, path: str, account: str, currency: str, first_index: int) -> TxBatch | None:
    """The rows of `columns` as a TxBatch, records `first_index + 1` on: what `transactions` makes,
    column by column and without a model per row (the streaming reader's hot path).  None when a
    value is not one the tree reader takes as it is; the caller then lets the tree name the error.
    Whether FITIDs are on every row or none is a question of the whole statement: the caller's."""
    dates, amounts, avails = _dates(columns["DTPOSTED"]), _amounts(columns["TRNAMT"]), _days(columns["DTAVAIL"])
    if dates is None or amounts is None or not _readable(columns["DTAVAIL"]) or not _printable(columns["FITID"]):
        return None
    count = len(dates)
    names, memos, kinds, fitids = columns["NAME"], columns["MEMO"], columns["TRNTYPE"], columns["FITID"]
    raw = RawColumn(kinds, fitids, columns["CHECKNUM"], columns["DTPOSTED"])
    # statements.transaction_of: "payee memo" (either alone when the other is missing), else the type.
    description = [f"{n} {m}" if n and m else n or m or k for n, m, k in zip(names, memos, kinds)]
    return TxBatch(
        path=path,
        account=account,
        date=dates,
        amount=amounts,
        currency=[currency] * count,
        description=description,
        line=[None] * count,
        record=list(range(first_index + 1, first_index + count + 1)),
        payee=[n or None for n in names],
        memo=[m or None for m in memos],
        bank_id=[f or None for f in fitids],
        value_date=list(map(avails.__getitem__, columns["DTAVAIL"])),
        raw=raw,
        first_index=first_index,
    )


class RawColumn(Sequence[dict[str, str]]):
    """The `raw` column of a batch, each row's dict made when asked for: a dict per row cost as
    much as the rest of the row, and most stages never look at `raw`."""

    def __init__(self, kinds: list[str], fitids: list[str], checknums: list[str], posted: list[str]) -> None:
        self._columns = (kinds, fitids, checknums, posted)

    def __len__(self) -> int:
        return len(self._columns[0])

    @overload
    def __getitem__(self, index: int) -> dict[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, str]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, str] | list[dict[str, str]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        kind, fitid, checknum, posted = (column[index] for column in self._columns)
        return {"type": kind, "fitid": fitid, "checknum": checknum, "dtposted": posted}


def _printable(texts: list[str]) -> bool:
    joined = "".join(texts)
    return joined.isascii() and joined.isprintable()
