"""The located table as plain columns (lists of str), and the rows that are not bookings.

The layout's grid (detect.py: the csv module's cells, or pandas' for a large table) is taken
as one list per column, because everything after works a column at a
time on the distinct values: a statement has few distinct dates, types and currencies, so a test
runs once per distinct value and the rows only look the answer up.  Row filters give what the
pandas expressions they replace gave (tests/test_csv_fast_path.py compares whole statements).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from importer.core.errors import ParseError
from importer.parsers.csv.profiles import ColumnRef, Profile
from importer.parsers.csv.table import DATE_LIKE
from importer.parsers.numbers import is_number_shaped

# Rows a bank lists before they are booked; they have no booking date yet.
PENDING = frozenset({"pending", "vorgemerkt", "en attente", "in behandeling", "pendiente", "in sospeso"})
_TOTAL = re.compile(
    r"(total|totals|summe|gesamt|totaal|somme|suma|totale|итого|saldo|balance|kontostand)\b", re.IGNORECASE
)
_BALANCE_WORDS = re.compile(r"balance|saldo|solde|kontostand|opening|closing", re.IGNORECASE)


class Cells:
    """The data rows of one table, column by column, with each row's line in the file."""

    def __init__(
        self, path: Path, profile: Profile, header: list[str], columns: list[list[str]], lines: list[int]
    ) -> None:
        self.path, self.profile, self.header = path, profile, header
        self.columns, self.lines = columns, lines
        self._stripped: dict[int, list[str]] = {}
        self._blanks: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def width(self) -> int:
        return len(self.columns)

    def index(self, ref: ColumnRef) -> int:
        """The position of column `ref`; an error naming the profile when the table has no such column."""
        if isinstance(ref, int):
            if not 0 <= ref < self.width:
                raise ParseError(
                    self.path,
                    f"the profile {self.profile.name!r} names column index {ref} (column "
                    f"{ref + 1}), but the table has {self.width} columns (indexes 0 to "
                    f"{self.width - 1}). Fix the column in the profile.",
                )
            return ref
        if ref in self.header:
            return self.header.index(ref)
        names = [h for h in self.header if h]
        if not names:  # "Expected one of ." helps nobody: say the file has no header at all
            raise ParseError(
                self.path,
                f"the profile {self.profile.name!r} names a column {ref!r}, but the table has "
                "no header row naming its columns. Is it the right profile for this file?",
            )
        raise ParseError(
            self.path,
            f"the profile {self.profile.name!r} names a column {ref!r} that the header lacks.",
            expected="one of " + ", ".join(map(repr, names)),
        )

    def column(self, ref: ColumnRef) -> list[str]:
        return self.columns[self.index(ref)]

    def stripped(self, ref: ColumnRef) -> list[str]:
        """The column with each cell stripped (computed once per column)."""
        self.column(ref)
        return self.raw_stripped(ref)

    def raw_column(self, ref: ColumnRef) -> list[str]:
        return self.columns[self.index(ref)]

    def raw_stripped(self, ref: ColumnRef) -> list[str]:
        index = self.index(ref)
        if index not in self._stripped:
            self._stripped[index] = list(map(str.strip, self.columns[index]))
        return self._stripped[index]

    def blanks(self, ref: ColumnRef) -> set[str]:
        """The distinct blank cells of column `ref` (`blank_texts`, computed once per column)."""
        index = self.index(ref)
        if index not in self._blanks:
            self._blanks[index] = blank_texts(self.columns[index])
        return self._blanks[index]

    def keep_rows(self, drop: set[int]) -> None:
        """Only the rows not in `drop`, in order."""
        if not drop:
            return
        keep = [i for i in range(len(self.lines)) if i not in drop]
        self.columns = [[column[i] for i in keep] for column in self.columns]
        self.lines = [self.lines[i] for i in keep]
        self._stripped, self._blanks = {}, {}


def rows_where(values: list[str], test: Callable[[str], bool]) -> set[int]:
    """Indexes of the rows whose value passes `test`, testing each distinct value once."""
    return rows_in(values, set(filter(test, set(values))))


def rows_in(values: Sequence[str], hits: set[str]) -> set[int]:
    """Indexes of the rows whose value is one of `hits` (no pass over the rows when there is none)."""
    return {i for i, value in enumerate(values) if value in hits} if hits else set()


def blank_texts(values: Sequence[str]) -> set[str]:
    """The distinct values that are empty or only spaces: `not v.strip()`, tested in C with no
    Python call per value (an amount column has thousands of distinct values per batch)."""
    if "" not in values and not any(map(str.isspace, values)):  # the usual column: one scan in C
        return set()
    distinct = set(values)
    return set(filter(str.isspace, distinct)) | (distinct & {""})


def not_bookings(cells: Cells, named: bool) -> set[int]:
    """Rows that are not bookings: pending ones, and notes or totals without a date or amount."""
    cols = cells.profile.columns
    dates = cells.raw_stripped(cols.date)
    days = set(dates)
    drop = rows_in(dates, {v for v in days if v.lower() in PENDING})
    drop |= _note_rows(cells, dates, days)
    drop |= _balance_rows(cells, named)
    for name, values in cells.profile.skip_values.items():
        skipped = set(values)
        drop |= rows_where(cells.raw_column(name), lambda v: v.strip() in skipped)  # noqa: B023  (called at once)
    return drop


def _note_rows(cells: Cells, dates: list[str], days: set[str]) -> set[int]:
    # A row with neither a date nor a number in its money columns books nothing.
    undated = rows_in(dates, {v for v in days if not DATE_LIKE.match(v)})
    if not undated:
        return undated
    cols = cells.profile.columns
    money = [cells.raw_column(r) for r in (cols.amount, cols.debit, cols.credit) if r is not None]
    return {i for i in undated if not any(is_number_shaped(column[i]) for column in money) or _TOTAL.match(dates[i])}


def _balance_rows(cells: Cells, named: bool) -> set[int]:
    # "Beginning balance" lines (Bank of America) state a balance and move no money.
    cols = cells.profile.columns
    if cols.amount is None or cols.balance is None:
        return set()
    blank = rows_in(cells.raw_column(cols.amount), cells.blanks(cols.amount))
    balances = cells.raw_column(cols.balance)
    # A named profile vouches for such rows; a detected layout needs the row to say "balance".
    return {i for i in blank if balances[i].strip() and (named or _worded(cells.columns, i))}


def _worded(columns: Iterable[list[str]], row: int) -> bool:
    return any(_BALANCE_WORDS.search(column[row]) for column in columns)
