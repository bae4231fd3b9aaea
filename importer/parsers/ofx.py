"""OFX 1.x (SGML) and 2.x (XML) bank and credit-card statements, also as .qfx and .qbo.

Why not ofxparse: on real files it is right about what it reads, but it builds a BeautifulSoup
DOM and reads 1,200-2,500 transactions a second (a 100,000-transaction SGML file did not finish
in four minutes), it refuses whole files over one empty <NAME>, and it drops the timezone the
bank wrote.  `ofx_tree` reads SGML and XML alike in one regex pass; a test compares our reading
with ofxparse's on every corpus file ofxparse accepts.

Dates are the calendar day the bank wrote ("20261031230000[-5:EST]" is 31 October), not that
instant moved to UTC: the statement, the bank's web page and the user's memory all use local days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from importer.errors import InputError, ParseError
from importer.currencies import is_currency
from importer.models import Source, Statement, Transaction, trusted
from importer.parsers.base import FileSample, ParseOptions
from importer.parsers.ofx_text import decode
from importer.parsers.ofx_tree import Node, line_of, parse_tree, prepare

_MARKERS = (b"OFXHEADER", b"<OFX>", b"<ofx>", b"<?OFX", b"<OFX ")
_STATEMENTS = frozenset({"STMTRS", "CCSTMTRS"})
_RESPONSES = frozenset({"STMTTRNRS", "CCSTMTTRNRS"})
_PRUNE = frozenset({"BANKTRANLIST", "SECLIST", "INVTRANLIST", "INVPOSLIST"})


@dataclass(frozen=True)
class _Doc:
    path: Path
    text: str
    options: ParseOptions

    def line(self, node: Node) -> int:
        return line_of(self.text, node)


class OfxParser:
    """Reads every bank and credit-card statement in an OFX file; each becomes its own Statement."""

    name = "ofx"

    def identify(self, sample: FileSample) -> bool:
        return any(marker in sample.head for marker in _MARKERS)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        doc = _Doc(path, prepare(decode(path.read_bytes())), options)
        ofx = parse_tree(doc.text).child("OFX")
        if ofx is None:
            raise ParseError(path, "has no <OFX> element, so it is not an OFX statement.")
        _check_signon(doc, ofx)
        found = list(ofx.find_all(_STATEMENTS, _PRUNE))
        if not found:
            raise InputError(path, _why_empty(ofx))
        fid = _fid(ofx)
        single = len({_account_id(s) for s in found}) == 1
        return [_statement(doc, node, fid, single) for node in found]


def _check_signon(doc: _Doc, ofx: Node) -> None:
    status = _find(ofx, "SONRS", "STATUS")
    if status is not None and _failed(status):
        raise InputError(doc.path, f"the bank refused the sign-on ({_status_text(status)}). Sign in again and download a new file.")


def _why_empty(ofx: Node) -> str:
    for response in ofx.find_all(_RESPONSES):
        status = response.child("STATUS")
        if status is not None and _failed(status):
            return f"the bank's server sent an error instead of a statement ({_status_text(status)})."
    if next(ofx.find_all(frozenset({"INVSTMTRS"})), None) is not None:
        return "holds an investment statement (INVSTMTRS); only bank and credit-card statements are supported."
    kinds = ", ".join(
        f"{group.tag}/{response.tag}" if group.children else group.tag
        for group in ofx.children
        if group.tag != "SIGNONMSGSRSV1"
        for response in (group.children[:1] or [group])
    ) or ("nothing but a sign-on" if ofx.children else "nothing")
    return f"holds no bank or credit-card statement (it contains {kinds})."


def _failed(status: Node) -> bool:
    # A WARN (e.g. 15000 "password must change soon") still comes with the statement.
    severity = (status.get("SEVERITY") or "").upper()
    return severity == "ERROR" or (not severity and (status.get("CODE") or "0").strip("0") != "")


def _status_text(status: Node) -> str:
    message = status.get("MESSAGE")
    return f"code {status.get('CODE') or '?'}" + (f": {message}" if message else "")


def _find(node: Node, *path: str) -> Node | None:
    for tag in path:
        found = next(node.find_all(frozenset({tag}), _PRUNE), None)
        if found is None:
            return None
        node = found
    return node


def _fid(ofx: Node) -> str | None:
    fi = _find(ofx, "SONRS", "FI")
    return fi.get("FID") if fi is not None else None


def _account_node(stmt: Node) -> Node | None:
    return stmt.child("BANKACCTFROM") or stmt.child("CCACCTFROM")


def _account_id(stmt: Node) -> str | None:
    account = _account_node(stmt)
    return account.get("ACCTID") if account is not None else None


def _statement(doc: _Doc, stmt: Node, fid: str | None, single: bool) -> Statement:
    currency = _currency(doc, stmt)
    name, account_id = _account_name(doc, stmt, fid, single)
    tranlist = stmt.child("BANKTRANLIST")
    nodes = [n for n in tranlist.children if n.tag == "STMTTRN"] if tranlist is not None else []
    transactions = tuple(_transaction(doc, name, currency, i, n) for i, n in enumerate(nodes, start=1))
    return Statement(
        path=str(doc.path),
        format="ofx",
        account=name,
        currency=currency,
        bank_account_id=account_id,
        closing_balance=_balance(doc, stmt, "LEDGERBAL"),
        available_balance=_balance(doc, stmt, "AVAILBAL"),
        start_date=_optional_date(tranlist.get("DTSTART")) if tranlist is not None else None,
        end_date=_optional_date(tranlist.get("DTEND")) if tranlist is not None else None,
        transactions=transactions,
    )


def _currency(doc: _Doc, stmt: Node) -> str:
    # An empty CURDEF happens (CBA exports); each transaction's CURRENCY/CURSYM then says it.
    currency = stmt.get("CURDEF") or doc.options.currency or _transaction_currency(stmt)
    if not currency:
        raise ParseError(doc.path, "the statement does not say its currency (CURDEF is empty); pass --currency.", line=doc.line(stmt))
    return currency.upper()


def _transaction_currency(stmt: Node) -> str | None:
    tranlist = stmt.child("BANKTRANLIST")
    found = {
        cur.get("CURSYM")
        for txn in (tranlist.children if tranlist is not None else [])
        for cur in txn.children
        if cur.tag == "CURRENCY"
    }
    return found.pop() if len(found) == 1 else None


def _account_name(doc: _Doc, stmt: Node, fid: str | None, single: bool) -> tuple[str, str | None]:
    account = _account_node(stmt)
    account_id = account.get("ACCTID") if account is not None else None
    # With several accounts in one file a single --account name cannot apply to all of them.
    if doc.options.account and single:
        return doc.options.account, account_id
    if account_id is None:
        raise ParseError(doc.path, "the statement names no account (ACCTID is missing or empty); pass --account NAME.", line=doc.line(stmt))
    bank = (account.get("BANKID") if account is not None else None) or fid or "ofx"
    return f"{bank}:{account_id}", account_id


def _balance(doc: _Doc, stmt: Node, tag: str) -> Decimal | None:
    node = stmt.child(tag)
    text = node.get("BALAMT") if node is not None else None
    if text is None or node is None:
        return None  # an empty BALAMT says nothing about the balance; it is no error
    return _amount(doc, text, node, f"{tag} BALAMT")


def _transaction(doc: _Doc, account: str, currency: str, index: int, node: Node) -> Transaction:
    payee = node.get("NAME") or _payee_name(node)
    memo = node.get("MEMO")
    fitid = node.get("FITID")
    kind = node.get("TRNTYPE") or ""
    # Every value below is of its exact type by construction (dates, Decimals, text); only the
    # currency comes unchecked from the file, so rows are validated again when it is not ISO 4217.
    make = trusted if is_currency(currency) else (lambda cls, **kw: cls(**kw))
    return make(Transaction,
        date=_date(doc, node, "DTPOSTED", index),
        amount=_amount(doc, node.get("TRNAMT"), node, f"TRNAMT of transaction {index}"),
        currency=currency,
        description=" ".join(p for p in (payee, memo) if p) or kind,
        payee=payee,
        memo=memo,
        bank_id=fitid,
        value_date=_optional_date(node.get("DTAVAIL")),
        account=account,
        source=make(Source, path=str(doc.path), record=index),
        raw={"type": kind, "fitid": fitid or "", "checknum": node.get("CHECKNUM") or "", "dtposted": node.get("DTPOSTED") or ""},
    )


def _payee_name(node: Node) -> str | None:
    payee = node.child("PAYEE")
    return payee.get("NAME") if payee is not None else None


def _amount(doc: _Doc, text: str | None, node: Node, what: str) -> Decimal:
    if text is not None:
        try:
            return Decimal(text)
        except InvalidOperation:
            value = _loose_amount(text)
            if value is not None:
                return value
    raise ParseError(doc.path, f"{what} is not an amount.", line=doc.line(node), expected="a number such as -12.34", found=text or "")


def _loose_amount(text: str) -> Decimal | None:
    """Amounts as some banks write them: "-200,00", "1.025,53", "1 025,53"."""
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".") if cleaned.rfind(",") > cleaned.rfind(".") else cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _date(doc: _Doc, node: Node, tag: str, index: int) -> dt.date:
    text = node.get(tag)
    value = _optional_date(text)
    if value is None:
        problem = "has no" if text is None else "has an unreadable"
        raise ParseError(doc.path, f"transaction {index} {problem} {tag} date.", line=doc.line(node), expected="YYYYMMDD[HHMMSS]", found=text or "")
    return value


def _optional_date(text: str | None) -> dt.date | None:
    if text is None or len(text) < 8 or not text[:8].isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
