"""A batch of transactions as columns: what flows between the stages of the streaming core.

A parser yields a file's rows in `TxBatch`es of at most `BATCH_ROWS` rows; ids, rules and dedupe
work on a whole column at a time and return new columns; the store writes a batch with one
`executemany`.  One row is one index across the columns, never an object: a pydantic
`Transaction` cost about 1.4 KB and 5 µs per row to build, and was copied again by each stage.
`Transaction` stays at the edges (JSON output, API payloads, `explain`), built on demand by
`row()` / `transactions()`.

Why plain lists and not pyarrow or polars: every value we compute per row is a Python object
anyway (a `Decimal`, a hashed id, a regex match on a `str`), and converting Decimal columns in
and out of Arrow costs more than the stage it would feed; see the note of issue 16 for the
measurements.  The columns are replaced, never changed in place (`with_columns`), so a stage can
be tested alone, as with the frozen models before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from importer.core.models import Source, Transaction

BATCH_ROWS = 20_000  # rows per batch: ~10 MB of columns, large enough that per-batch work is noise

# The optional columns: None (or () for tags, {} for raw) in every row when a parser leaves them out.
OPTIONAL = (
    "payee",
    "memo",
    "bank_id",
    "balance",
    "value_date",
    "category",
    "target_account",
    "tags",
    "notes",
    "transfer_to",
    "rule_id",
    "external_id",
    "raw",
)


@runtime_checkable
class CellColumns(Protocol):
    """Raw cells a parser holds as columns, one list per name (csv/streaming.py `RawCells`), each
    row's dict built only when asked for.  The stages read them a column at a time: the rules one
    cell of every row, the store every cell encoded by column, `TxBatch.take` some rows.  A dict
    per row, built only to be taken apart again, cost more than the rules or the encoding did.
    A protocol here, not that class, so that rules and the store do not import the CSV reader."""

    @property
    def names(self) -> list[str]:
        """The cells' names: every row's dict has these keys, in this order."""
        ...

    def cell_columns(self, rows: Sequence[int]) -> list[list[str]]:
        """For each name, the cells of rows `rows` (positions in this sequence)."""
        ...

    def column(self, name: str) -> list[str] | None:
        """Cell `name` of every row, as the rows' dicts hold it; None when there is no such name."""
        ...

    def take(self, rows: Sequence[int]) -> Sequence[dict[str, str]]:
        """Rows `rows` (in that order), still held as columns."""
        ...


@dataclass(frozen=True, slots=True)
class TxBatch:
    """Rows `first_index .. first_index + len - 1` of one statement, column by column.

    `line` and `record` locate each row in its file (`path`), as `Source` does; one of them is None
    per row.  Every column has `len(self)` entries; optional columns may be `None` as a whole,
    meaning "None in every row" (so a parser that has no payee column allocates nothing).
    """

    path: str
    account: str
    date: Sequence[dt.date]
    amount: Sequence[Decimal]
    currency: Sequence[str]
    description: Sequence[str]
    line: Sequence[int | None]
    record: Sequence[int | None] | None = None
    payee: Sequence[str | None] | None = None
    memo: Sequence[str | None] | None = None
    bank_id: Sequence[str | None] | None = None
    balance: Sequence[Decimal | None] | None = None
    value_date: Sequence[dt.date | None] | None = None
    category: Sequence[str | None] | None = None
    target_account: Sequence[str | None] | None = None
    tags: Sequence[tuple[str, ...]] | None = None
    notes: Sequence[str | None] | None = None
    transfer_to: Sequence[str | None] | None = None
    rule_id: Sequence[str | None] | None = None
    external_id: Sequence[str | None] | None = None
    raw: Sequence[dict[str, str]] | None = None
    first_index: int = 0  # index of row 0 within its statement (batches of one statement are consecutive)

    def __len__(self) -> int:
        return len(self.date)

    def column(self, name: str) -> Sequence[Any]:
        """The column `name`, with an absent optional column spelled out as its per-row default."""
        values = getattr(self, name)
        if values is not None:
            return values  # type: ignore[no-any-return]
        empty: Any = () if name == "tags" else ({} if name == "raw" else None)
        return [empty] * len(self)

    def with_columns(self, **columns: Sequence[Any]) -> TxBatch:
        """A new batch with `columns` replaced (each of `len(self)` entries)."""
        for name, values in columns.items():
            if len(values) != len(self):
                raise ValueError(f"column {name} has {len(values)} values for {len(self)} rows")
        # replace() is typed per field; the names were checked by the loop's len() on real columns.
        changes: dict[str, Any] = dict(columns)
        return replace(self, **changes)

    def take(self, rows: Sequence[int]) -> TxBatch:
        """A batch of rows `rows` of this one (in that order)."""
        columns: dict[str, Any] = {}
        for name in _ROW_COLUMNS:
            values = getattr(self, name)
            if isinstance(values, CellColumns):  # raw cells stay columns: the store encodes them so
                columns[name] = values.take(rows)
            else:
                columns[name] = None if values is None else [values[i] for i in rows]
        return replace(self, **columns)

    def source(self, i: int) -> Source:
        record = self.record[i] if self.record is not None else None
        return Source(path=self.path, line=self.line[i], record=record)

    def row(self, i: int) -> Transaction:
        """Row `i` as a validated `Transaction` (for the edges: JSON, payloads, explain)."""
        values = {name: self.column(name)[i] for name in _MODEL_COLUMNS}
        return Transaction(account=self.account, source=self.source(i), **values)

    def transactions(self) -> Iterator[Transaction]:
        return (self.row(i) for i in range(len(self)))

    @classmethod
    def of(cls, txns: Sequence[Transaction], first_index: int = 0) -> TxBatch:
        """The batch of `txns` (all of one file and account): for tests and the reference paths."""
        if not txns:
            raise ValueError("a batch has at least one row")
        columns: Mapping[str, list[Any]] = {name: [getattr(t, name) for t in txns] for name in _MODEL_COLUMNS}
        lines = [t.source.line for t in txns]
        records = [t.source.record for t in txns]
        first = txns[0]
        return cls(
            path=first.source.path,
            account=first.account,
            line=lines,
            record=records,
            first_index=first_index,
            **columns,
        )


_NOT_MODEL = {"path", "account", "line", "record", "first_index"}
_MODEL_COLUMNS = tuple(f.name for f in fields(TxBatch) if f.name not in _NOT_MODEL)
_ROW_COLUMNS = (*_MODEL_COLUMNS, "line", "record")


def batched(txns: Sequence[Transaction], size: int = BATCH_ROWS) -> Iterator[TxBatch]:
    """`txns` as consecutive batches of at most `size` rows."""
    for start in range(0, len(txns), size):
        yield TxBatch.of(txns[start : start + size], first_index=start)
