"""Quicken Interchange Format: bank, credit-card, cash and other asset/liability sections.

A QIF file is lines of one-letter fields ("D1/ 5'26", "T-12.50", "PPayee") ending in "^", under
section headers ("!Type:Bank").  "!Account" records name the account the following sections
belong to.  QIF states neither the account number nor the currency: a file without "!Account"
needs --account, and a file is refused unless the user gives a currency (--currency, or
`currency:` in importer.yaml).  Guessing USD would be wrong for every Quicken user outside the
US, and ISO's XXX ("no currency") would put amounts into the books that nobody can use.

Nothing is cleaned into a number or a date.  An amount (T, U, $) is digits with an optional sign,
thousands separators and decimal part; the decimal mark is decided once for the whole file
(a file that writes both "12,50" and "12.50" is refused).  Dates are read with the whole file's
format (`dates.infer_date_format`): "01/02/2026" could be either day, so a file whose dates all
fit both orders is refused rather than guessed.  Quicken's apostrophe years ("1/ 5'26" is
5 January 2026) are rewritten to four digits first.  A record whose "^" never comes (the file
ends, or a section header follows) is a cut-off file: TruncatedError, with the statements of the
complete records for --allow-partial.  Split lines (S category, E memo, $ amount) are kept in the
transaction's notes.  A Quicken "Opening Balance" record is the statement's opening balance, not
a transaction.  Investment sections are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from importer.core.errors import (
    AmbiguousDateError,
    InputError,
    ParseError,
    TruncatedError,
)
from importer.core.models import Source, Statement, Transaction
from importer.parsers import claims
from importer.parsers.base import (
    FileSample,
    ParseOptions,
    StatementFile,
    read_statement,
)
from importer.parsers.corrupt import corrupt_file_errors
from importer.parsers.currency import given_currency
from importer.parsers.dates import (
    Ambiguity,
    NoDateFormat,
    infer_date_format,
    parse_dates,
)
from importer.parsers.spelling import edit_distance
from importer.parsers.stream import Event, events_of

_CASH_SECTIONS = {"bank": "bank", "ccard": "credit card", "cash": "cash", "oth a": "asset", "oth l": "liability"}
_APOSTROPHE_YEAR = re.compile(r"^(\d{1,2})/\s*(\d{1,2})'\s*(\d{1,2})$")
# What a QIF date may look like once apostrophe years are rewritten: 1/5/2026, 05.01.26, 2026-01-05.
_DATE_SHAPE = re.compile(r"^(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{2}|\d{4})|\d{4}-\d{1,2}-\d{1,2})$")
# An amount with "." (else ",") as decimal mark; the other mark may only group thousands.
_AMOUNT = {
    ".": re.compile(r"^[-+]?(?=[\d.])(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?$"),
    ",": re.compile(r"^[-+]?(?=[\d,])(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d+)?$"),
}
_AMOUNT_CODES = ("T", "U", "$")
_SINGLE_CODES = frozenset("DTUPMNCL")


@dataclass
class _Record:
    section: str
    account: str | None
    line: int
    fields: list[tuple[str, str, int]] = field(default_factory=list)  # code, value, line number

    def get(self, code: str) -> str | None:
        value = next((v for c, v, _ in self.fields if c == code), None)
        return value.strip() if value is not None and value.strip() else None

    def line_of(self, code: str) -> int:
        return next((n for c, _, n in self.fields if c == code), self.line)


@dataclass
class _Scan:
    """What `_records` found: the complete records, the skipped section names, and a record
    still open where the file ended (a cut-off download)."""

    records: list[_Record] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    unfinished: _Record | None = None


class QifParser:
    """QIF exports from Quicken, GnuCash, Mint, csv2ofx and banks."""

    name = "qif"

    def identify(self, sample: FileSample) -> bool:
        return claims.qif(sample)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        with corrupt_file_errors(path, "QIF"):
            return _parse(path, read_statement(path, options), options)

    def stream(self, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        """The statements of `parse`, as events.  Read whole on purpose: the date format and the
        decimal mark are decided over every record of the file, so no row is known before the end."""
        with corrupt_file_errors(source.path, "QIF"):
            statements = _parse(source.path, source.read(), options)
        yield from events_of(statements)


def _parse(path: Path, data: bytes, options: ParseOptions) -> list[Statement]:
    scan = _records(path, _decode(data))
    if not scan.records and scan.unfinished is None:
        kinds = f" (only {', '.join(sorted(scan.skipped))} sections)" if scan.skipped else ""
        raise InputError(
            path, f"holds no bank, credit-card or cash transactions{kinds}; investment sections are not supported."
        )
    currency = given_currency(
        path, options.currency or options.default_currency
    )  # asked only of a file with something to import
    if scan.unfinished is not None:
        raise _truncated(path, options, scan.records, scan.unfinished, currency)
    return _read(path, options, scan.records, currency)


def _read(path: Path, options: ParseOptions, records: list[_Record], currency: str) -> list[Statement]:
    for record in records:
        _refuse_doubled(path, record)
    days = _dates(path, records, options)
    marks = _decimal_mark(path, records)
    return _statements(path, options, records, days, currency, marks)


def _truncated(
    path: Path, options: ParseOptions, records: list[_Record], unfinished: _Record, currency: str
) -> TruncatedError:
    """The error for a file whose last record never ends, with what the complete `records` give."""
    try:
        partial = _read(path, options, records, currency) if records else []
    except InputError:
        partial = []  # the complete part is itself unreadable: nothing to offer --allow-partial
    return TruncatedError(
        path,
        'the file ends inside a record: it has no closing "^", so the download was probably cut off. '
        "Download it again, or pass --allow-partial to import the complete records.",
        line=unfinished.line,
        expected="a line with ^ ending the record",
        found="the end of the file",
        partial=partial,
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _records(path: Path, text: str) -> _Scan:
    """Transaction records of the cash-like sections, the names of sections skipped, and the
    record the file ends in (without its "^"), if any."""
    scan = _Scan()
    section, account, listing = "", None, False
    current: _Record | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("!"):
            _refuse_unended(path, current, number)
            section, listing = _header(line, section, listing)
            current = None
        elif line.startswith("^"):
            account = _finish(scan, current, section, account, listing)
            current = None
        else:
            current = current or _Record(section, account, number)
            current.fields.append((line[0], line[1:], number))
    scan.unfinished = current if current is not None and current.fields else None
    return scan


def _refuse_unended(path: Path, current: _Record | None, number: int) -> None:
    # A header inside a record would silently drop the record: its fields belong to nothing.
    if current is not None and current.fields:
        raise ParseError(
            path,
            f'the record that starts on line {current.line} has no closing "^" before the header on line {number}.',
            line=number,
            expected="a line with ^ ending the record",
            found="a ! header",
        )


def _refuse_doubled(path: Path, record: _Record) -> None:
    # Two dates or amounts in one record are two records whose "^" was lost: reading the first
    # would drop the second without a word.  Split lines (S, then E, $ and, for quiffen, D) repeat
    # by design, so only the fields before the first S are checked.
    seen: set[str] = set()
    for code, value, number in record.fields:
        if code == "S":
            return
        if code in _SINGLE_CODES and code in seen:
            raise ParseError(
                path,
                f'the record that starts on line {record.line} has a second {code} line: a "^" ending the record before it is missing.',
                line=number,
                expected="one record per date and amount, each ending with ^",
                found=code + value,
            )
        seen.add(code)


def _finish(scan: _Scan, current: _Record | None, section: str, account: str | None, listing: bool) -> str | None:
    """File the record a "^" just closed; the account the following records belong to."""
    if current is None or not current.fields:
        return account
    if section == "account":
        return current.get("N") if not listing else account
    if section in _CASH_SECTIONS:
        scan.records.append(current)
    else:
        scan.skipped.add(section)
    return account


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
    # Quicken pads a one-digit day or month after its separator ("10/ 1/2026"); nothing else moves.
    return re.sub(r"(?<=[/'])\s+", "", compact).replace("'", "/")


def _dates(path: Path, records: list[_Record], options: ParseOptions) -> list[dt.date]:
    texts = [_normalise_date(r.get("D") or "") for r in records]
    for record, text in zip(records, texts):
        if not _DATE_SHAPE.match(text):
            what = "has no date (D line)." if not text else "has a date that is not a QIF date."
            raise ParseError(
                path,
                f"the transaction {what}",
                line=record.line_of("D"),
                expected="a date such as 01/31/2026 or 1/31'26",
                found=record.get("D") or "",
            )
    fmt = options.date_format or _infer(path, records, texts)
    days = parse_dates(texts, fmt)
    bad = next((i for i, d in enumerate(days) if d is None), None)
    if bad is not None:
        raise ParseError(
            path,
            f"the date does not match the format {fmt}.",
            line=records[bad].line_of("D"),
            expected=fmt,
            found=records[bad].get("D"),
        )
    return [d for d in days if d is not None]


def _infer(path: Path, records: list[_Record], texts: list[str]) -> str:
    try:
        found = infer_date_format(texts)
    except NoDateFormat as exc:
        record = records[exc.index]
        raise ParseError(
            path,
            "the date is not in any format we know.",
            line=record.line_of("D"),
            expected="a date such as 01/31/2026 or 1/31'26",
            found=record.get("D"),
        ) from None
    if isinstance(found, Ambiguity):
        first, second = (records[i] for i in found.examples)
        raise AmbiguousDateError(
            path,
            f"the dates read both as {found.formats[0]} and as {found.formats[1]} (line {first.line}: "
            f"{first.get('D')!r}, line {second.line}: {second.get('D')!r}); pass --date-format {found.formats[0]} "
            f"or --date-format {found.formats[1]}.",
        )
    return found


def _decimal_mark(path: Path, records: list[_Record]) -> str:
    """ "." or ",", from the amounts that can only be read one way ("12,50", "1,234.56")."""
    first: dict[str, tuple[int, str]] = {}
    for record in records:
        for code, value, number in record.fields:
            if code in _AMOUNT_CODES:
                readings = [mark for mark, shape in _AMOUNT.items() if shape.match(value.strip())]
                if len(readings) == 1:
                    first.setdefault(readings[0], (number, value.strip()))
    if len(first) == 2:
        number, text = max(first.values())
        raise ParseError(
            path,
            'the amounts use both "." and "," as decimal mark, so neither can be trusted.',
            line=number,
            expected=f"amounts written like the one on line {min(first.values())[0]}",
            found=text,
        )
    return next(iter(first), ".")


def _statements(
    path: Path, options: ParseOptions, records: list[_Record], days: list[dt.date], currency: str, mark: str
) -> list[Statement]:
    groups: dict[tuple[str | None, str], list[int]] = {}
    for index, record in enumerate(records):
        groups.setdefault((record.account, record.section), []).append(index)
    single = len({account for account, _ in groups}) == 1
    book = _Book(path, currency, mark)
    return [
        _statement(book, options, account, records, days, indexes, single) for (account, _), indexes in groups.items()
    ]


@dataclass(frozen=True)
class _Book:
    """What every transaction of the file shares."""

    path: Path
    currency: str
    mark: str  # the file's decimal mark


def _statement(
    book: _Book,
    options: ParseOptions,
    account: str | None,
    records: list[_Record],
    days: list[dt.date],
    indexes: list[int],
    single: bool,
) -> Statement:
    name = options.account if options.account and single else account
    if not name:
        raise InputError(book.path, "the file names no account (it has no !Account record); pass --account NAME.")
    opening = [i for i in indexes if _is_opening(book, records[i])]
    transactions = tuple(_transaction(book, name, records[i], days[i]) for i in indexes if i not in opening)
    return Statement(
        path=str(book.path),
        format="qif",
        account=name,
        currency=book.currency,
        opening_balance=_amount(book, records[opening[0]]) if opening else None,
        transactions=transactions,
        bank_account_id=account,  # the !Account name the exporting program wrote, if any
    )


_OPENING = "opening balance"


def _is_opening(book: _Book, record: _Record) -> bool:
    """Whether `record` is the account's opening balance (a transfer from itself named so), which
    is a balance, not a transaction.  A payee one or two letters off that name, on such a
    transfer, is a damaged file: importing it as a transaction would add money that never moved."""
    if not (record.get("L") or "").startswith("["):
        return False
    payee = (record.get("P") or "").lower()
    if payee == _OPENING:
        return True
    if payee and 0 < edit_distance(payee, _OPENING, 2) <= 2:
        raise ParseError(
            book.path,
            "an opening-balance record's payee is misspelled; the file may be damaged: download it again.",
            line=record.line_of("P"),
            expected="'Opening Balance'",
            found=record.get("P"),
        )
    return False


def _transaction(book: _Book, account: str, record: _Record, day: dt.date) -> Transaction:
    payee, memo = record.get("P"), record.get("M")
    return Transaction(
        date=day,
        amount=_amount(book, record),
        currency=book.currency,
        description=" ".join(p for p in (payee, memo) if p) or (record.get("L") or ""),
        payee=payee,
        memo=memo,
        notes=_splits(book, record),
        account=account,
        source=Source(path=str(book.path), line=record.line),
        raw={
            "number": record.get("N") or "",
            "category": record.get("L") or "",
            "cleared": record.get("C") or "",
            "section": record.section,
        },
    )


def _amount(book: _Book, record: _Record) -> Decimal:
    """The T amount (U, Quicken's copy of it, when T is missing); both must be exact amounts."""
    for code in ("T", "U"):
        if record.get(code) is not None:
            _money(book, record.get(code) or "", record.line_of(code), code)
    code = "T" if record.get("T") is not None else "U"
    if record.get(code) is None:
        raise ParseError(
            book.path,
            "the transaction has no amount (T line).",
            line=record.line,
            expected="a line such as T-1,234.56",
            found="",
        )
    return _money(book, record.get(code) or "", record.line_of(code), code)


def _money(book: _Book, text: str, line: int, code: str) -> Decimal:
    """`text` read with the file's decimal mark; a ParseError unless it is exactly an amount."""
    if not _AMOUNT[book.mark].match(text):
        example = "-1,234.56" if book.mark == "." else "-1.234,56"
        raise ParseError(
            book.path,
            f"the amount ({code} line) is not a number.",
            line=line,
            expected=f"an amount such as {example}",
            found=text,
        )
    grouping = "," if book.mark == "." else "."
    return Decimal(text.replace(grouping, "").replace(book.mark, "."))


def _splits(book: _Book, record: _Record) -> str | None:
    parts: list[str] = []
    for code, value, number in record.fields:
        if code == "S":
            parts.append(value.strip() or "(no category)")
        elif code == "E" and parts:
            parts[-1] += f" ({value.strip()})"
        elif code == "$" and parts:
            parts[-1] += f" {_money(book, value.strip(), number, '$')}"
    return "splits: " + "; ".join(parts) if parts else None
