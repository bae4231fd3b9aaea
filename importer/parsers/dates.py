"""Dates as banks write them: the format is inferred from the whole column, never per cell.

A column such as 01/02/2026, 03/04/2026, 11/12/2026 reads as day-first and as month-first alike.
Guessing would silently swap months and days in the books, so `infer_date_format` refuses and
names the flag and the profile key that settle it.  Any parser with text dates (CSV, QIF, ...)
uses this module.

Dates are read in plain Python where the text has a shape pandas' `to_datetime` surely reads the
same way (`_numeric_dates`, `_plain_dates`), so a small import never loads pandas and numpy (0.7 s);
any other text goes to pandas, the reference reader, and `infer_date_format_pandas` is the whole
inference done by pandas (tests/test_dates_plain.py holds the two equal under hypothesis).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from importer.internals.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

# Tried in this order; the first of several formats that agree on every value wins.
CANDIDATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%Y.%m.%d.",
    "%Y:%m:%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d-%m-%y",
    "%m-%d-%y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d/%b/%Y",
    "%d %b %y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%d-%m-%Y %H:%M:%S.%f",
    "%d-%m-%Y %H:%M",
    "%d.%m.%y %H:%M",
    "%d. %b %Y",
    "%b. %d, %Y",
    "%d %B, %Y",
)

YEAR_RANGE = (1950, 2099)

# Month names and abbreviations in the languages banks in the corpus write, mapped to the
# English abbreviation that `%b` reads regardless of the machine's locale.
_MONTHS: dict[int, str] = {
    1: "january jan januar jänner jaenner janvier janv januari enero ene gennaio gen janeiro styczeń stycznia sty январь января янв",
    2: "february feb februar février fevrier févr fevr februari febrero febbraio fevereiro fev luty lutego lut февраль февраля фев",
    3: "march mar märz maerz mär mrz mars maart mrt marzo março marco marzec marca март марта",
    4: "april apr avril avr abril abr aprile kwiecień kwietnia kwi апрель апреля",
    5: "may mai mei mayo maggio mag maio maj maja май мая",
    6: "june jun juni juin junio giugno giu junho czerwiec czerwca cze июнь июня июн",
    7: "july jul juli juillet juil julio luglio lug julho lipiec lipca lip июль июля июл",
    8: "august aug août aout augustus agosto ago sierpień sierpnia sie август августа авг",
    9: "september sep sept septembre septiembre setiembre settembre set setembro wrzesień września wrz сентябрь сентября сен сент",
    10: "october oct oktober okt octobre octubre ottobre ott outubro out październik października paź октябрь октября окт",
    11: "november nov novembre noviembre novembro listopad listopada lis ноябрь ноября ноя",
    12: "december dec dezember dez décembre decembre diciembre dic dicembre dezembro grudzień grudnia gru декабрь декабря дек",
}
_ENGLISH = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES: dict[str, str] = {name: _ENGLISH[month] for month, names in _MONTHS.items() for name in names.split()}
_WORD = re.compile(r"[^\W\d_]+\.?")


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
    values = list(values)
    first_index = values.index  # the first row holding a value: looked up only to report one
    unique = list(dict.fromkeys(values))
    column = [translate_months(v.strip()) for v in unique]
    sample = [v for v in column[:200] if v]
    shaped = [fmt for fmt in CANDIDATE_FORMATS if all(_shape(fmt).fullmatch(v) for v in sample)]
    readers = [(fmt, days) for fmt in shaped if (days := _reads_all(column, fmt)) is not None]
    if not readers:
        raise NoDateFormat(first_index(unique[_first_unreadable(column)]))
    best_fmt, best = readers[0]
    for fmt, days in readers[1:]:
        # As pandas compares them: a row without a day differs from every other, itself included.
        differ = [i for i, (a, b) in enumerate(zip(days, best)) if a is None or b is None or a != b]
        if differ:
            first, second = sorted(first_index(unique[i]) for i in _two_examples(differ[:2], len(column)))
            return Ambiguity((best_fmt, fmt), (first, second))
    return best_fmt


def _reads_all(column: list[str], fmt: str) -> list[dt.date | None] | None:
    """The day of each value of `column` read with `fmt` (None for an empty one); None when `fmt`
    leaves a value unread or reads none."""
    days = _days(column, fmt)
    if any(day is None for value, day in zip(column, days) if value) or not any(days):
        return None
    return days


def _days(column: list[str], fmt: str) -> list[dt.date | None]:
    """The day of each stripped, translated value of `column` under `fmt`; None where it reads none."""
    texts = [v for v in dict.fromkeys(column) if v]
    by_text = _plain_dates(texts, fmt)
    if by_text is None:
        by_text = _pandas_days(texts, fmt)
    return [by_text[v] if v else None for v in column]


def _pandas_days(texts: list[str], fmt: str) -> dict[str, dt.date | None]:
    parsed = _to_datetime(pd.Series(texts, dtype="string"), fmt)
    return {text: (None if pd.isna(v) else v.date()) for text, v in zip(texts, parsed)}


def infer_date_format_pandas(values: Sequence[str]) -> str | Ambiguity:
    """`infer_date_format` read by pandas alone: the reference the plain readers are held to."""
    values = list(values)
    first_index = values.index  # the first row holding a value: looked up only to report one
    unique = list(dict.fromkeys(values))
    column = _english_months(pd.Series(unique, dtype="string").str.strip())
    sample = [v for v in column.dropna().head(200) if v]
    shaped = [fmt for fmt in CANDIDATE_FORMATS if all(_shape(fmt).fullmatch(v) for v in sample)]
    readers = [(fmt, parsed) for fmt in shaped if (parsed := _try(column, fmt)) is not None]
    if not readers:
        raise NoDateFormat(first_index(unique[_first_unreadable(list(column))]))
    best_fmt, best = readers[0]
    for fmt, parsed in readers[1:]:
        differ = (parsed != best).to_numpy().nonzero()[0]
        if len(differ):
            first, second = sorted(first_index(unique[i]) for i in _two_examples(differ[:2].tolist(), len(column)))
            return Ambiguity((best_fmt, fmt), (first, second))
    return best_fmt


def mostly_dates(values: Sequence[str]) -> bool:
    """Whether one candidate format reads most of the distinct values: a date column with a damaged
    cell is still the date column (the reader then reports that cell at its line), so one cell
    cannot move the dates to another column."""
    unique = list(dict.fromkeys(v for v in values if v))
    column = _english_months(pd.Series(unique, dtype="string").str.strip())
    return any(int(_to_datetime(column, fmt).notna().sum()) * 2 > len(unique) for fmt in CANDIDATE_FORMATS)


def parse_dates(values: Sequence[str], fmt: str) -> list[dt.date | None]:
    """Every value read with `fmt`; None where a value does not match (the caller reports it).

    Each distinct value is parsed once: a statement has far fewer days than rows.
    """
    unique = list(dict.fromkeys(values))
    by_value = _numeric_dates(unique, fmt)
    if by_value is None:
        by_value = dict(zip(unique, _days([translate_months(v.strip()) for v in unique], fmt)))
    return list(map(by_value.__getitem__, values))


def _pandas_dates(unique: list[str], fmt: str) -> dict[str, dt.date | None]:
    """The reference reader: pandas' `to_datetime` with `fmt`, each distinct value once."""
    column = _english_months(pd.Series(unique, dtype="string").str.strip())
    parsed = _to_datetime(column, fmt)
    return {raw: (None if pd.isna(v) else v.date()) for raw, v in zip(unique, parsed)}


def _numeric_dates(unique: list[str], fmt: str) -> dict[str, dt.date | None] | None:
    """`_pandas_dates` for a format of day, month and year in digits ("%m/%d/%Y", "%d.%m.%y"),
    when every value has exactly the shape pandas reads; None otherwise (pandas then reads them).

    pandas costs about 20 ms a call whatever the count, which is most of the time of a streamed
    batch of 20,000 rows over 500 days.  The shape admits only what pandas surely reads the same
    way: one or two digits for day and month (two where pandas reads the format as ISO 8601),
    four for %Y, two for %y (69-99 are 19xx, as in `time.strptime`); `dt.date` then refuses what
    pandas refuses (month 13, February 30), and the year range applies as in `_to_datetime`.
    tests/test_csv_numbers_dates.py compares the two on every shape of every such format."""
    shape = _numeric_shape(fmt)
    if shape is None:
        return None
    found = list(map(shape.fullmatch, unique))
    if None in found:
        return None
    return {raw: _numeric_day(match) for raw, match in zip(unique, found)}  # type: ignore[arg-type]


def _numeric_day(match: re.Match[str]) -> dt.date | None:
    groups = match.groupdict()
    year = int(groups["Y"]) if "Y" in groups else _century(int(groups["y"]))
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        return None
    try:
        return dt.date(year, int(groups["m"]), int(groups["d"]))
    except ValueError:
        return None


def _century(year: int) -> int:
    return year + (2000 if year <= 68 else 1900)  # as `time.strptime` and pandas read %y


_NUMERIC = {"%d": r"(?P<d>\d{1,2})", "%m": r"(?P<m>\d{1,2})", "%Y": r"(?P<Y>\d{4})", "%y": r"(?P<y>\d{2})"}


@cache
def _numeric_shape(fmt: str) -> re.Pattern[str] | None:
    """The values `_numeric_dates` reads for `fmt`, or None when it does not read that format."""
    parts = [p for p in re.split(r"(%.)", fmt) if p]
    directives = sorted(p for p in parts if p.startswith("%"))
    if directives not in (["%Y", "%d", "%m"], ["%d", "%m", "%y"]):
        return None
    if any(not set(p) <= set("/-.") for p in parts if not p.startswith("%")):
        return None
    pattern = "".join(_NUMERIC.get(p, re.escape(p)) for p in parts)
    if fmt.startswith("%Y") and parts.index("%m") < parts.index("%d"):  # pandas' ISO 8601 reader
        pattern = pattern.replace(r"\d{1,2}", r"\d{2}")
    return re.compile(pattern)


_ENGLISH_MONTHS = {name: month for month, name in enumerate(_ENGLISH) if name}
_FULL_MONTHS = ("January February March April May June July August September October November December").split()
_STRICT = {
    "%Y": r"(?P<Y>\d{4})",
    "%y": r"(?P<y>\d{2})",
    "%m": r"(?P<m>\d{2})",
    "%d": r"(?P<d>\d{2})",
    "%H": r"(?P<H>\d{2})",
    "%M": r"(?P<M>\d{2})",
    "%S": r"(?P<S>\d{2})",
    "%f": r"\d{6}",
    "%z": r"(?P<z>[+-]\d{2}):?(?P<zm>\d{2})",
    "%b": "(?P<b>" + "|".join(_ENGLISH[1:]) + ")",
    "%B": "(?P<B>" + "|".join(_FULL_MONTHS) + ")",
}


def _plain_dates(texts: list[str], fmt: str) -> dict[str, dt.date | None] | None:
    """`_pandas_days` of stripped, translated `texts` without pandas, when every text has the
    strict shape `_strict_shape` gives `fmt` and all share one UTC offset; None otherwise.

    The strict shape is the one pandas reads for certain in the one way (two digits for day,
    month and time, the English month names `translate_months` writes); dt.date then refuses
    what pandas refuses.  One offset: pandas reads mixed offsets as UTC, which may move the day."""
    found = _numeric_dates(texts, fmt)
    if found is not None:
        return found
    shape = _strict_shape(fmt)
    if shape is None:
        return None
    matches = list(map(shape.fullmatch, texts))
    if None in matches or ("z" in shape.groupindex and not _one_offset(matches)):  # type: ignore[arg-type]
        return None
    return {text: _strict_day(match) for text, match in zip(texts, matches)}  # type: ignore[arg-type]


@cache
def _strict_shape(fmt: str) -> re.Pattern[str] | None:
    """The texts `_plain_dates` reads for `fmt`; None for a format with another directive."""
    parts = [p for p in re.split(r"(%.)", fmt) if p]
    if any(p.startswith("%") and p not in _STRICT for p in parts):
        return None
    return re.compile("".join(_STRICT.get(p, re.escape(p)) for p in parts))


def _one_offset(matches: list[re.Match[str]]) -> bool:
    """Whether the texts name at most one UTC offset, a valid one."""
    offsets = {(m.group("z"), m.group("zm")) for m in matches}
    return len(offsets) <= 1 and all(abs(int(h)) <= 23 and int(m) <= 59 for h, m in offsets)


def _strict_day(match: re.Match[str]) -> dt.date | None:
    groups = match.groupdict()
    year = int(groups["Y"]) if "Y" in groups else _century(int(groups["y"]))
    month = int(groups["m"]) if "m" in groups else _month_number(groups)
    clock = (int(groups.get("H", 0)), int(groups.get("M", 0)), int(groups.get("S", 0)))
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1] or clock[0] > 23 or max(clock[1:]) > 59:
        return None
    try:
        return dt.date(year, month, int(groups["d"]))
    except ValueError:
        return None


def _month_number(groups: dict[str, str]) -> int:
    return _ENGLISH_MONTHS[groups["b"]] if "b" in groups else _FULL_MONTHS.index(groups["B"]) + 1


def translate_months(value: str) -> str:
    """`value` with a month name in any supported language replaced by its English abbreviation."""
    return _WORD.sub(lambda m: MONTH_NAMES.get(m.group(0).lower().rstrip("."), m.group(0)), value)


def _english_months(column: pd.Series[str]) -> pd.Series[str]:
    if not column.str.contains(r"[^\W\d_]", regex=True, na=False).any():
        return column
    return column.map(lambda v: v if pd.isna(v) else translate_months(v))


def _to_datetime(column: pd.Series[str], fmt: str) -> pd.Series[pd.Timestamp]:
    try:
        parsed = pd.Series(pd.to_datetime(column, format=fmt, errors="coerce"))
    except (ValueError, TypeError):  # mixed UTC offsets under %z
        parsed = pd.Series(pd.to_datetime(column, format=fmt, errors="coerce", utc=True))
    # A year like 1111 is an anonymised placeholder or a misread, not a booking date.
    return parsed.where((parsed.dt.year >= YEAR_RANGE[0]) & (parsed.dt.year <= YEAR_RANGE[1]))


def _try(column: pd.Series[str], fmt: str) -> pd.Series[pd.Timestamp] | None:
    parsed = _to_datetime(column, fmt)
    if parsed[column.fillna("") != ""].isna().any() or parsed.isna().all():
        return None
    # Compare days only: time zones and times do not change which day a booking belongs to.
    return pd.Series([None if pd.isna(v) else v.date() for v in parsed], dtype=object)


_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d{1,2}",
    "m": r"\d{1,2}",
    "d": r"\d{1,2}",
    "H": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "f": r"\d{1,9}",
    "z": r"(?:[+-]\d{2}:?\d{2}|Z)",
    "b": r"[^\W\d_]{3,}\.?",
    "B": r"[^\W\d_]{3,}",
}


@cache
def _shape(fmt: str) -> re.Pattern[str]:
    """A regular expression for the text `fmt` can produce: a cheap test before pandas parses."""
    parts = re.split(r"(%.)", fmt)
    return re.compile("".join(_DIRECTIVES.get(p[1], ".*") if p.startswith("%") else re.escape(p) for p in parts if p))


def _first_unreadable(column: list[str]) -> int:
    # The row that defeats the most lenient reader is the one to show the user.
    for i, value in enumerate(column):
        if value and all(pd.isna(pd.to_datetime(value, format=f, errors="coerce")) for f in CANDIDATE_FORMATS):
            return i
    return 0


def _two_examples(differ: Sequence[int], size: int) -> tuple[int, int]:
    first = int(differ[0])
    second = int(differ[1]) if len(differ) > 1 else (first + 1 if first + 1 < size else max(first - 1, 0))
    return first, second
