"""Quicken Interchange Format: bank, credit-card, cash and other asset/liability sections.

A QIF file is lines of one-letter fields ("D1/ 5'26", "T-12.50", "PPayee") ending in "^", under
section headers ("!Type:Bank").  "!Account" records name the account the following sections
belong to.  QIF states neither the account number nor the currency: a file without "!Account"
needs --account, and without --currency the transactions carry XXX, ISO 4217's "no currency"
(the file does not say, and guessing USD would be wrong for every Quicken user outside the US).

Dates are read with the whole file's format (`dates.infer_date_format`): "01/02/2026" could be
either day, so a file whose dates all fit both orders is refused rather than guessed.  Quicken's
apostrophe years ("1/ 5'26" is 5 January 2026) are rewritten to four digits first.  Split lines
(S category, E memo, $ amount) are kept in the transaction's notes.  A Quicken "Opening Balance"
record is the statement's opening balance, not a transaction.  Investment sections are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from importer.errors import AmbiguousDateError, InputError, ParseError
from importer.models import Source, Statement, Transaction
from importer.parsers.base import FileSample, ParseOptions, read_statement
from importer.parsers.dates import Ambiguity, NoDateFormat, infer_date_format, parse_dates
from importer.parsers.numbers import NotANumber, parse_amount

UNKNOWN_CURRENCY = "XXX"
_CASH_SECTIONS = {"bank": "bank", "ccard": "credit card", "cash": "cash", "oth a": "asset", "oth l": "liability"}
_HEADER = re.compile(rb"^\s*(?:#[^\n]*\n\s*)*!(Type:|Account|Option:|Clear:)", re.IGNORECASE)
_APOSTROPHE_YEAR = re.compile(r"^(\d{1,2})/\s*(\d{1,2})'\s*(\d{1,2})$")


@dataclass
class _Record:
    section: str
    account: str | None
    line: int
    fields: list[tuple[str, str]] = field(default_factory=list)

    def get(self, code: str) -> str | None:
        value = next((v for c, v in self.fields if c == code), None)
        return value.strip() if value is not None and value.strip() else None


class QifParser:
    """QIF exports from Quicken, GnuCash, Mint, csv2ofx and banks."""

    name = "qif"

    def identify(self, sample: FileSample) -> bool:
        return _HEADER.match(sample.head.lstrip(b"\xef\xbb\xbf")) is not None

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        records, skipped = _records(_decode(read_statement(path, options)))
        if not records:
            kinds = f" (only {', '.join(sorted(skipped))} sections)" if skipped else ""
            raise InputError(path, f"holds no bank, credit-card or cash transactions{kinds}; investment sections are not supported.")
        currency = options.currency or UNKNOWN_CURRENCY
        days = _dates(path, records, options)
        return _statements(path, options, records, days, currency.upper())


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _records(text: str) -> tuple[list[_Record], set[str]]:
    """Transaction records of the cash-like sections, and the names of sections skipped."""
    records: list[_Record] = []
    skipped: set[str] = set()
    section, account, listing = "", None, False
    current: _Record | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("!"):
            section, listing = _header(line, section, listing)
            current = None
            continue
        if line.startswith("^"):
            if current is not None and current.fields:
                if section == "account":
                    account = current.get("N") if not listing else account
                elif section in _CASH_SECTIONS:
                    records.append(current)
                else:
                    skipped.add(section)
            current = None
            continue
        if current is None:
            current = _Record(section, account, number)
        current.fields.append((line[0], line[1:]))
    return records, skipped


def _header(line: str, section: str, listing: bool) -> tuple[str, bool]:
    name = line[1:].strip().lower()
    if name.startswith("type:"):
        return name[5:].strip(), listing
    if name == "account":
        return "account", listing
    # Between !Option:AutoSwitch and !Clear:AutoSwitch, !Account records are a list of accounts,
    # not the account the next section belongs to.
    if name == "option:autoswitch":
        return section, True
    if name == "clear:autoswitch":
        return section, False
    return name, listing


def _normalise_date(text: str) -> str:
    compact = text.strip()
    match = _APOSTROPHE_YEAR.match(compact)
    if match:
        month, day, year = match.groups()
        return f"{month}/{day}/20{int(year):02d}"
    return compact.replace(" ", "").replace("'", "/")


def _dates(path: Path, records: list[_Record], options: ParseOptions) -> list[dt.date]:
    texts = [_normalise_date(r.get("D") or "") for r in records]
    missing = next((r for r, t in zip(records, texts) if not t), None)
    if missing is not None:
        raise ParseError(path, "a transaction has no date (D line).", line=missing.line, expected="a line such as D01/31/2026", found="")
    fmt = options.date_format or _infer(path, records, texts)
    days = parse_dates(texts, fmt)
    bad = next((i for i, d in enumerate(days) if d is None), None)
    if bad is not None:
        raise ParseError(path, f"the date does not match the format {fmt}.", line=records[bad].line, expected=fmt, found=records[bad].get("D"))
    return [d for d in days if d is not None]


def _infer(path: Path, records: list[_Record], texts: list[str]) -> str:
    try:
        found = infer_date_format(texts)
    except NoDateFormat as exc:
        record = records[exc.index]
        raise ParseError(path, "the date is not in any format we know.", line=record.line, expected="a date such as 01/31/2026 or 1/31'26", found=record.get("D")) from None
    if isinstance(found, Ambiguity):
        first, second = (records[i] for i in found.examples)
        raise AmbiguousDateError(
            path,
            f"the dates read both as {found.formats[0]} and as {found.formats[1]} (line {first.line}: "
            f"{first.get('D')!r}, line {second.line}: {second.get('D')!r}); pass --date-format {found.formats[0]} "
            f"or --date-format {found.formats[1]}.",
        )
    return found


def _statements(path: Path, options: ParseOptions, records: list[_Record], days: list[dt.date], currency: str) -> list[Statement]:
    groups: dict[tuple[str | None, str], list[int]] = {}
    for index, record in enumerate(records):
        groups.setdefault((record.account, record.section), []).append(index)
    single = len({account for account, _ in groups}) == 1
    return [_statement(path, options, account, records, days, indexes, currency, single) for (account, _), indexes in groups.items()]


def _statement(
    path: Path, options: ParseOptions, account: str | None, records: list[_Record], days: list[dt.date],
    indexes: list[int], currency: str, single: bool,
) -> Statement:  # fmt: skip
    name = options.account if options.account and single else account
    if not name:
        raise InputError(path, "the file names no account (it has no !Account record); pass --account NAME.")
    opening = [i for i in indexes if _is_opening(records[i])]
    transactions = tuple(_transaction(path, name, currency, records[i], days[i]) for i in indexes if i not in opening)
    return Statement(
        path=str(path),
        format="qif",
        account=name,
        currency=currency,
        opening_balance=_amount(path, records[opening[0]]) if opening else None,
        transactions=transactions,
        bank_account_id=account,  # the !Account name the exporting program wrote, if any
    )


def _is_opening(record: _Record) -> bool:
    category = record.get("L") or ""
    return (record.get("P") or "").lower() == "opening balance" and category.startswith("[")


def _transaction(path: Path, account: str, currency: str, record: _Record, day: dt.date) -> Transaction:
    payee, memo = record.get("P"), record.get("M")
    return Transaction(
        date=day,
        amount=_amount(path, record),
        currency=currency,
        description=" ".join(p for p in (payee, memo) if p) or (record.get("L") or ""),
        payee=payee,
        memo=memo,
        notes=_splits(path, record),
        account=account,
        source=Source(path=str(path), line=record.line),
        raw={"number": record.get("N") or "", "category": record.get("L") or "", "cleared": record.get("C") or "", "section": record.section},
    )


def _amount(path: Path, record: _Record, code: str = "T") -> Decimal:
    text = record.get(code) or record.get("U")
    try:
        return _money(text or "")
    except NotANumber:
        raise ParseError(path, "the amount (T line) is not a number.", line=record.line, expected="an amount such as -1,234.56", found=text or "") from None


def _money(text: str) -> Decimal:
    # "1,234.56" and "1.234,56" both occur; the last separator is the decimal mark.
    comma, dot = text.rfind(","), text.rfind(".")
    if comma > dot and not re.fullmatch(r"-?\d{1,3}(,\d{3})+", text.strip()):
        return parse_amount(text, decimal_mark=",", thousands=".")
    return parse_amount(text, decimal_mark=".", thousands=",")


def _splits(path: Path, record: _Record) -> str | None:
    parts: list[str] = []
    for code, value in record.fields:
        if code == "S":
            parts.append(value.strip() or "(no category)")
        elif code == "E" and parts:
            parts[-1] += f" ({value.strip()})"
        elif code == "$" and parts:
            try:
                parts[-1] += f" {_money(value)}"
            except NotANumber:
                raise ParseError(path, "a split amount ($ line) is not a number.", line=record.line, expected="an amount", found=value) from None
    return "splits: " + "; ".join(parts) if parts else None
