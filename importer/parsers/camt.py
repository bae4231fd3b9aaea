"""ISO 20022 camt.053 statements, camt.052 intraday reports and camt.054 notifications.

Every version from 001.01 to 001.08 (and later ones that keep the element names) is read by
the same code: namespaces are stripped (`xmlsafe`).  Each Stmt/Rpt/Ntfctn becomes a Statement.
One Ntry is one booking; when it is a batch whose TxDtls carry their own amounts, in the entry's
currency, adding up to the entry, it is expanded into one transaction per TxDtls.  Details that do
not add up are kept as one transaction for the entry: a split we cannot check could lose money.
Pending entries (Sts PDNG/INFO) are imported too, but are left out of the balance check.
The date is the booking date, else the value date, else the day the message was created.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import Element

from importer.balances import check_balance
from importer.errors import ParseError
from importer.models import Source, Statement, Transaction
from importer.parsers.base import FileSample, ParseOptions, read_statement
from importer.parsers.camt_details import Detail, details
from importer.parsers.xmlsafe import parse_xml, text

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.05[234]\.001\.\d+$")
_MESSAGES = {"BkToCstmrStmt": "Stmt", "BkToCstmrAcctRpt": "Rpt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)
_AVAILABLE = ("CLAV", "ITAV")


@dataclass(frozen=True)
class _Context:
    path: Path
    options: ParseOptions
    account: str
    currency: str
    created: dt.date | None  # the Stmt/Rpt/Ntfctn's CreDtTm


class CamtParser:
    """camt.052/053/054 XML; every statement, report or notification in the file."""

    name = "camt"

    def identify(self, sample: FileSample) -> bool:
        head = sample.head
        return b"<Document" in head and (b"camt.05" in head or b"BkToCstmr" in head)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        root, namespace = parse_xml(path, read_statement(path, options))
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
    raise ParseError(path, "holds no bank-to-customer message.", expected="BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn", found=names)


def _account_id(block: Element) -> str | None:
    return text(block, "Acct/Id/IBAN") or text(block, "Acct/Id/Othr/Id") or text(block, "Acct/Id/PrtryAcct/Id")


def _statement(path: Path, options: ParseOptions, block: Element, number: int, single: bool) -> Statement:
    label = f"{block.tag} {number} ({text(block, 'Id') or 'no Id'})"
    account_id = _account_id(block)
    account = options.account if options.account and single else account_id
    if not account:
        raise ParseError(path, f"{label} names no account (Acct/Id); pass --account NAME.")
    ctx = _Context(path, options, account, _currency(path, options, block, label), _date(text(block, "CreDtTm")))
    balances = _balances(ctx, block)
    entries = block.findall("Ntry")
    pairs = [(t, booked) for i, e in enumerate(entries, start=1) for t, booked in _entry(ctx, e, i)]
    check_balance(path, label, balances.get(_OPENING), (t.amount for t, booked in pairs if booked), balances.get(_CLOSING), options)
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
        transactions=tuple(t for t, _ in pairs),
    )


def _currency(path: Path, options: ParseOptions, block: Element, label: str) -> str:
    amount = block.find("Ntry/Amt")
    if amount is None:
        amount = block.find("Bal/Amt")
    currency = text(block, "Acct/Ccy") or (amount.get("Ccy") if amount is not None else None) or options.currency
    if not currency:
        raise ParseError(path, f"{label} does not say its currency (Acct/Ccy); pass --currency.")
    return currency.upper()


def _balances(ctx: _Context, block: Element) -> dict[tuple[str, ...], Decimal]:
    found: dict[tuple[str, ...], Decimal] = {}
    for balance in block.findall("Bal"):
        code = text(balance, "Tp/CdOrPrtry/Cd") or text(balance, "Tp/CdOrPrtry/Prtry") or ""
        for codes in (_OPENING, _CLOSING, _AVAILABLE):
            if code in codes and codes not in found:
                found[codes] = _signed(ctx, balance, f"balance {code}")
    return found


def _signed(ctx: _Context, element: Element, what: str) -> Decimal:
    """Amt made negative when CdtDbtInd says DBIT."""
    raw = text(element, "Amt")
    try:
        amount = Decimal(raw or "")
    except InvalidOperation:
        raise ParseError(ctx.path, f"the {what} is not an amount.", expected="a number such as 12.34", found=raw or "") from None
    return -amount if text(element, "CdtDbtInd") == "DBIT" else amount


def _entry(ctx: _Context, entry: Element, index: int) -> list[tuple[Transaction, bool]]:
    status = text(entry, "Sts/Cd") or text(entry, "Sts") or "BOOK"
    amount = _signed(ctx, entry, f"amount of entry {index}")
    booked = _entry_date(ctx, entry, "BookgDt", index)
    valued = _entry_date(ctx, entry, "ValDt", index)
    # A notification (camt.054) may date only itself: its creation day is then the entry's day.
    day = booked or valued or ctx.created
    if day is None:
        raise ParseError(ctx.path, f"entry {index} has neither a booking date nor a value date.", expected="BookgDt or ValDt", found="")
    parts = details(entry, amount)
    return [(_transaction(ctx, entry, part, index, k, len(parts), day, valued, status), status == "BOOK") for k, part in enumerate(parts, start=1)]


def _transaction(
    ctx: _Context, entry: Element, part: Detail, index: int, k: int, total: int, day: dt.date, valued: dt.date | None, status: str
) -> Transaction:
    entry_ref = text(entry, "AcctSvcrRef")
    if total == 1:
        bank_id = part.reference or entry_ref or part.end_to_end
    else:  # the entry's reference names the whole batch; each part needs its own
        bank_id = part.reference or part.end_to_end or (f"{entry_ref}/{k}" if entry_ref else None)
    description = " ".join(p for p in (part.counterparty, part.remittance) if p) or part.info or text(entry, "AddtlNtryInf") or ""
    return Transaction(
        date=day,
        amount=part.amount,
        currency=ctx.currency,
        description=description,
        payee=part.counterparty,
        memo=part.remittance,
        bank_id=bank_id,
        value_date=valued,
        account=ctx.account,
        source=Source(path=str(ctx.path), record=index),
        notes=part.note,
        raw={"status": status, "counterparty_iban": part.iban or "", "entry": str(index), "detail": f"{k}/{total}"},
    )


def _entry_date(ctx: _Context, entry: Element, tag: str, index: int) -> dt.date | None:
    value = text(entry, f"{tag}/Dt") or text(entry, f"{tag}/DtTm")
    day = _date(value)
    if value and day is None:
        raise ParseError(ctx.path, f"entry {index} has an unreadable {tag}.", expected="YYYY-MM-DD", found=value)
    return day


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
