"""A `TxBatch`'s rows as the rule tests read them, without building a `Transaction` per row.

Conditions, templates and `combine` only ever *read* a transaction's attributes (`description`,
`amount`, `raw`, `tags`, ...).  `RowView` answers those reads from the batch's columns by index,
so the few rows a batch still needs one at a time (a key's representative, a row with an open
regex or amount test, a row whose template reads its own text) cost one small object, not the
~5 µs of a validated model.  The views are typed as `Transaction` where they are handed to the
tests: they are read-only stand-ins with the same attribute names and values (the equivalence
tests in tests/test_rules_batch.py compare `apply_batch` with `apply_all` on real models).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast, overload

from importer.core.batch import TxBatch
from importer.core.models import Transaction

# What an absent optional column reads as in every row (as `TxBatch.column` spells it out).
_DEFAULTS: dict[str, Any] = {"tags": (), "raw": {}}


class Table:
    """A batch's columns looked up by name once, absent ones as their per-row default."""

    def __init__(self, batch: TxBatch) -> None:
        self.batch = batch
        self.present: dict[str, Sequence[Any]] = {}
        self.absent: dict[str, Any] = {}

    def cell(self, name: str, index: int) -> Any:
        column = self.present.get(name)
        if column is not None:
            return column[index]
        if name in self.absent:
            return self.absent[name]
        return self._resolve(name, index)

    def _resolve(self, name: str, index: int) -> Any:
        values = getattr(self.batch, name)  # AttributeError for a name no batch has, as a model
        if values is None:
            self.absent[name] = _DEFAULTS.get(name)
            return self.absent[name]
        self.present[name] = values
        return values[index]


class RowView:
    """Row `index` of a batch, read through `Table`: attribute reads only, like a frozen model."""

    __slots__ = ("_table", "_index", "account")

    def __init__(self, table: Table, index: int) -> None:
        self._table = table
        self._index = index
        self.account = table.batch.account  # one account per batch: the hottest read, kept plain

    def __getattr__(self, name: str) -> Any:
        # Only reached for the columns (slots are found first); a leading "_" is never a column.
        if name.startswith("_"):
            raise AttributeError(name)
        return self._table.cell(name, self._index)


class Rows(Sequence[Transaction]):
    """The rows of a batch as views, made on access: the matcher's `Sequence[Transaction]`."""

    def __init__(self, batch: TxBatch) -> None:
        self.table = Table(batch)
        self.size = len(batch)

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> Transaction: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Transaction]: ...
    def __getitem__(self, index: int | slice) -> Transaction | Sequence[Transaction]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if not -self.size <= index < self.size:
            raise IndexError(index)
        return cast(Transaction, RowView(self.table, index % self.size))

    def __iter__(self) -> Iterator[Transaction]:
        return (self[i] for i in range(self.size))
