"""CSV bank exports read whole: a bank profile when one matches, else a layout detected from the file.

This is the reference reader: `CsvParser.parse` reads a file with it, and the stream
(streaming.py) reads a file's first MiB with it and pins what it decided (date formats, decimal
marks, the currency default, the balance chain) for the rows after.

Cells are read as strings and only then turned into Decimal and date, column by column (the
date format and the decimal mark are decided from the whole column), so no value passes
through float, nothing is guessed from one cell, and a bad cell is reported with its line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from typing import Any, NoReturn

from importer.core.currencies import is_currency
from importer.core.errors import AmbiguousDateError, BalanceError, InputError, ParseError, TruncatedError
from importer.core.models import Source, Statement, Transaction
from importer.parsers.base import ParseOptions
from importer.parsers.csv import build as csv_build
from importer.parsers.csv.balance import Chain, check_chain
from importer.parsers.csv.cells import Cells, not_bookings
from importer.parsers.csv.detect import Layout, detect
from importer.parsers.csv.profiles import ColumnRef, Profile
from importer.parsers.csv.roles import currency_tag, indicator_sign
from importer.parsers.csv.table import Table
from importer.parsers.currency import MISSING
from importer.parsers.dates import Ambiguity, NoDateFormat, infer_date_format, parse_dates
from importer.parsers.numbers import infer_decimal_mark, parse_amount_column

_NO_CURRENCY = MISSING
_SYMBOLS = {"€": "EUR", "£": "GBP", "₽": "RUB", "zł": "PLN", "₹": "INR", "₺": "TRY", "₴": "UAH", "Kč": "CZK"}


def parse_whole(path: Path, options: ParseOptions, data: bytes | None = None) -> list[Statement]:
    """The statement of `path` (of `data`, its bytes, when given), the whole file at once."""
    layout = detect(path, options, data)
    if layout.table.cut_line is not None:
        raise _truncated(path, layout, options)
    return [build_statement(path, layout, options)]


def _truncated(path: Path, layout: Layout, options: ParseOptions) -> TruncatedError:
    """The error for a file whose last row is cut off, with the statement of the rows before it
    (`partial`, for --allow-partial) when those read cleanly."""
    records, table = layout.records, layout.table
    cells = records.header_cells.get(len(records.widths) - 1, [])
    try:
        partial: tuple[Statement, ...] = (build_statement(path, layout, options),)
    except InputError:
        partial = ()
    count = len(partial[0].transactions) if partial else None
    return truncated_error(path, cells, records.ending, table, table.cut_line, count, partial)


def truncated_error(
    path: Path,
    cells: list[str],
    ending: str,
    table: Table,
    line: int | None,
    count: int | None,
    partial: tuple[Statement, ...] = (),
) -> TruncatedError:
    """The error for a last row (`cells`, at `line`) the file cuts off; `count` complete rows before it."""
    open_quote = ending == "open-quote"
    what = "a quoted field is never closed" if open_quote else f"the last row has {len(cells)} of {table.width} fields"
    if not open_quote and len(cells) >= table.width:
        what = "the last row's last number has fewer decimals than its column's"
    rows = f"the {count} complete rows" if count is not None else "the complete rows"
    return TruncatedError(
        path,
        f"the file ends in the middle of a row ({what}): it was cut off, most likely by an incomplete "
        f"download. Download it again, or pass --allow-partial to import {rows}.",
        line=line,
        expected=_expected_end(open_quote, len(cells), table.width),
        found=table.delimiter.join(f'"{c}"' if table.delimiter in c else c for c in cells)[-60:],
        partial=partial,
    )


def _expected_end(open_quote: bool, fields: int, width: int) -> str:
    if open_quote:
        return 'a closing "'
    return f"{width} fields" if fields < width else "a number with all its decimals, then a line end"


def build_statement(path: Path, layout: Layout, options: ParseOptions) -> Statement:
    """Every data row of `layout` as a Transaction; the whole file or an error."""
    reader = _Reader(path, layout, options)
    transactions = reader.transactions()
    # An empty statement still needs its currency: the configured one, never an invented one.
    currency = transactions[0].currency if transactions else reader.currency_default
    if currency is None:
        reader.refuse_missing_currency()
    return Statement(
        path=str(path),
        format="csv",
        account=reader.account,
        currency=currency,
        transactions=tuple(transactions),
        bank_account_id=reader.account_id,
        profile=layout.profile.name if layout.named else None,
        start_date=reader.first_day,
        end_date=reader.last_day,
    )


class _Reader:
    """Turns the string columns of one layout into typed columns, then into transactions."""

    def __init__(self, path: Path, layout: Layout, options: ParseOptions) -> None:
        self.path, self.layout, self.options = path, layout, options
        self.profile: Profile = layout.profile
        self.header = [c.strip() for c in (layout.table.header or [])]
        # What was decided per column (date format, decimal mark) and per currency (the balance
        # chain): the stream reads the rows after its prefix with these pinned.
        self.formats: dict[ColumnRef, str] = {}
        self.marks: dict[ColumnRef, str] = {}
        self.chains: dict[str, Chain] = {}
        self.balance_dropped = False
        self.cells = self._cells()
        self.lines = self.cells.lines
        self.account = (
            options.account
            or (self.profile.name if layout.named else None)
            or self.first_text(self.profile.columns.account)
            or "csv"
        )

    def _cells(self) -> Cells:
        columns = self.layout.grid.columns
        cells = self.bookings(Cells(self.path, self.profile, self.header, columns, self.layout.lines))
        self.layout.grid = None  # type: ignore[assignment]  # its cells are in `cells` now
        return cells

    def bookings(self, cells: Cells) -> Cells:
        """`cells` without the rows that book nothing (pending, notes, totals)."""
        drop = not_bookings(cells, self.layout.named)
        if drop:
            self.layout.evidence.append(f"skipped {len(drop)} row(s) that are not bookings (pending, notes, totals)")
        cells.keep_rows(drop)
        return cells

    # -- columns ---------------------------------------------------------------------------
    def column(self, ref: ColumnRef) -> list[str]:
        return self.cells.column(ref)

    def first_text(self, ref: ColumnRef | None) -> str | None:
        if ref is None or not len(self.cells):
            return None
        return next((v for v in self.cells.stripped(ref) if v), None)

    # -- typed columns ---------------------------------------------------------------------
    def dates(self, ref: ColumnRef, *, optional: bool = False) -> list[dt.date]:
        values = self.cells.stripped(ref)
        present = [v for v in values if v] if optional else values
        if not present:
            return [None] * len(values)  # type: ignore[list-item]
        fmt = (
            self.options.date_format
            or self.profile.date_format
            or self.formats.get(ref)
            or self._infer_format(ref, present)
        )
        if "|" in fmt:  # a profile may list the formats a bank has used; the first that reads all wins
            fmt = next((f for f in fmt.split("|") if None not in parse_dates(present, f)), fmt.split("|")[0])
        self.formats[ref] = fmt
        parsed = parse_dates(values, fmt)
        if None in parsed:
            self._refuse_undated(ref, values, parsed, fmt, optional)
        return parsed  # type: ignore[return-value]

    def _refuse_undated(
        self, ref: ColumnRef, values: list[str], parsed: list[dt.date | None], fmt: str, optional: bool
    ) -> None:
        for i, day in enumerate(parsed):
            if day is None and not (optional and not values[i]):
                raise ParseError(
                    self.path,
                    f"a date cell in column {self.name(ref)!r} does not match the date format.",
                    line=self.lines[i],
                    expected=f"a date like {fmt}",
                    found=values[i],
                )

    def _infer_format(self, ref: ColumnRef, values: list[str]) -> str:
        try:
            found = infer_date_format(values)
        except NoDateFormat as exc:
            index = self.cells.stripped(ref).index(values[exc.index])
            raise ParseError(
                self.path,
                f"a date cell in column {self.name(ref)!r} is not a date in any format we know.",
                line=self.lines[index],
                expected="a date such as 2026-10-31, 31.10.2026 or 10/31/2026 (or pass --date-format)",
                found=values[exc.index],
            ) from None
        if isinstance(found, Ambiguity):
            full = self.cells.stripped(ref)
            raise self._ambiguous(found.formats, sorted({full.index(values[i]) for i in found.examples}), full)
        name = self.header[ref] if isinstance(ref, int) and ref < len(self.header) else ref
        self.layout.evidence.append(f"date format of {name!r}: {found} (from {len(set(values))} distinct values)")
        self.layout.found.setdefault("date_format", found)
        return found

    def _ambiguous(self, formats: tuple[str, str], examples: list[int], values: list[str]) -> AmbiguousDateError:
        a, b = formats
        rows = " and ".join(f"line {self.lines[i]}: {values[i]!r}" for i in examples)
        return AmbiguousDateError(
            self.path,
            f"the dates read both as {a} and as {b} (no day is above 12), e.g. {rows}. "
            f"Say which with --date-format {a!r} (or {b!r}), or date_format: in the bank profile.",
            line=self.lines[examples[0]],
        )

    def money(self, ref: ColumnRef, *, blank: Decimal | None, what: str = "amount") -> list[Decimal | None]:
        values = self.column(ref)
        mark = self.profile.decimal or self.marks.get(ref) or self._decimal_mark(ref, values)
        self.marks[ref] = mark
        self.layout.found.setdefault("decimal", mark)
        parsed, bad = parse_amount_column(values, mark, self.profile.thousands, blank=blank)
        if bad is not None and values[bad].strip():
            raise ParseError(
                self.path,
                f"{_article(what)} cell in column {self.name(ref)!r} is not a number.",
                line=self.lines[bad],
                found=values[bad],
                expected=f"one amount with decimal mark "
                f"{mark!r}, at most one sign and a currency only before or after it",
            )
        return parsed

    def name(self, ref: ColumnRef) -> str:
        """The header name of column `ref`, or "column N" in a file without a header."""
        index = self.cells.index(ref)
        return self.header[index] if index < len(self.header) and self.header[index] else f"column {index + 1}"

    def _decimal_mark(self, ref: ColumnRef, values: list[str]) -> str:
        mark = infer_decimal_mark(values) or self._file_decimal_mark()
        if mark is None:
            if any(re.search(r"\d[.,]\d{3}\b", v) for v in set(values)):
                example = next(v for v in values if re.search(r"\d[.,]\d{3}\b", v))
                raise ParseError(
                    self.path,
                    f"cannot tell whether {example!r} has a decimal mark or a thousands "
                    "separator: no value in the file settles it. Set decimal: in a profile.",
                )
            mark = "."
        return mark

    def _file_decimal_mark(self) -> str | None:
        cols = self.profile.columns
        refs = [r for r in (cols.amount, cols.debit, cols.credit, cols.balance) if r is not None]
        values = [v for r in refs for v in dict.fromkeys(self.column(r))]
        return infer_decimal_mark(values)

    def texts(self, ref: ColumnRef | None) -> list[str | None]:
        if ref is None:
            return [None] * len(self.lines)
        return [v or None for v in self.cells.stripped(ref)]

    # -- rows --------------------------------------------------------------------------------
    def amounts(self) -> list[Decimal]:
        cols = self.profile.columns
        if cols.amount is not None:
            values: list[Decimal] = self.money(cols.amount, blank=None)  # type: ignore[assignment]
            self._refuse_blank(values, cols.amount)
        else:
            debit = self.money(cols.debit, blank=Decimal(0)) if cols.debit is not None else None
            credit = self.money(cols.credit, blank=Decimal(0)) if cols.credit is not None else None
            values = [
                abs(c or 0) - abs(d or 0)  # type: ignore[operator]  # each side is a Decimal or None
                for d, c in zip(debit or [None] * len(credit or []), credit or [None] * len(debit or []))
            ]
        if cols.indicator is not None:
            values = self._apply_indicator(values, cols.indicator)
        return [-v for v in values] if self.profile.sign == "inverted" else values

    def _refuse_blank(self, values: Sequence[Decimal | None], ref: ColumnRef) -> None:
        # A cell reads as None exactly when it is blank: look for blank text, not None (cheaper).
        blank = self.cells.blanks(ref)
        if blank:
            row = next(i for i, cell in enumerate(self.column(ref)) if cell in blank)
            raise ParseError(
                self.path, "the amount cell is empty.", line=self.lines[row], expected="an amount", found=""
            )

    def _apply_indicator(self, values: list[Decimal], ref: ColumnRef) -> list[Decimal]:
        marks = self.column(ref)
        signs = {mark: indicator_sign(mark) for mark in set(marks)}
        if None in signs.values():
            i = next(i for i, mark in enumerate(marks) if signs[mark] is None)
            raise ParseError(
                self.path,
                "the debit/credit mark is neither debit nor credit.",
                line=self.lines[i],
                expected="a mark such as D/C, DR/CR, S/H, Af/Bij or Debit/Credit",
                found=marks[i],
            )
        return [abs(value) * signs[mark] for value, mark in zip(values, marks)]  # type: ignore[operator]

    def currencies(self) -> list[str]:
        """One shared code string per distinct cell; the first row with a bad one is the error."""
        default = self.currency_default = self.default_currency()
        if not self.lines:
            return []
        ref = self.profile.columns.currency
        cells: list[str | None] = self.texts(ref) if ref is not None else [None]
        codes = {cell: (cell or default or "").upper() for cell in dict.fromkeys(cells)}
        for cell, code in codes.items():
            if not code or not is_currency(code):
                self._refuse_currency(cells.index(cell), code)
        if ref is None:
            return [codes[None]] * len(self.lines)
        return list(map(codes.__getitem__, cells))

    def refuse_missing_currency(self) -> NoReturn:
        raise ParseError(self.path, _NO_CURRENCY)

    def _refuse_currency(self, row: int, code: str) -> None:
        line = self.lines[row] if self.lines else None
        if not code:
            raise ParseError(self.path, _NO_CURRENCY, line=line)
        raise ParseError(
            self.path,
            "the currency cell is not an ISO 4217 code.",
            line=line,
            expected="a code such as EUR",
            found=code,
        )

    def default_currency(self) -> str | None:
        if self.options.currency or self.profile.currency:
            return self.options.currency or self.profile.currency
        cols = self.profile.columns
        for ref in (cols.amount, cols.debit, cols.credit):
            if isinstance(ref, int) and ref < len(self.header):
                tag = currency_tag(self.header[ref])
                if tag and is_currency(tag):
                    return tag
        return self._symbol_currency() or self.options.default_currency

    def _symbol_currency(self) -> str | None:
        cols = self.profile.columns
        refs = [r for r in (cols.amount, cols.debit, cols.credit) if r is not None]
        sample = " ".join(v for r in refs for v in self.column(r)[:50])
        found = {code for symbol, code in _SYMBOLS.items() if symbol in sample}
        return found.pop() if len(found) == 1 else None

    def transactions(self) -> list[Transaction]:
        row = self.checked_columns()
        # Every column was checked above as a whole; rows are validated again only if some cell
        # is not of the exact type a Transaction holds (an int 0 from two blank money cells).
        if (
            _only(row["date"], dt.date)
            and _only(row["amount"], Decimal)
            and self._raw_text
            and _only(row["balance"], Decimal, type(None))
            and _only(row["value_date"], dt.date, type(None))
        ):
            row["source"] = csv_build.sources(str(self.path), self.lines)
            return csv_build.transactions(row)
        return self._validated(row)

    def checked_columns(self) -> dict[str, Any]:
        """Every column of the statement (`_columns`), with what the statement says of them."""
        row = self._columns()
        found = self.layout.preamble_account
        self.account_id = self.first_text(self.profile.columns.account) or (found.written if found else None)
        days: tuple[dt.date | None, dt.date | None] = (
            (min(row["date"]), max(row["date"])) if row["date"] else (None, None)
        )
        self.first_day, self.last_day = days
        self.cells = None  # type: ignore[assignment]  # the cells live on in `raw` only
        return row

    def _columns(self) -> dict[str, Any]:
        """One column per field a CSV row gives, every cell checked."""
        cols = self.profile.columns
        dates = self.dates(cols.date)
        self._newest_first = bool(dates) and dates[0] > dates[-1]
        value_dates = self.dates(cols.value_date, optional=True) if cols.value_date is not None else [None] * len(dates)
        amounts = self.amounts()
        balances: list[Decimal | None] = [None] * len(dates)
        if cols.balance is not None:
            balances = self.money(cols.balance, blank=None, what="balance")
        currencies = self.currencies()
        amounts, balances = self._check_balances(amounts, balances, currencies)
        return {
            "date": dates,
            "amount": amounts,
            "currency": currencies,
            "description": self._descriptions(),
            "payee": self.texts(cols.payee),
            "memo": self.texts(cols.memo),
            "bank_id": self.texts(cols.bank_id),
            "balance": balances,
            "value_date": value_dates,
            "account": repeat(self.account),
            "raw": self._raws(),
        }

    def _validated(self, row: dict[str, Any]) -> list[Transaction]:
        names, source = list(row), str(self.path)
        return [
            Transaction(**dict(zip(names, values)), source=Source(path=source, line=line))
            for line, *values in zip(self.lines, *row.values())
        ]

    def _check_balances(
        self, amounts: list[Decimal], balances: list[Decimal | None], currencies: list[str]
    ) -> tuple[list[Decimal], list[Decimal | None]]:
        """Amounts (sign confirmed by the balances) and balances; a guessed balance column that
        does not chain was not a balance and is dropped."""
        self._refuse_unconfirmed_pair(balances)
        if not self.options.check_balances or self.profile.columns.balance is None:
            return amounts, balances
        try:
            inverted = self._chains(amounts, balances, currencies)
        except BalanceError:
            if "balance" not in self.layout.guessed or "debit" in self.layout.guessed:
                raise
            self.layout.evidence.append("the column taken for a balance does not chain: ignored")
            self.balance_dropped = True
            return amounts, [None] * len(balances)
        return ([-a for a in amounts] if inverted else amounts), balances

    def _refuse_unconfirmed_pair(self, balances: list[Decimal | None]) -> None:
        # Two unnamed money columns: only a running balance can tell which one is money out.
        if "debit" in self.layout.guessed and (self.profile.columns.balance is None or not self.options.check_balances):
            raise ParseError(
                self.path,
                "two unnamed amount columns, and nothing in the file tells which one is "
                "money out. Write a profile naming debit: and credit: (see `importer detect`).",
            )

    def _chains(self, amounts: list[Decimal], balances: list[Decimal | None], currencies: list[str]) -> bool:
        # Multi-currency exports (Wise, Revolut) keep one running balance per currency.
        inverted = False
        for code in dict.fromkeys(currencies):
            chain = check_chain(
                self.path,
                *self._of_currency(code, currencies, amounts, balances),
                sign_known=self.layout.named,
                newest_first=self._newest_first,
            )
            if chain is not None:
                self.chains[code] = chain
                inverted = inverted or chain.inverted
                self.layout.evidence.append(
                    f"running balance ({code}): {chain.links} links hold, rows {chain.order}"
                    + (", amounts carry the opposite sign" if chain.inverted else "")
                )
        return inverted

    def _of_currency(
        self, code: str, currencies: list[str], amounts: list[Decimal], balances: list[Decimal | None]
    ) -> tuple[list[Decimal], list[Decimal | None], list[int]]:
        if currencies.count(code) == len(currencies):  # one currency: no copies
            return amounts, balances, self.lines
        rows = [i for i, c in enumerate(currencies) if c == code]
        return [amounts[i] for i in rows], [balances[i] for i in rows], [self.lines[i] for i in rows]

    def _descriptions(self) -> list[str]:
        refs = self.profile.columns.description or (
            (self.profile.columns.payee,) if self.profile.columns.payee is not None else ()
        )
        parts = [self.cells.stripped(ref) for ref in refs]
        if not parts:
            return [""] * len(self.lines)
        if len(parts) == 1:  # " ".join of one stripped cell is the cell itself
            return parts[0]
        return [" ".join(filter(None, cells)) for cells in zip(*parts)]

    def raw_names(self) -> list[str]:
        """The name of each column in a row's raw cells: its header, else "column N"."""
        columns = self.cells.columns
        names = [h if h else f"column {i + 1}" for i, h in enumerate(self.header)]
        names += [f"column {i + 1}" for i in range(len(names), len(columns))]
        return names[: len(columns)]

    def _raws(self) -> list[dict[str, str]]:
        columns, names = self.cells.columns, self.raw_names()
        self._raw_text = all(_only(c, str) for c in columns)
        return list(map(dict, map(zip, repeat(names), zip(*columns))))


def _article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _only(values: Sequence[object], *types: type) -> bool:
    """Whether every value is exactly one of `types` (map/type run in C: cheap per column)."""
    return set(map(type, values)) <= set(types)


__all__ = ["InputError", "build_statement", "parse_whole"]
