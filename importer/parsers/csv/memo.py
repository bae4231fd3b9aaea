"""Cell texts read once per distinct value, across the batches of one streamed file.

A statement repeats its values: about 40 rows share a day, a few thousand amounts recur, every
row has the same currency.  `Memo.read` parses only the texts of a column it has not seen in an
earlier batch and looks every row up in a dict (in C), so a 1M-row file parses each date once,
not once per row.  A column whose texts never repeat (a running balance) gains nothing, so each
table is bounded by `MEMO_LIMIT` entries and emptied when it passes it: memory stays constant
whatever the file's size.

Only values that read cleanly are remembered.  When a parse of the new texts fails, `read`
returns None and the caller reads the batch the slow way, which finds the first bad row in file
order and names its line, exactly as the whole-file reader does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import filterfalse
from typing import Any

MEMO_LIMIT = 100_000  # entries per column: ~15 MB for a column of Decimals at the worst
# A batch whose texts are this new (a running balance: all of them) is read as it is, and so is
# the column from then on: remembering texts that never come back only costs.
UNIQUE_SHARE = 0.9


class Memo:
    """Per column (by a key naming the column and how it is read), each text's value."""

    def __init__(self) -> None:
        self.tables: dict[Hashable, dict[str, Any]] = {}
        self.unique: set[Hashable] = set()  # columns whose texts do not repeat: read row by row

    def read(self, key: Hashable, values: Sequence[str],
             parse: Callable[[Sequence[str]], list[Any] | None]) -> list[Any] | None:
        """The value of each of `values`; `parse` reads the texts not seen before (None: one is bad)."""
        if key in self.unique:
            return parse(values)
        known = self.tables.setdefault(key, {})
        # In order of first appearance: the texts then lie in memory as the rows do, and reading
        # them in that order was twice as fast as in a set's order (measured on 1M rows).
        new = list(filterfalse(known.__contains__, dict.fromkeys(values)))
        if len(new) > len(values) * UNIQUE_SHARE:
            self.unique.add(key)
            del self.tables[key]
            return parse(values)
        return self._looked_up(known, new, values, parse)

    @staticmethod
    def _looked_up(known: dict[str, Any], new: list[str], values: Sequence[str],
                   parse: Callable[[Sequence[str]], list[Any] | None]) -> list[Any] | None:
        parsed = parse(new) if new else []
        if parsed is None:
            return None
        known.update(zip(new, parsed))
        found = list(map(known.__getitem__, values))
        if len(known) > MEMO_LIMIT:
            known.clear()
        return found
