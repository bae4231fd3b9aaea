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

`batch_columns` gives the same values for a whole `TxBatch` at once, column by column (the
streaming import stores batches): each column is one pass in C where it can be (`map(str, ...)`,
`zip`), not a tuple assembled per row in Python, which cost more than SQLite's insert itself.
The raw cells of a CSV batch come as the reader's columns (`CellColumns`), so they are encoded
without a dict per row.  `as_stored` of each row's `Transaction` is the reference of both, and
`raw_text` of each row's dict that of the cells (tests/test_store_rows.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from itertools import repeat
from operator import eq
from typing import Any

from importer.core.batch import CellColumns, TxBatch
from importer.core.models import Source, Transaction

TXN_COLUMNS = (
    "external_id, account, date, amount, currency, description, payee, memo, bank_id, balance, "
    "value_date, category, target_account, tags, notes, transfer_to, rule_id, source_path, "
    "source_line, source_record, raw"
)
_PATH = TXN_COLUMNS.split(", ").index("source_path")
_RAW = TXN_COLUMNS.split(", ").index("raw")
_DESCRIPTION, _AMOUNT, _BALANCE = (TXN_COLUMNS.split(", ").index(c) for c in ("description", "amount", "balance"))
# `UPDATE transactions SET {ASSIGN_ROW}` binds an `assigned_row`: every column, the source path
# left NULL when it is the row's file's (as stored), and the key of its id (store/idkey.py).
ASSIGN_ROW = (
    ", ".join(
        "source_path = nullif(?, (SELECT path FROM files WHERE id = transactions.file_id))"
        if c == "source_path"
        else f"{c} = ?"
        for c in TXN_COLUMNS.split(", ")
    )
    + ", id_key = id_key(?)"
)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def assigned_row(t: Transaction) -> tuple[object, ...]:
    """The parameters of `ASSIGN_ROW` for `t`: its `transaction_row`, then its id for the key."""
    return (*transaction_row(t), t.external_id)


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


def batch_columns(
    batch: TxBatch, rows: Sequence[int], path: str | None, columns: Sequence[str] | None
) -> list[list[Any]]:
    """The `TXN_COLUMNS` values of rows `rows` of `batch`, one list per column: for each row what
    `as_stored(row's Transaction, file_path, columns)` gives when `path` is None where the row's
    path is the file's (`file_path`), else the row's path."""
    pick = _picker(batch, rows)
    size = len(rows)
    amounts = list(map(str, pick(batch.amount)))  # no memo by value: Decimal 5.0 == 5.00, texts differ
    balances = _texts(batch.balance, pick, str, size)
    descriptions = pick(batch.description)
    payee, memo, bank_id, category, target_account, notes, transfer_to, rule_id, ext, record = (
        [None] * size if getattr(batch, name) is None else pick(getattr(batch, name)) for name in _AS_THEY_ARE
    )
    tags = [None] * size if batch.tags is None else list(map(_tags_json, pick(batch.tags)))
    stored = (descriptions, amounts, balances)
    return [
        *(ext, [batch.account] * size, list(map(dt.date.isoformat, pick(batch.date))), amounts),
        *(pick(batch.currency), descriptions, payee, memo, bank_id, balances),
        *(_texts(batch.value_date, pick, dt.date.isoformat, size), category, target_account, tags, notes),
        *(transfer_to, rule_id, [path] * size, pick(batch.line), record),
        _raw_column(batch, rows, pick, columns, stored),
    ]


# The optional columns `batch_columns` stores as they are (None in every row where absent).
_AS_THEY_ARE = (
    "payee",
    "memo",
    "bank_id",
    "category",
    "target_account",
    "notes",
    "transfer_to",
    "rule_id",
    "external_id",
    "record",
)

Pick = Callable[[Sequence[Any]], list[Any]]
# The texts a raw cell may be stored as the number of: each row's description, amount, balance.
Stored = tuple[list[Any], list[Any], list[Any]]


def _picker(batch: TxBatch, rows: Sequence[int]) -> Pick:
    """A column's values at `rows`: the whole column copied when `rows` is every row in order."""
    if list(rows) == list(range(len(batch))):
        return list
    return lambda column: [column[i] for i in rows]


def _texts(values: Sequence[Any] | None, pick: Pick, text: Callable[[Any], str], size: int) -> list[str | None]:
    """`text` of each picked value, None kept; `size` Nones for an absent column."""
    if values is None:
        return [None] * size
    return [None if value is None else text(value) for value in pick(values)]


def _raw_column(
    batch: TxBatch, rows: Sequence[int], pick: Pick, columns: Sequence[str] | None, stored: Stored
) -> list[str | None]:
    """`raw_texts` of rows `rows` of `batch`, straight from a CSV reader's cell columns when their
    names are the file's `columns` (no dict per row: building them cost more than encoding)."""
    if batch.raw is None:
        return [None] * len(rows)
    if isinstance(batch.raw, CellColumns) and columns and batch.raw.names == list(columns):
        return encoded_rows(batch.raw.cell_columns(rows), stored)
    return raw_texts(pick(batch.raw), columns, stored)


def raw_texts(raws: Sequence[Mapping[str, str]], columns: Sequence[str] | None, stored: Stored) -> list[str | None]:
    """`raw_text` of each row (its cells `raws[i]`, the `stored` columns' texts at `i`), by
    column when every row's cells are named `columns` (a CSV file's rows always are)."""
    cells = list(raws)
    names = None if columns is None else list(columns)
    if not names or any(list(raw) != names for raw in cells):
        return [raw_text(raw, columns, row) for raw, row in zip(cells, zip(*stored))]
    return encoded_rows([list(column) for column in zip(*(raw.values() for raw in cells))], stored)


def encoded_rows(cell_columns: Sequence[list[str]], stored: Stored) -> list[str | None]:
    """Rows of cells given as columns (at least one; each `cell_columns[k]`, one cell per row) as
    `raw_text` writes them when the names are the file's: one JSON list per row."""
    # Most columns equal no stored text in any row: one set of them all answers that for a column
    # in one pass, a third of what comparing it with each stored column row by row took.
    texts = set(stored[0]).union(stored[1], stored[2])
    encoded = [
        _cell_texts(column, *stored) if not texts.isdisjoint(column) else _quoted(column) for column in cell_columns
    ]
    # The brackets go on the first and last cells, a column at a time, so that each row is one
    # `join` in C: a concatenation or a %-format per row took two and three times its instructions.
    encoded[0] = list(map("[".__add__, encoded[0]))
    encoded[-1] = list(map(str.__add__, encoded[-1], repeat("]")))
    return list(map(",".join, zip(*encoded)))


def _quoted(cells: list[str]) -> list[str]:
    return list(map(_QUOTE, cells))


def _cell_texts(cells: list[str], descriptions: list[Any], amounts: list[Any], balances: list[Any]) -> list[str]:
    """One raw column's cells as `raw_text` writes them: the number of the stored text the cell
    equals (the last one of description 0, amount 1, balance 2, as its dict keeps), else the
    cell as a JSON string.  A column that equals one of them in every row and the others in
    none is written in one pass in C (a CSV file's amount, balance and description columns)."""
    numbered = (("2", balances), ("1", amounts), ("0", descriptions))
    equal = [(number, texts) for number, texts in numbered if any(map(eq, cells, texts))]
    if len(equal) == 1 and cells == equal[0][1]:
        return [equal[0][0]] * len(cells)
    return [
        "2" if cell == balance else "1" if cell == amount else "0" if cell == description else _QUOTE(cell)
        for cell, description, amount, balance in zip(cells, descriptions, amounts, balances)
    ]


_QUOTE: Callable[[str], str] = json.encoder.encode_basestring  # _RAW_JSON's quoting: ensure_ascii off


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
