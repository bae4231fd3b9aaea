"""ISO 20022 camt.053 statements, camt.052 intraday reports and camt.054 notifications.

Every version from 001.01 to 001.08 (and later ones that keep the element names) is read by
the same code: namespaces are stripped (`xmlsafe`).  Each Stmt/Rpt/Ntfctn becomes a Statement.
One Ntry is one booking; when it is a batch whose TxDtls carry their own amounts, in the entry's
currency, adding up to the entry, it is expanded into one transaction per TxDtls.  Details that do
not add up are kept as one transaction for the entry: a split we cannot check could lose money.
Pending entries (Sts PDNG/INFO) are imported too, but are left out of the balance check.
The date is the booking date, else the value date, else the day the message was created.

Nothing is read loosely: an amount is exactly an ISO 20022 decimal with CRDT or DBIT beside it,
else a ParseError naming the entry (its NtryRef or AcctSvcrRef, else its number) and the text; a
file that is not well-formed XML (a cut-off download among them) is a ParseError with line and
column (`xmlsafe`).  Each transaction carries its entry's own currency.  A balance in another
currency than the statement's (a CLBD in SEK on a EUR account) cannot be compared with the sum
of the entries, so it is not: the statement gets a note saying so, and the balance is not kept.
The same holds when booked entries are in several currencies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import Element

from importer.core.errors import ParseError
from importer.core.models import Source, Statement, Transaction
from importer.parsers import claims
from importer.parsers.balances import check_balance
from importer.parsers.base import (
    FileSample,
    ParseOptions,
    StatementFile,
    read_statement,
)
from importer.parsers.camt.details import (
    Detail,
    NotAnAmount,
    amount,
    details,
    exact_amount,
)
from importer.parsers.corrupt import corrupt_file_errors
from importer.parsers.stream import Event, events_of
from importer.parsers.xmlsafe import parse_xml, text

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.05[234]\.001\.\d+$")
_MESSAGES = {"BkToCstmrStmt": "Stmt", "BkToCstmrAcctRpt": "Rpt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)
_AVAILABLE = ("CLAV", "ITAV")
_SIGNS = {"CRDT": 1, "DBIT": -1}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T|Z$|[+-]\d{2}:\d{2}$|$)")


@dataclass(frozen=True)
class _Context:
    path: Path
    options: ParseOptions
    account: str
    currency: str
    created: dt.date | None  # the Stmt/Rpt/Ntfctn's CreDtTm


@dataclass(frozen=True)
class _Booking:
    """One transaction of an entry, and whether it is booked (only booked ones count in the
    balance check; pending PDNG/INFO ones do not)."""

    transaction: Transaction
    booked: bool


class CamtParser:
    """camt.052/053/054 XML; every statement, report or notification in the file."""

    name = "camt"

    def identify(self, sample: FileSample) -> bool:
        return claims.camt(sample)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        return _parse(path, read_statement(path, options), options)

    def stream(self, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        """The statements of `parse`, as events.  Read whole on purpose: the account names depend
        on whether the file holds one account or several (`single`), and a camt file is one
        statement of a day or a month, never large; xmlsafe's checks (no DTD, well-formed, line and
        column of a fault) stay exactly as they are."""
        yield from events_of(_parse(source.path, source.read(), options))


def _parse(path: Path, data: bytes, options: ParseOptions) -> list[Statement]:
    with corrupt_file_errors(path, "camt XML"):
        root, namespace = parse_xml(path, data)
        return _statements(path, options, root, namespace)


def _statements(path: Path, options: ParseOptions, root: Element, namespace: str) -> list[Statement]:
    if not _NAMESPACE.match(namespace):
        raise ParseError(
            path,
            "is not a camt.052/053/054 document.",
            expected="namespace urn:iso:std:iso:20022:tech:xsd:camt.05x.001.xx",
            found=namespace or "no namespace",
        )
    message, kind = _message(path, root)
    blocks = message.findall(kind)
    if not blocks:
        raise ParseError(path, f"holds no <{kind}> (statement, report or notification), so nothing to import.")
    single = len({_account_id(b) for b in blocks}) == 1
    return [_statement(path, options, block, number, single) for number, block in enumerate(blocks, start=1)]


def _message(path: Path, root: Element) -> tuple[Element, str]:
    for child in root:
        kind = _MESSAGES.get(re.sub(r"V\d+$", "", str(child.tag)))
        if kind:
            return child, kind
    names = ", ".join(str(c.tag) for c in root)
    raise ParseError(
        path,
        "holds no bank-to-customer message.",
        expected="BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn",
        found=names,
    )


def _account_id(block: Element) -> str | None:
    return text(block, "Acct/Id/IBAN") or text(block, "Acct/Id/Othr/Id") or text(block, "Acct/Id/PrtryAcct/Id")


def _statement(path: Path, options: ParseOptions, block: Element, number: int, single: bool) -> Statement:
    label = f"{block.tag} {number} ({text(block, 'Id') or 'no Id'})"
    account_id = _account_id(block)
    account = options.account if options.account and single else account_id
    if not account:
        raise ParseError(path, f"{label} names no account (Acct/Id); pass --account NAME.")
    ctx = _Context(path, options, account, _currency(path, options, block, label), _date(text(block, "CreDtTm")))
    balances, notes = _balances(ctx, block)
    bookings = [b for i, e in enumerate(block.findall("Ntry"), start=1) for b in _entry(ctx, e, i)]
    notes += _check(ctx, label, balances, bookings)
    return Statement(
        path=str(path),
        format="camt",
        account=account,
        currency=ctx.currency,
        bank_account_id=account_id,
        opening_balance=balances.get(_OPENING),
        closing_balance=balances.get(_CLOSING),
        available_balance=balances.get(_AVAILABLE),
        start_date=_date(text(block, "FrToDt/FrDtTm")),
        end_date=_date(text(block, "FrToDt/ToDtTm")),
        transactions=tuple(b.transaction for b in bookings),
        notes=tuple(notes),
    )


def _check(ctx: _Context, label: str, balances: dict[tuple[str, ...], Decimal], bookings: list[_Booking]) -> list[str]:
    """Check the balances; a note instead when booked entries are in another currency."""
    booked = [b.transaction for b in bookings if b.booked]
    others = sorted({t.currency for t in booked} - {ctx.currency})
    if others and _OPENING in balances and _CLOSING in balances:
        return [
            f"{label}: some booked entries are in {', '.join(others)}, not in the statement's {ctx.currency}, "
            "so the balances were not checked against the transactions."
        ]
    check_balance(
        ctx.path, label, balances.get(_OPENING), (t.amount for t in booked), balances.get(_CLOSING), ctx.options
    )
    return []


def _currency(path: Path, options: ParseOptions, block: Element, label: str) -> str:
    amount_element = block.find("Ntry/Amt")
    if amount_element is None:
        amount_element = block.find("Bal/Amt")
    currency = (
        text(block, "Acct/Ccy")
        or (amount_element.get("Ccy") if amount_element is not None else None)
        or options.currency
    )
    currency = currency or options.default_currency
    if not currency:
        raise ParseError(path, f"{label} does not say its currency (Acct/Ccy); pass --currency.")
    return currency.upper()


def _balances(ctx: _Context, block: Element) -> tuple[dict[tuple[str, ...], Decimal], list[str]]:
    """The opening, closing and available balances in the statement's currency, and a note for
    each balance in another currency (left out: it cannot be compared with the entries)."""
    found: dict[tuple[str, ...], Decimal] = {}
    notes: list[str] = []
    for balance in block.findall("Bal"):
        code = text(balance, "Tp/CdOrPrtry/Cd") or text(balance, "Tp/CdOrPrtry/Prtry") or ""
        codes = next((c for c in (_OPENING, _CLOSING, _AVAILABLE) if code in c), None)
        if codes is None or codes in found:
            continue
        element = balance.find("Amt")
        currency = ((element.get("Ccy") if element is not None else None) or ctx.currency).upper()
        value = _signed(ctx, balance, f"balance {code}")
        if currency != ctx.currency:
            notes.append(
                f"the {code} balance is in {currency}, not in the statement's {ctx.currency}: "
                "it was not checked against the transactions, and is not kept."
            )
            continue
        found[codes] = value
    return found, notes


def _signed(ctx: _Context, element: Element, what: str) -> Decimal:
    """Amt made negative when CdtDbtInd says DBIT; a ParseError naming `what` unless both are exact."""
    raw = text(element, "Amt")
    try:
        value = amount(raw, what)
    except NotAnAmount:
        raise ParseError(
            ctx.path,
            f"the {what} is not an amount.",
            expected="an unsigned decimal such as 12.34 (the sign is CdtDbtInd)",
            found=raw or "",
        ) from None
    indicator = text(element, "CdtDbtInd")
    if indicator not in _SIGNS:
        raise ParseError(
            ctx.path,
            f"the {what} says neither CRDT nor DBIT.",
            expected="CdtDbtInd CRDT or DBIT",
            found=indicator or "",
        )
    return value * _SIGNS[indicator]


def _entry_label(entry: Element, index: int) -> str:
    reference = text(entry, "NtryRef") or text(entry, "AcctSvcrRef")
    return f"entry {index} ({reference})" if reference else f"entry {index}"


def _entry(ctx: _Context, entry: Element, index: int) -> list[_Booking]:
    label = _entry_label(entry, index)
    status = text(entry, "Sts/Cd") or text(entry, "Sts") or "BOOK"
    value = _signed(ctx, entry, f"amount of {label}")
    element = entry.find("Amt")
    currency = (element.get("Ccy") if element is not None else None) or ctx.currency
    booked = _entry_date(ctx, entry, "BookgDt", label)
    valued = _entry_date(ctx, entry, "ValDt", label)
    # A notification (camt.054) may date only itself: its creation day is then the entry's day.
    day = booked or valued or ctx.created
    if day is None:
        raise ParseError(
            ctx.path, f"{label} has neither a booking date nor a value date.", expected="BookgDt or ValDt", found=""
        )
    try:
        _every_amount(entry)
        parts = details(entry, value)
    except NotAnAmount as exc:
        raise ParseError(
            ctx.path,
            f"the {exc.where} of {label} is not an amount.",
            expected="an unsigned decimal such as 12.34",
            found=exc.found,
        ) from None
    where = _Where(index, day, valued, status, currency.upper())
    return [
        _Booking(_transaction(ctx, entry, part, where, k, len(parts)), status == "BOOK")
        for k, part in enumerate(parts, start=1)
    ]


def _every_amount(entry: Element) -> None:
    # Amounts of the entry's details that are not read (a single TxDtls, instructed amounts,
    # charges) are checked too: a garbled one means the file is damaged where we cannot see it.
    for element in entry.iter("Amt"):
        if element.get("Ccy") is not None and not exact_amount(element.text):
            parent = next(p for p in entry.iter() if element in list(p))  # only on the way to an error
            amount(element.text, f"{parent.tag} Amt")


@dataclass(frozen=True)
class _Where:
    """What every transaction of one entry shares."""

    index: int
    day: dt.date
    valued: dt.date | None
    status: str
    currency: str


def _transaction(ctx: _Context, entry: Element, part: Detail, where: _Where, k: int, total: int) -> Transaction:
    entry_ref = text(entry, "AcctSvcrRef")
    if total == 1:
        bank_id = part.reference or entry_ref or part.end_to_end
    else:  # the entry's reference names the whole batch; each part needs its own
        bank_id = part.reference or part.end_to_end or (f"{entry_ref}/{k}" if entry_ref else None)
    description = (
        " ".join(p for p in (part.counterparty, part.remittance) if p) or part.info or text(entry, "AddtlNtryInf") or ""
    )
    return Transaction(
        date=where.day,
        amount=part.amount,
        currency=where.currency,
        description=description,
        payee=part.counterparty,
        memo=part.remittance,
        bank_id=bank_id,
        value_date=where.valued,
        account=ctx.account,
        source=Source(path=str(ctx.path), record=where.index),
        notes=part.note,
        raw={
            "status": where.status,
            "counterparty_iban": part.iban or "",
            "entry": str(where.index),
            "detail": f"{k}/{total}",
        },
    )


def _entry_date(ctx: _Context, entry: Element, tag: str, label: str) -> dt.date | None:
    value = text(entry, f"{tag}/Dt") or text(entry, f"{tag}/DtTm")
    day = _date(value)
    if value and day is None:
        raise ParseError(ctx.path, f"{label} has an unreadable {tag}.", expected="YYYY-MM-DD", found=value)
    return day


def _date(value: str | None) -> dt.date | None:
    """An xs:date or xs:dateTime's day (a zone such as "+02:00" may follow); None when absent or not one."""
    if not value:
        return None
    if not _DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
