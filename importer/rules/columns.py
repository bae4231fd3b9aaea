"""One test over a whole batch: a column of results, computed with as little Python per row as can be.

A batch reads each field once (`Columns`); a test then runs over the field's values through
C-level `map`s where it can: a regex's `search`, a bound comparison of `Decimal`s, a lookup in
the results for each distinct date.  Each column is equal to calling the test on every row
(tests/test_rules_matcher.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from operator import and_, attrgetter, methodcaller
from typing import Any

from importer.core.batch import CellColumns, TxBatch
from importer.core.models import Transaction
from importer.rules.conditions import (
    PART,
    TEXT,
    AmountTest,
    Condition,
    DateTest,
    ForeignTest,
    TextTest,
    compile_condition,
    joined_text,
    text_getter,
    text_predicate,
)
from importer.rules.partial import InAccounts


class Columns:
    """The fields of a batch's rows, each read once, on demand (from models: see `BatchColumns`)."""

    def __init__(self, txns: Sequence[Transaction]) -> None:
        self.txns = txns
        self.read: dict[str, list[Hashable]] = {}

    def field(self, name: str) -> list[Any]:
        """Model field `name` (not `text`, not `raw.*`) per row, as stored."""
        return list(map(attrgetter(name), self.txns))

    def raw_column(self, name: str) -> list[str | None]:
        """Raw column `name` per row: None where the row has no such column."""
        return list(map(methodcaller("get", name), map(attrgetter("raw"), self.txns)))

    def raw(self, name: str) -> list[str | None]:
        """Text field `name` (or raw column `raw.<column>`) per row as stored: None where missing."""
        if name not in self.read:
            if name == TEXT:
                self.read[name] = self._joined()  # type: ignore[assignment]
            elif name.startswith("raw."):
                self.read[name] = self.raw_column(name[4:])  # type: ignore[assignment]
            else:
                self.read[name] = self.field(name)
        return self.read[name]  # type: ignore[return-value]

    def _joined(self) -> list[str]:
        # Most exports give no payee or memo: then `text` is the description column itself.
        descriptions, payees, memos = self.raw("description"), self.raw("payee"), self.raw("memo")
        if not any(payees) and not any(memos):
            # The very list `text("description")` gives, so that the batch matcher can tell the two
            # fields read one column and sign it once (plans.py `Batch._signatures`).
            return self.text("description")
        return [
            f"{d}{PART}{p}{PART}{m}" if d and p and m else joined_text(d, p, m)
            for d, p, m in zip(descriptions, payees, memos)
        ]

    def text(self, name: str) -> list[str]:
        """Text field `name` per row as tests read it: "" where missing."""
        key = f"text:{name}"
        if key not in self.read:
            values = self.raw(name)
            self.read[key] = [value or "" for value in values] if None in values else values  # type: ignore[assignment]
        return self.read[key]  # type: ignore[return-value]

    def text_at(self, name: str, rows: list[int]) -> list[str]:
        """`text(name)` of `rows` only.  A raw column the batch has not read whole is read for
        these rows alone: a test on it left open by the key (`raw.Type` beside a description
        literal) runs on the few rows whose key leaves it open, not on every row's cell."""
        if f"text:{name}" in self.read or not name.startswith("raw."):
            return list(map(self.text(name).__getitem__, rows))
        read, txns = text_getter(name), self.txns
        return [read(txns[i]) for i in rows]

    def values(self, name: str) -> list[Hashable]:
        """A non-text field (amount, date, value_date) per row."""
        if name not in self.read:
            self.read[name] = self.field(name)
        return self.read[name]


class BatchColumns(Columns):
    """`Columns` of a `TxBatch`: its columns as they are, `txns` the row views (rows.py) that
    the few per-row tests read, so no field is ever read row by row from a model."""

    def __init__(self, batch: TxBatch, rows: Sequence[Transaction]) -> None:
        super().__init__(rows)
        self.batch = batch

    def field(self, name: str) -> list[Any]:
        if name == "account":
            return [self.batch.account] * len(self.batch)
        values = self.batch.column(name)
        return values if isinstance(values, list) else list(values)

    def raw_column(self, name: str) -> list[str | None]:
        raw = self.batch.raw
        if raw is None:
            return [None] * len(self.batch)
        if isinstance(raw, CellColumns):  # a CSV parser's lazy cells: read as a column, no dict per row
            cells = raw.column(name)
            return [None] * len(self.batch) if cells is None else list(cells)
        return list(map(methodcaller("get", name), raw))


def column(leaf: Condition, columns: Columns) -> list[bool]:
    """`leaf(txn)` for every row of the batch."""
    if isinstance(leaf, TextTest):
        texts = columns.text(leaf.field)
        if leaf.pattern is not None:
            return list(map(bool, map(leaf.pattern.search, texts)))
        return list(map(text_predicate(leaf), texts))
    if isinstance(leaf, AmountTest):
        return _amounts(leaf, columns.values("amount"))  # type: ignore[arg-type]
    if isinstance(leaf, DateTest):
        return _per_distinct(leaf.holds_on, columns.values(leaf.field))
    if isinstance(leaf, ForeignTest):
        return _per_distinct(leaf.holds_for, columns.text("currency"))
    if isinstance(leaf, InAccounts):
        return list(map(leaf.accounts.__contains__, columns.text("account")))
    return list(map(compile_condition(leaf), columns.txns))


def column_at(leaf: Condition, columns: Columns, rows: list[int]) -> list[bool] | None:
    """`leaf(txn)` for the given rows only, or None when a column does not decide `leaf`."""
    if isinstance(leaf, TextTest):
        texts = columns.text_at(leaf.field, rows)
        if leaf.pattern is not None:
            return list(map(bool, map(leaf.pattern.search, texts)))
        return list(map(text_predicate(leaf), texts))
    if isinstance(leaf, AmountTest):
        return _amounts(leaf, list(map(columns.values("amount").__getitem__, rows)))  # type: ignore[arg-type]
    if isinstance(leaf, DateTest):
        return _per_distinct(leaf.holds_on, list(map(columns.values(leaf.field).__getitem__, rows)))
    return None


def _amounts(test: AmountTest, amounts: list[Decimal]) -> list[bool]:
    # Same bounds as AmountTest.__call__, written as `bound.__op__(value)` so the loop stays in C.
    values = list(map(abs, amounts)) if test.absolute else amounts
    sides: list[Callable[[Decimal], bool]] = []
    if test.low is not None:
        sides.append(test.low.__lt__ if test.low_open else test.low.__le__)
    if test.high is not None:
        sides.append(test.high.__gt__ if test.high_open else test.high.__ge__)
    if not sides:
        return [True] * len(values)
    if len(sides) == 1:
        return list(map(sides[0], values))
    return list(map(and_, map(sides[0], values), map(sides[1], values)))


def _per_distinct(holds: Callable[[Any], bool], values: Sequence[Hashable]) -> list[bool]:
    # A statement spans a few hundred days and a few currencies: decide each once, look rows up.
    results = {value: holds(value) for value in set(values)}
    return list(map(results.__getitem__, values))
