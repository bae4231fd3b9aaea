"""Transactions in bulk from columns a parser has already validated as wholes.

`importer.core.models.trusted` skips validation per row; at a million rows what is left of it still
counts: a keyword dict per call, a fresh `set` of given field names per model (728 bytes for a
Transaction, 216 for its Source: about 0.9 GB at a million rows), and the call itself.  Here the
field layout is worked out once per statement, each row's `__dict__` is one dict display, and
all rows share one field-name set.  The models are equal to `trusted(cls, **fields)` and to
validated ones (tests/test_csv_build.py); sharing the set is safe because the models are frozen
and pydantic copies it before changing it (`model_copy`, `with_updates` build a new one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from importer.core.models import Source, Transaction, layout, trusted_many

# The fields a CSV row gives, in the order `trusted` would receive them.
ROW_FIELDS = (
    "date",
    "amount",
    "currency",
    "description",
    "payee",
    "memo",
    "bank_id",
    "balance",
    "value_date",
    "account",
    "source",
    "raw",
)
_SOURCE_FIELDS = ("path", "line")


def _defaults(cls: type[Transaction] | type[Source], given: Sequence[str]) -> dict[str, Any]:
    """Every field in declared order with its default; given ones are overwritten per row."""
    defaults, factories = layout(cls)
    if missing := set(factories) - set(given):
        raise ValueError(f"{cls.__name__}.{sorted(missing)[0]} needs its factory: give it per row")
    return dict(defaults)


def sources(path: str, lines: Sequence[int]) -> list[Source]:
    """`trusted(Source, path=path, line=line)` for every line; one shared path string."""
    base, given = _defaults(Source, _SOURCE_FIELDS), set(_SOURCE_FIELDS)
    return trusted_many(Source, [{**base, "path": path, "line": line} for line in lines], given)


def transactions(columns: dict[str, Sequence[Any]]) -> list[Transaction]:
    """`trusted(Transaction, **row)` for every row of `columns` (one sequence per ROW_FIELDS name),
    each value already of the type the field holds.  Empties `columns`, so that each column list
    is let go before the models are made (at a million rows each list is 8 MB)."""
    base, given = _defaults(Transaction, ROW_FIELDS), set(ROW_FIELDS)
    if set(columns) != given:
        raise ValueError(f"columns {sorted(columns)} are not the row fields {sorted(given)}")
    values = [
        {
            **base,
            "date": d,
            "amount": a,
            "currency": c,
            "description": text,
            "payee": p,
            "memo": m,
            "bank_id": b,
            "balance": bal,
            "value_date": v,
            "account": acc,
            "source": s,
            "raw": r,
        }
        for d, a, c, text, p, m, b, bal, v, acc, s, r in zip(*(columns[name] for name in ROW_FIELDS))
    ]
    columns.clear()
    return trusted_many(Transaction, values, given)
