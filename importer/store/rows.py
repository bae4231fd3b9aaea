"""Transactions as table rows: the column list, and the conversion both ways.

One encoding for every place a whole transaction is written or read (the `transactions` table,
and the `transaction_rows` and `ledger` views over it), so they can never disagree on a column's
order or encoding.  Money is stored as exact decimal text, never a float, so a value read back is
the value stored.  What would repeat on every row is stored compactly: JSON without spaces, no
tags as NULL rather than `[]` (a row is about 400 bytes, and these were 10% of it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal

from importer.core.models import Source, Transaction

TXN_COLUMNS = (
    "external_id, account, date, amount, currency, description, payee, memo, bank_id, balance, "
    "value_date, category, target_account, tags, notes, transfer_to, rule_id, source_path, "
    "source_line, source_record, raw"
)
_PATH = TXN_COLUMNS.split(", ").index("source_path")
# `UPDATE transactions SET {ASSIGN_ROW}` binds a `transaction_row`: every column, the source path
# left NULL when it is the row's file's (as stored).
ASSIGN_ROW = ", ".join(
    "source_path = nullif(?, (SELECT path FROM files WHERE id = transactions.file_id))" if c == "source_path" else f"{c} = ?"
    for c in TXN_COLUMNS.split(", ")
)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")



def transaction_row(t: Transaction) -> tuple[object, ...]:
    """A Transaction as the column values of `TXN_COLUMNS` (money as exact decimal text)."""
    return (
        t.external_id, t.account, t.date.isoformat(), str(t.amount), t.currency, t.description,
        t.payee, t.memo, t.bank_id, None if t.balance is None else str(t.balance),
        None if t.value_date is None else t.value_date.isoformat(), t.category, t.target_account,
        _tags_json(t.tags), t.notes, t.transfer_to, t.rule_id, t.source.path, t.source.line,
        t.source.record, _RAW_JSON(t.raw),
    )  # fmt: skip


def _string_json(ensure_ascii: bool) -> Callable[[object], str]:
    """`json.JSONEncoder(ensure_ascii=..., separators=(",", ":")).encode` for dicts and lists of
    strings (equal output, tests/test_state.py).  `encode` builds a new C encoder per call, which was a third of the
    cost of storing a row; this one is built once."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return json.JSONEncoder(ensure_ascii=ensure_ascii, separators=(",", ":")).encode
    quote = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    # No spaces after the separators: the JSON module reads it back the same, and the raw cells
    # of a CSV row have a dozen of each.
    encode = make(None, _not_serialisable, quote, None, ":", ",", False, False, True)
    return lambda value: "".join(encode(value, 0))


def _not_serialisable(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_RAW_JSON = _string_json(ensure_ascii=False)
_TAGS_JSON = _string_json(ensure_ascii=True)


def _tags_json(tags: Sequence[str]) -> str | None:
    """The tags as a JSON list; None (stored NULL, read back as no tags) when there are none."""
    return _TAGS_JSON(list(tags)) if tags else None


def transaction_from_row(row: Sequence[object]) -> Transaction:
    (ext, account, day, amount, currency, description, payee, memo, bank_id, balance, value_date,
     category, target_account, tags, notes, transfer_to, rule_id, path, line, record, raw) = row  # fmt: skip
    return Transaction(
        external_id=ext, account=account, date=dt.date.fromisoformat(str(day)), amount=Decimal(str(amount)),
        currency=currency, description=description, payee=payee, memo=memo, bank_id=bank_id,
        balance=None if balance is None else Decimal(str(balance)),
        value_date=None if value_date is None else dt.date.fromisoformat(str(value_date)),
        category=category, target_account=target_account, tags=tuple(json.loads(str(tags or "[]"))),
        notes=notes, transfer_to=transfer_to, rule_id=rule_id,
        source=Source(path=str(path), line=line, record=record), raw=json.loads(str(raw or "{}")),
    )  # fmt: skip
