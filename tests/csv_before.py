"""The CSV reader as it was before the columnar fast path (row by row over pandas Series).

Kept only as the reference tests/test_csv_fast_path.py compares `importer.parsers.csv.reader` with:
whatever this reads, or refuses, the fast path must read or refuse identically.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from importer.core.currencies import is_currency
from importer.core.errors import AmbiguousDateError, BalanceError, ParseError
from importer.core.models import Source, Statement, Transaction, trusted
from importer.parsers.base import ParseOptions
from importer.parsers.csv.balance import check_chain
from importer.parsers.csv.detect import Layout
from importer.parsers.csv.profiles import ColumnRef, Profile
from importer.parsers.csv.roles import currency_tag, indicator_sign
from importer.parsers.csv.table import DATE_LIKE
from importer.parsers.currency import MISSING
from importer.parsers.dates import Ambiguity, NoDateFormat, infer_date_format, parse_dates
from importer.parsers.numbers import infer_decimal_mark, is_number_shaped, parse_amount_column

# Rows a bank lists before they are booked; they have no booking date yet.
PENDING = frozenset({"pending", "vorgemerkt", "en attente", "in behandeling", "pendiente", "in sospeso"})
_TOTAL = re.compile(r"(total|totals|summe|gesamt|totaal|somme|suma|totale|итого|saldo|balance|kontostand)\b")
_BALANCE_WORDS = re.compile(r"balance|saldo|solde|kontostand|opening|closing", re.IGNORECASE)
_SYMBOLS = {"€": "EUR", "£": "GBP", "₽": "RUB", "zł": "PLN", "₹": "INR", "₺": "TRY", "₴": "UAH", "Kč": "CZK"}


def build_statement(path: Path, layout: Layout, options: ParseOptions) -> Statement:
    """Every data row of `layout` as a Transaction; the whole file or an error."""
    reader = _Reader(path, layout, options)
    transactions = reader.transactions()
    # The account a line above the table names is found with the layout (csv_account), not here.
    found = layout.preamble_account
    account_id = reader.first_text(layout.profile.columns.account) or (found.written if found else None)
    currency = transactions[0].currency if transactions else reader.default_currency() or "XXX"
    return Statement(
        path=str(path),
        format="csv",
        account=reader.account,
        currency=currency,
        transactions=tuple(transactions),
        bank_account_id=account_id,
        profile=layout.profile.name if layout.named else None,  # metadata added with account identities
        start_date=min((t.date for t in transactions), default=None),
        end_date=max((t.date for t in transactions), default=None),
    )


class _Reader:
    """Turns the string columns of one layout into typed columns, then into transactions."""

    def __init__(self, path: Path, layout: Layout, options: ParseOptions) -> None:
        self.path, self.layout, self.options = path, layout, options
        self.profile: Profile = layout.profile
        self.header = [c.strip() for c in (layout.table.header or [])]
        # The grid as the frame this reader was written for, indexed by record from the table's first.
        self.frame = pd.DataFrame(dict(enumerate(layout.grid.columns)), index=layout.grid.rows, dtype=object)
        self._drop_pending_and_footer()
        self.lines = [layout.records.lines[layout.table.first + i] for i in self.frame.index]
        self.account = (
            options.account
            or (self.profile.name if layout.named else None)
            or self.first_text(self.profile.columns.account)
            or "csv"
        )

    # -- columns ---------------------------------------------------------------------------
    def column(self, ref: ColumnRef) -> pd.Series:
        frame = self.frame
        index = self._index(ref)
        if index >= frame.shape[1]:
            raise ParseError(
                self.path, f"the profile names column {index + 1}, but the table has {frame.shape[1]} columns."
            )
        return frame.iloc[:, index]

    def _index(self, ref: ColumnRef) -> int:
        if isinstance(ref, int):
            return ref
        if ref in self.header:
            return self.header.index(ref)
        raise ParseError(
            self.path,
            f"the profile {self.profile.name!r} names a column {ref!r} that the header lacks.",
            expected="one of " + ", ".join(repr(h) for h in self.header if h),
        )

    def first_text(self, ref: ColumnRef | None) -> str | None:
        if ref is None or self.frame.empty:
            return None
        return next((v.strip() for v in self.column(ref) if v.strip()), None)

    def _drop_pending_and_footer(self) -> None:
        """Rows that are not bookings: pending ones, and notes or totals without a date or amount."""
        frame = self.frame
        dates = frame.iloc[:, self._index(self.profile.columns.date)].str.strip()
        keep = ~dates.str.lower().isin(PENDING) & ~self._note_rows(frame, dates) & ~self._balance_rows(frame)
        for name, values in self.profile.skip_values.items():
            keep &= ~frame.iloc[:, self._index(name)].str.strip().isin(values)
        skipped = int((~keep).sum())
        if skipped:
            self.layout.evidence.append(f"skipped {skipped} row(s) that are not bookings (pending, notes, totals)")
        self.frame = frame[keep]

    def _balance_rows(self, frame: pd.DataFrame) -> pd.Series:
        # "Beginning balance" lines (Bank of America) state a balance and move no money.
        cols = self.profile.columns
        if cols.amount is None or cols.balance is None:
            return pd.Series(False, index=frame.index)
        amount = frame.iloc[:, self._index(cols.amount)].str.strip()
        # A named profile vouches for such rows; a detected layout needs the row to say "balance".
        worded = (
            True
            if self.layout.named
            else frame.apply(lambda row: any(_BALANCE_WORDS.search(cell) for cell in row), axis=1)
        )
        return (amount == "") & (frame.iloc[:, self._index(cols.balance)].str.strip() != "") & worded

    def _note_rows(self, frame: pd.DataFrame, dates: pd.Series) -> pd.Series:
        # A row with neither a date nor a number in its money columns books nothing.
        cols = self.profile.columns
        refs = [r for r in (cols.amount, cols.debit, cols.credit) if r is not None]
        undated = ~dates.str.match(DATE_LIKE.pattern)
        if not undated.any():
            return undated
        moneyless = pd.Series(True, index=frame.index)
        for ref in refs:
            moneyless &= ~frame.iloc[:, self._index(ref)].map(is_number_shaped)
        return undated & (moneyless | dates.str.match(_TOTAL.pattern, case=False))

    # -- typed columns ---------------------------------------------------------------------
    def dates(self, ref: ColumnRef, *, optional: bool = False) -> list[dt.date]:
        values = self.column(ref).str.strip().tolist()
        present = [v for v in values if v] if optional else values
        if not present:
            return [None] * len(values)  # type: ignore[list-item]
        fmt = self.options.date_format or self.profile.date_format or self._infer_format(ref, present)
        if "|" in fmt:  # a profile may list the formats a bank has used; the first that reads all wins
            fmt = next((f for f in fmt.split("|") if None not in parse_dates(present, f)), fmt.split("|")[0])
        parsed = parse_dates(values, fmt)
        for i, day in enumerate(parsed):
            if day is None and not (optional and not values[i]):
                raise ParseError(
                    self.path,
                    "a date cell does not match the date format.",
                    line=self.lines[i],
                    expected=f"a date like {fmt}",
                    found=values[i],
                )
        return parsed  # type: ignore[return-value]

    def _infer_format(self, ref: ColumnRef, values: list[str]) -> str:
        try:
            found = infer_date_format(values)
        except NoDateFormat as exc:
            index = self.column(ref).str.strip().tolist().index(values[exc.index])
            raise ParseError(
                self.path,
                "a date cell is not a date in any format we know.",
                line=self.lines[index],
                expected="a date such as 2026-10-31, 31.10.2026 or 10/31/2026 (or pass --date-format)",
                found=values[exc.index],
            ) from None
        if isinstance(found, Ambiguity):
            full = self.column(ref).str.strip().tolist()
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

    def money(self, ref: ColumnRef, *, blank: Decimal | None) -> list[Decimal | None]:
        values = self.column(ref).tolist()
        mark = self.profile.decimal or self._decimal_mark(ref, values)
        self.layout.found.setdefault("decimal", mark)
        parsed, bad = parse_amount_column(values, mark, self.profile.thousands)
        if bad is not None and values[bad].strip():
            raise ParseError(
                self.path,
                "an amount cell is not a number.",
                line=self.lines[bad],
                expected=f"an amount with decimal mark {mark!r}",
                found=values[bad],
            )
        return [blank if p is None else p for p in parsed]

    def _decimal_mark(self, ref: ColumnRef, values: list[str]) -> str:
        mark = infer_decimal_mark(values) or self._file_decimal_mark()
        if mark is None:
            if any(re.search(r"\d[.,]\d{3}\b", v) for v in values):
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
        values = [v for r in refs for v in self.column(r).unique()]
        return infer_decimal_mark(values)

    def texts(self, ref: ColumnRef | None) -> list[str | None]:
        if ref is None:
            return [None] * len(self.lines)
        return [v or None for v in self.column(ref).str.strip().tolist()]

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
                abs(c or 0) - abs(d or 0)
                for d, c in zip(debit or [None] * len(credit or []), credit or [None] * len(debit or []))
            ]  # type: ignore[operator]
        if cols.indicator is not None:
            values = self._apply_indicator(values, cols.indicator)
        return [-v for v in values] if self.profile.sign == "inverted" else values

    def _refuse_blank(self, values: Sequence[Decimal | None], ref: ColumnRef) -> None:
        for i, value in enumerate(values):
            if value is None:
                raise ParseError(
                    self.path, "the amount cell is empty.", line=self.lines[i], expected="an amount", found=""
                )

    def _apply_indicator(self, values: list[Decimal], ref: ColumnRef) -> list[Decimal]:
        marks = self.column(ref).tolist()
        out = []
        for i, (value, mark) in enumerate(zip(values, marks)):
            sign = indicator_sign(mark)
            if sign is None:
                raise ParseError(
                    self.path,
                    "the debit/credit mark is neither debit nor credit.",
                    line=self.lines[i],
                    expected="a mark such as D/C, DR/CR, S/H, Af/Bij or Debit/Credit",
                    found=mark,
                )
            out.append(abs(value) * sign)
        return out

    def currencies(self) -> list[str]:
        default = self.default_currency()
        cells = self.texts(self.profile.columns.currency)
        codes = [(cell or default or "").upper() for cell in cells]
        for code, line in zip(codes, self.lines):
            if not code:
                raise ParseError(self.path, MISSING, line=line)  # the wording moved on; the rule did not
            if not is_currency(code):
                raise ParseError(
                    self.path,
                    "the currency cell is not an ISO 4217 code.",
                    line=line,
                    expected="a code such as EUR",
                    found=code,
                )
        return codes

    def default_currency(self) -> str | None:
        if self.options.currency or self.profile.currency:
            return self.options.currency or self.profile.currency
        cols = self.profile.columns
        for ref in (cols.amount, cols.debit, cols.credit):
            if isinstance(ref, int) and ref < len(self.header):
                tag = currency_tag(self.header[ref])
                if tag and is_currency(tag):
                    return tag
        return self._symbol_currency()

    def _symbol_currency(self) -> str | None:
        cols = self.profile.columns
        refs = [r for r in (cols.amount, cols.debit, cols.credit) if r is not None]
        sample = " ".join(v for r in refs for v in self.column(r).head(50))
        found = {code for symbol, code in _SYMBOLS.items() if symbol in sample}
        return found.pop() if len(found) == 1 else None

    def transactions(self) -> list[Transaction]:
        cols = self.profile.columns
        dates = self.dates(cols.date)
        self._newest_first = bool(dates) and dates[0] > dates[-1]
        value_dates = self.dates(cols.value_date, optional=True) if cols.value_date is not None else [None] * len(dates)
        amounts = self.amounts()
        balances = self.money(cols.balance, blank=None) if cols.balance is not None else [None] * len(dates)
        currencies = self.currencies()
        amounts, balances = self._check_balances(amounts, balances, currencies)
        descriptions = self._descriptions()
        payees, memos, ids = self.texts(cols.payee), self.texts(cols.memo), self.texts(cols.bank_id)
        raws = self._raws()
        source, account = str(self.path), self.account
        # Every column was checked above as a whole; rows are validated again only if some cell
        # is not of the exact type a Transaction holds (an int 0 from two blank money cells).
        vouched = (
            _only(dates, dt.date)
            and _only(amounts, Decimal)
            and _only(balances, Decimal, type(None))
            and _only(value_dates, dt.date, type(None))
            and self._raw_text
        )
        make = (lambda cls, **kw: trusted(cls, **kw)) if vouched else (lambda cls, **kw: cls(**kw))
        return [
            make(
                Transaction,
                date=dates[i],
                amount=amounts[i],
                currency=currencies[i],
                description=descriptions[i],
                payee=payees[i],
                memo=memos[i],
                bank_id=ids[i],
                balance=balances[i],
                value_date=value_dates[i],
                account=account,
                source=make(Source, path=source, line=self.lines[i]),
                raw=raws[i],
            )
            for i in range(len(dates))
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
            rows = [i for i, c in enumerate(currencies) if c == code]
            chain = check_chain(
                self.path,
                [amounts[i] for i in rows],
                [balances[i] for i in rows],
                [self.lines[i] for i in rows],
                sign_known=self.layout.named,
                newest_first=self._newest_first,
            )
            if chain is not None:
                inverted = inverted or chain.inverted
                self.layout.evidence.append(
                    f"running balance ({code}): {chain.links} links hold, rows {chain.order}"
                    + (", amounts carry the opposite sign" if chain.inverted else "")
                )
        return inverted

    def _descriptions(self) -> list[str]:
        refs = self.profile.columns.description or (
            (self.profile.columns.payee,) if self.profile.columns.payee is not None else ()
        )
        parts = [self.column(ref).str.strip().tolist() for ref in refs]
        if not parts:
            return [""] * len(self.lines)
        return [" ".join(p for p in cells if p) for cells in zip(*parts)]

    def _raws(self) -> list[dict[str, str]]:
        frame = self.frame
        names = [h if h else f"column {i + 1}" for i, h in enumerate(self.header)]
        names += [f"column {i + 1}" for i in range(len(names), frame.shape[1])]
        names = names[: frame.shape[1]]
        columns = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
        self._raw_text = all(_only(c, str) for c in columns)
        return [dict(zip(names, row)) for row in zip(*columns)]


def _only(values: Sequence[object], *types: type) -> bool:
    """Whether every value is exactly one of `types` (map/type run in C: cheap per column)."""
    return set(map(type, values)) <= set(types)


__all__ = ["build_statement"]
