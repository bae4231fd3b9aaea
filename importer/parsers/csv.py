"""CSV bank exports described by a bank profile (see `importer.profiles`).

Cells are read as strings and only then turned into Decimal and date, column by column, so no
value passes through float and a bad cell is reported with its line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
from decimal import Decimal
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from importer.currencies import is_currency
from importer.errors import InputError, ParseError
from importer.models import Source, Statement, Transaction
from importer.parsers.base import FileSample, ParseOptions
from importer.parsers.numbers import NotANumber, parse_amount
from importer.profiles import ColumnRef, Profile, all_profiles, get_profile

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}


class CsvParser:
    """Delimited text laid out as one of the known bank profiles."""

    name = "csv"

    def identify(self, sample: FileSample) -> bool:
        if b"\x00" in sample.head and not sample.head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return False
        if sample.options.profile is not None:
            return sample.path.suffix.lower() in _TEXT_SUFFIXES
        return matching_profile(sample) is not None

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        profile = self._choose_profile(path, options)
        frame = read_frame(path, profile)
        return [build_statement(path, frame, profile, options)]

    def _choose_profile(self, path: Path, options: ParseOptions) -> Profile:
        if options.profile is not None:
            return get_profile(options.profile, options.profile_dirs)
        profile = matching_profile(FileSample.read(path, options))
        if profile is None:
            raise InputError(path, "no bank profile matches this CSV header; pass --profile NAME.")
        return profile


def matching_profile(sample: FileSample) -> Profile | None:
    """The profile whose header signature the file's header row contains, if any."""
    for profile in all_profiles(sample.options.profile_dirs).values():
        if profile.header and _header_cells(sample.head, profile) >= set(profile.header):
            return profile
    return None


def _header_cells(head: bytes, profile: Profile) -> set[str]:
    try:
        text = head.decode(_python_encoding(profile.encoding), errors="replace")
    except LookupError:
        return set()
    lines = [line for line in text.splitlines()[profile.skip_rows :] if line.strip()]
    if not lines:
        return set()
    row = next(csv.reader([lines[0]], delimiter=profile.delimiter), [])
    return {cell.strip() for cell in row}


def _python_encoding(name: str) -> str:
    # utf-8-sig reads both plain UTF-8 and UTF-8 with a byte-order mark.
    return "utf-8-sig" if name.lower().replace("_", "-") in {"utf-8", "utf8"} else name


def read_frame(path: Path, profile: Profile) -> pd.DataFrame:
    """The table below the header as strings; an error names the line of a ragged row."""
    text = _decode(path, profile)
    try:
        with warnings.catch_warnings():
            # A trailing delimiter on every row (Chase) is expected; pandas warns about it.
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text),
                sep=profile.delimiter,
                dtype=str,
                keep_default_na=False,
                skiprows=profile.skip_rows,
                header=0 if profile.has_header else None,
                skip_blank_lines=False,
                index_col=False,  # rows with a trailing delimiter must not shift into the index
            )
    except pd.errors.ParserError as exc:
        raise ParseError(path, f"the table is malformed ({exc}).") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file is empty.") from None


def _decode(path: Path, profile: Profile) -> str:
    data = path.read_bytes()
    try:
        return data.decode(_python_encoding(profile.encoding))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            path,
            f"is not valid {profile.encoding} text.",
            line=line,
            expected=f"text in {profile.encoding} (set encoding: in the profile)",
            found=data[exc.start : exc.start + 8].hex(" "),
        ) from None


def build_statement(path: Path, frame: pd.DataFrame, profile: Profile, options: ParseOptions) -> Statement:
    """Map every row of `frame` to a Transaction following `profile`."""
    first_line = profile.skip_rows + (2 if profile.has_header else 1)
    frame = frame[~(frame == "").all(axis=1)]  # blank separator lines carry nothing
    lines = [first_line + int(index) for index in frame.index]
    account = options.account or profile.name
    transactions = tuple(_transactions(path, frame, profile, options, account, lines))
    currency = transactions[0].currency if transactions else (profile.currency or options.currency or "XXX")
    return Statement(
        path=str(path),
        format="csv",
        account=account,
        currency=currency,
        transactions=transactions,
        start_date=min((t.date for t in transactions), default=None),
        end_date=max((t.date for t in transactions), default=None),
    )


def _transactions(
    path: Path, frame: pd.DataFrame, profile: Profile, options: ParseOptions, account: str, lines: list[int]
) -> Iterator[Transaction]:
    cols = profile.columns
    date_format = options.date_format or profile.date_format
    dates = _dates(path, _column(path, frame, cols.date), date_format, lines)
    value_dates = (
        _dates(path, _column(path, frame, cols.value_date), date_format, lines)
        if cols.value_date is not None
        else [None] * len(frame)
    )
    amounts = _amounts(path, frame, profile, lines)
    balances = _optional_amounts(path, frame, cols.balance, profile, lines)
    descriptions = _joined(frame, path, cols.description)
    payees, memos, bank_ids = (_optional_texts(frame, path, ref) for ref in (cols.payee, cols.memo, cols.bank_id))
    currencies = _currencies(path, frame, profile, options, lines)
    header = [str(name) for name in frame.columns]
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        yield Transaction(
            date=dates[i],
            amount=amounts[i],
            currency=currencies[i],
            description=descriptions[i],
            payee=payees[i],
            memo=memos[i],
            bank_id=bank_ids[i],
            balance=balances[i],
            value_date=value_dates[i],
            account=account,
            source=Source(path=str(path), line=lines[i]),
            raw=dict(zip(header, (str(cell) for cell in row))),
        )


def _column(path: Path, frame: pd.DataFrame, ref: ColumnRef) -> pd.Series:
    if isinstance(ref, int):
        if ref >= len(frame.columns):
            raise ParseError(path, f"the profile names column {ref}, but the file has {len(frame.columns)} columns.")
        return frame.iloc[:, ref]
    if ref not in frame.columns:
        raise ParseError(
            path,
            f"the profile names a column {ref!r} that the header lacks.",
            expected="one of " + ", ".join(repr(str(c)) for c in frame.columns),
        )
    return frame[ref]


def _dates(path: Path, column: pd.Series, date_format: str | None, lines: list[int]) -> list[dt.date]:
    if date_format is None:
        raise ParseError(path, "the profile gives no date format; pass --date-format (for example %d/%m/%Y).")
    parsed = pd.to_datetime(column.str.strip(), format=date_format, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ParseError(path, "a date cell does not match the date format.", line=lines[i],
                         expected=f"a date like {date_format}", found=str(column.iloc[i]))
    return list(parsed.dt.date)


def _amounts(path: Path, frame: pd.DataFrame, profile: Profile, lines: list[int]) -> list[Decimal]:
    cols = profile.columns
    if cols.amount is not None:
        values = _parse_column(path, _column(path, frame, cols.amount), profile, lines, blank_is_zero=False)
    elif cols.debit is not None and cols.credit is not None:
        debit = _parse_column(path, _column(path, frame, cols.debit), profile, lines, blank_is_zero=True)
        credit = _parse_column(path, _column(path, frame, cols.credit), profile, lines, blank_is_zero=True)
        values = [abs(c) - abs(d) for d, c in zip(debit, credit)]
    else:
        raise ParseError(path, "the profile maps neither an amount column nor debit and credit columns.")
    return [-v for v in values] if profile.sign == "inverted" else values


def _optional_amounts(path: Path, frame: pd.DataFrame, ref: ColumnRef | None, profile: Profile, lines: list[int]) -> list[Decimal | None]:
    if ref is None:
        return [None] * len(frame)
    column = _column(path, frame, ref)
    return [None if not cell.strip() else _parse_cell(path, cell, profile, line) for cell, line in zip(column, lines)]


def _parse_column(path: Path, column: pd.Series, profile: Profile, lines: list[int], *, blank_is_zero: bool) -> list[Decimal]:
    out = []
    for cell, line in zip(column, lines):
        if blank_is_zero and not cell.strip():
            out.append(Decimal(0))
        else:
            out.append(_parse_cell(path, cell, profile, line))
    return out


def _parse_cell(path: Path, cell: str, profile: Profile, line: int) -> Decimal:
    try:
        return parse_amount(cell, profile.decimal, profile.thousands)
    except NotANumber:
        raise ParseError(path, "an amount cell is not a number.", line=line,
                         expected=f"an amount with decimal mark {profile.decimal!r}", found=cell) from None


def _joined(frame: pd.DataFrame, path: Path, refs: tuple[ColumnRef, ...]) -> list[str]:
    parts = [_column(path, frame, ref).str.strip() for ref in refs]
    return [" ".join(p for p in cells if p) for cells in zip(*parts)]


def _optional_texts(frame: pd.DataFrame, path: Path, ref: ColumnRef | None) -> list[str | None]:
    if ref is None:
        return [None] * len(frame)
    return [cell.strip() or None for cell in _column(path, frame, ref)]


def _currencies(path: Path, frame: pd.DataFrame, profile: Profile, options: ParseOptions, lines: list[int]) -> list[str]:
    default = (options.currency or profile.currency or "").upper()
    cells = _optional_texts(frame, path, profile.columns.currency)
    codes = [(cell or default).upper() for cell in cells]
    for code, line in zip(codes, lines):
        if not code:
            raise ParseError(path, "the currency is unknown: pass --currency or set currency: in the profile.", line=line)
        if not is_currency(code):
            raise ParseError(path, "the currency cell is not an ISO 4217 code.", line=line, expected="a code such as EUR", found=code)
    return codes
