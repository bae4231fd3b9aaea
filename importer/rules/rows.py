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
from dataclasses import fields
from typing import Any, cast, overload

from importer.core.batch import TxBatch
from importer.core.models import Transaction

# What an absent optional column reads as in every row (as `TxBatch.column` spells it out).
_DEFAULTS: dict[str, Any] = {"tags": (), "raw": {}}
_NOT_READ = {"path", "account", "line", "record", "first_index"}  # not row attributes of a model
COLUMNS = tuple(f.name for f in fields(TxBatch) if f.name not in _NOT_READ)


class RowView:
    """Row `_index` of a batch: attribute reads only, like a frozen model (see `view_class`)."""

    __slots__ = ("_index",)

    def __init__(self, index: int) -> None:
        self._index = index


def view_class(batch: TxBatch) -> type[RowView]:
    """A `RowView` class for `batch`: a property per present column, the constant for an absent
    one and for the account.  One class per batch keeps each read to one small Python call."""
    namespace: dict[str, Any] = {"__slots__": (), "account": batch.account}
    for name in COLUMNS:
        values = getattr(batch, name)
        namespace[name] = _DEFAULTS.get(name) if values is None else _cell(values)
    return type("BatchRow", (RowView,), namespace)


def _cell(values: Sequence[Any]) -> property:
    return property(lambda row: values[row._index])


class Rows(Sequence[Transaction]):
    """The rows of a batch as views, made on access: the matcher's `Sequence[Transaction]`."""

    def __init__(self, batch: TxBatch) -> None:
        self.view = view_class(batch)
        self.size = len(batch)

    def release(self) -> None:
        """Let go of the batch's columns once its rules are applied.  A class is always in a
        reference cycle (it names itself in its `__mro__`), so the columns its properties hold
        would otherwise wait for the cycle collector, which the import runs only now and then
        (importer/run/file_import.py); what is left is the empty class, about a kilobyte."""
        for name in COLUMNS:
            if isinstance(self.view.__dict__.get(name), property):
                delattr(self.view, name)

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
        return cast(Transaction, self.view(index % self.size))

    def __iter__(self) -> Iterator[Transaction]:
        return (self[i] for i in range(self.size))
