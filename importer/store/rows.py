"""Transactions as table rows: the column list, and the conversion both ways.

One encoding for every place a whole transaction is written or read (the `transactions` table,
and the `transaction_rows` and `ledger` views over it), so they can never disagree on a column's
order or encoding.  Money is stored as exact decimal text, never a float, so a value read back is
the value stored.  What would repeat on every row is stored once or compactly: JSON without
spaces, no tags as NULL rather than `[]`, and a row's raw cells (half of a CSV row's bytes) as
their values alone when their names are their file's columns (`files.raw_columns`), a value that
is the row's description, amount or balance text as that column's number (0, 1, 2: a CSV row
repeats them); the views hand such a row back as `[[names], [values]]`, which
`transaction_from_row` reads as the dict.  `rules suggest` (the bank's category column) and
`explain` read any raw cell, so every cell is kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from importer.core.models import Source, Transaction

TXN_COLUMNS = (
    "external_id, account, date, amount, currency, description, payee, memo, bank_id, balance, "
    "value_date, category, target_account, tags, notes, transfer_to, rule_id, source_path, "
    "source_line, source_record, raw"
)
_PATH = TXN_COLUMNS.split(", ").index("source_path")
_RAW = TXN_COLUMNS.split(", ").index("raw")
_DESCRIPTION, _AMOUNT, _BALANCE = (TXN_COLUMNS.split(", ").index(c) for c in ("description", "amount", "balance"))
# `UPDATE transactions SET {ASSIGN_ROW}` binds a `transaction_row`: every column, the source path
# left NULL when it is the row's file's (as stored).
ASSIGN_ROW = ", ".join(
    "source_path = nullif(?, (SELECT path FROM files WHERE id = transactions.file_id))"
    if c == "source_path"
    else f"{c} = ?"
    for c in TXN_COLUMNS.split(", ")
)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def transaction_row(t: Transaction) -> tuple[object, ...]:
    """A Transaction as the column values of `TXN_COLUMNS` (money as exact decimal text)."""
    return (
        t.external_id,
        t.account,
        t.date.isoformat(),
        str(t.amount),
        t.currency,
        t.description,
        t.payee,
        t.memo,
        t.bank_id,
        None if t.balance is None else str(t.balance),
        None if t.value_date is None else t.value_date.isoformat(),
        t.category,
        t.target_account,
        _tags_json(t.tags),
        t.notes,
        t.transfer_to,
        t.rule_id,
        t.source.path,
        t.source.line,
        t.source.record,
        _RAW_JSON(t.raw),
    )


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


def raw_text(raw: Mapping[str, str], columns: Sequence[str] | None, stored: Sequence[object]) -> str | None:
    """A row's raw cells as stored: the values alone (a JSON list) when their names are
    `columns`, its file's, each value that is one of `stored` (the row's description, amount
    and balance texts) as its position there; else the JSON object; None when there are none."""
    if not raw:
        return None
    if columns is not None and list(raw) == columns:
        same = {text: n for n, text in enumerate(stored) if text is not None}
        return _RAW_JSON([same.get(value, value) for value in raw.values()])
    return _RAW_JSON(raw)


def _stored_texts(row: Sequence[object]) -> tuple[object, object, object]:
    """What a raw cell may refer to in a `TXN_COLUMNS` row: its description, amount, balance."""
    return row[_DESCRIPTION], row[_AMOUNT], row[_BALANCE]


def as_stored(t: Transaction, file_path: str | None, columns: Sequence[str] | None) -> tuple[object, ...]:
    """`transaction_row(t)` as a row of file (`file_path`, `columns`) stores it: its source path
    NULL when it is the file's, its raw cells by `raw_text`."""
    row = list(transaction_row(t))
    row[_PATH] = None if row[_PATH] == file_path else row[_PATH]
    row[_RAW] = raw_text(t.raw, columns, _stored_texts(row))
    return tuple(row)


def _raw_cells(text: object, stored: Sequence[object]) -> dict[str, str]:
    """The raw cells of a row read through a view: a JSON object, or `[[names], [values]]`
    whose numbers are positions in `stored` (`raw_text`)."""
    if not text:
        return {}
    value = json.loads(str(text))
    if isinstance(value, list):
        names, cells = value
        return dict(zip(names, [stored[c] if type(c) is int else c for c in cells]))
    return dict(value)


def transaction_from_row(row: Sequence[object]) -> Transaction:
    (
        ext,
        account,
        day,
        amount,
        currency,
        description,
        payee,
        memo,
        bank_id,
        balance,
        value_date,
        category,
        target_account,
        tags,
        notes,
        transfer_to,
        rule_id,
        path,
        line,
        record,
        raw,
    ) = row
    return Transaction(
        external_id=ext,
        account=account,
        date=dt.date.fromisoformat(str(day)),
        amount=Decimal(str(amount)),
        currency=currency,
        description=description,
        payee=payee,
        memo=memo,
        bank_id=bank_id,
        balance=None if balance is None else Decimal(str(balance)),
        value_date=None if value_date is None else dt.date.fromisoformat(str(value_date)),
        category=category,
        target_account=target_account,
        tags=tuple(json.loads(str(tags or "[]"))),
        notes=notes,
        transfer_to=transfer_to,
        rule_id=rule_id,
        source=Source(path=str(path), line=line, record=record),
        raw=_raw_cells(raw, (description, amount, balance)),
    )
