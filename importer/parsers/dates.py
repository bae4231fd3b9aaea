"""Dates as banks write them: the format is inferred from the whole column, never per cell.

A column such as 01/02/2026, 03/04/2026, 11/12/2026 reads as day-first and as month-first alike.
Guessing would silently swap months and days in the books, so `infer_date_format` refuses and
names the flag and the profile key that settle it.  Any parser with text dates (CSV, QIF, ...)
uses this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

# Tried in this order; the first of several formats that agree on every value wins.
CANDIDATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d",
    "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y",
    "%d-%m-%Y", "%m-%d-%Y", "%d-%m-%y", "%m-%d-%y",
    "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y",
    "%d-%b-%Y", "%d-%b-%y", "%d/%b/%Y", "%d %b %y",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
)  # fmt: skip


@dataclass(frozen=True)
class Ambiguity:
    """Two formats read every value, but disagree on some: the user has to choose."""

    formats: tuple[str, str]
    examples: tuple[int, int]  # indexes of two values the formats read differently, or any two


class NoDateFormat(ValueError):
    """No candidate format reads every value; `index` is the first value no format reads."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def infer_date_format(values: Sequence[str]) -> str | Ambiguity:
    """The format that reads every non-empty value, or the `Ambiguity` between two of them.

    Raises `NoDateFormat` when no candidate reads the whole column.
    """
    column = pd.Series(list(values), dtype="string").str.strip()
    readers = [(fmt, parsed) for fmt in CANDIDATE_FORMATS if (parsed := _try(column, fmt)) is not None]
    if not readers:
        raise NoDateFormat(_first_unreadable(column))
    best_fmt, best = readers[0]
    for fmt, parsed in readers[1:]:
        differ = (parsed != best).to_numpy().nonzero()[0]
        if len(differ):
            return Ambiguity((best_fmt, fmt), _two_examples(differ, len(column)))
    return best_fmt


def parse_dates(values: Sequence[str], fmt: str) -> list[dt.date | None]:
    """Every value read with `fmt`; None where a value does not match (the caller reports it)."""
    parsed = pd.to_datetime(pd.Series(list(values), dtype="string").str.strip(), format=fmt, errors="coerce")
    return [None if pd.isna(v) else v.date() for v in parsed]


def _try(column: "pd.Series[str]", fmt: str) -> "pd.Series[pd.Timestamp] | None":
    parsed = pd.to_datetime(column, format=fmt, errors="coerce")
    if parsed[column.fillna("") != ""].isna().any() or parsed.isna().all():
        return None
    return parsed


def _first_unreadable(column: "pd.Series[str]") -> int:
    # The row that defeats the most lenient reader is the one to show the user.
    for i, value in enumerate(column):
        if value and all(pd.isna(pd.to_datetime(value, format=f, errors="coerce")) for f in CANDIDATE_FORMATS):
            return i
    return 0


def _two_examples(differ: Sequence[int], size: int) -> tuple[int, int]:
    first = int(differ[0])
    second = int(differ[1]) if len(differ) > 1 else (first + 1 if first + 1 < size else max(first - 1, 0))
    return first, second
