"""OFX 1.x (SGML) and 2.x (XML) bank and credit-card statements, also as .qfx and .qbo.

Why not ofxparse: on real files it is right about what it reads, but it builds a BeautifulSoup
DOM and reads 1,200-2,500 transactions a second (a 100,000-transaction SGML file did not finish
in four minutes), it refuses whole files over one empty <NAME>, and it drops the timezone the
bank wrote.  `ofx_tree` reads SGML and XML alike in one regex pass; a test compares our reading
with ofxparse's on every corpus file ofxparse accepts.

That tree reader is the reference.  Large files go through a fast path first (`fast_statements`:
ofx_fast cuts out the runs of transactions, ofx_rows builds them column by column), which answers
exactly as the reference or not at all; tests/test_ofx_fast.py holds it to that.

Never a wrong number, never a silent half file: values are read strictly (ofx_values); a file
that stops before its aggregates close is a TruncatedError carrying the statements of the complete
transactions; an OFX 2.x file (XML declaration, closed leaves) must be well-formed XML, with no
DTD, so no entity can expand; nesting is bounded; and whatever else a damaged file makes Python
raise becomes a ParseError naming the file (`OfxParser.parse` is that boundary).

Dates are the calendar day the bank wrote ("20261031230000[-5:EST]" is 31 October), not that
instant moved to UTC: the statement, the bank's web page and the user's memory all use local days.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.parsers.expat
from dataclasses import dataclass
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from importer.core.errors import ImporterError, InputError, ParseError, TruncatedError
from importer.core.currencies import is_currency
from importer.core.models import Source, Statement, Transaction, trusted
from importer.parsers.base import FileSample, ParseOptions, read_statement
from importer.parsers.ofx import fast as ofx_fast, rows as ofx_rows
from importer.parsers.ofx.text import decode
from importer.parsers.ofx.tree import Damaged, Node, line_at, line_of, parse_tree, prepare, unclosed
from importer.parsers.ofx.values import AMOUNT_FORMAT, DATE_FORMAT, amount, date_value

_MARKERS = (b"OFXHEADER", b"<OFX>", b"<ofx>", b"<?OFX", b"<OFX ")
_STATEMENTS = frozenset({"STMTRS", "CCSTMTRS"})
_RESPONSES = frozenset({"STMTTRNRS", "CCSTMTTRNRS"})
_PRUNE = frozenset({"BANKTRANLIST", "SECLIST", "INVTRANLIST", "INVPOSLIST"})
_XML_DECLARATION = re.compile(r"\s*<\?xml", re.IGNORECASE)
# The first leaf holding text, and the tag after it: a closing tag of the same name marks OFX 2.x.
_FIRST_LEAF = re.compile(r"<([A-Za-z][A-Za-z0-9_.]*)>\s*[^<\s][^<]*<(/?[A-Za-z][A-Za-z0-9_.]*)")  # linear: \s and [^<\s] never overlap
# What a damaged file can make Python raise below our own checks (a character reference past
# U+10FFFF, a model refusing a value...): each becomes a ParseError naming the file.
_DAMAGE = (ValueError, IndexError, KeyError, OverflowError, UnicodeError, RecursionError)


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
        text = decode(read_statement(path, options))
        try:
            fast = fast_statements(path, text, options)
            return fast if fast is not None else reference_statements(path, text, options)
        except _DAMAGE as error:
            raise ParseError(
                path, f"could not be read as OFX ({type(error).__name__}: {error}); the file looks damaged. Download it again.",
            ) from None


def reference_statements(path: Path, text: str, options: ParseOptions) -> list[Statement]:
    """The statements in `text` (the decoded file), read through the whole tree: the reference."""
    doc = _Doc(path, prepare(text), options)
    root = _tree(doc)
    _check_whole(doc, root, text)
    return _statements(doc, root, _tree_rows)


def _tree(doc: _Doc) -> Node:
    try:
        return parse_tree(doc.text)
    except Damaged as damage:
        raise ParseError(
            doc.path, f"{damage.reason}, so the file is damaged or not an OFX statement. Download it again.", line=line_at(doc.text, damage.offset),
        ) from None


def _check_whole(doc: _Doc, root: Node, text: str) -> None:
    """The file is all there (its aggregates close) and, when OFX 2.x, well-formed XML."""
    cut_in = unclosed(root)
    if cut_in:
        raise _truncated(doc, root, cut_in)
    if is_xml(text):
        check_xml(doc.path, text)


def is_xml(text: str) -> bool:
    """OFX 2.x: an XML declaration and closed leaves.  Some banks (ANZ) put the declaration above
    an SGML body with open leaves; that body is read as SGML, as they meant it."""
    leaf = _FIRST_LEAF.search(text) if _XML_DECLARATION.match(text) else None
    return leaf is not None and leaf.group(2) == "/" + leaf.group(1)


def check_xml(path: Path, text: str) -> None:
    """A ParseError unless `text` is well-formed XML without a DTD (hence without entities to expand)."""
    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    try:
        parser.Parse(text, True)
    except _Dtd:
        raise ParseError(
            path,
            "declares a DTD; OFX files never do, and its entities could make a reader fetch files or expand without end, so the file is refused.",
        ) from None
    except xml.parsers.expat.ExpatError as error:
        reason = xml.parsers.expat.errors.messages[error.code]
        raise ParseError(
            path, f"is not well-formed XML ({reason} at column {error.offset + 1}); an OFX 2.x file must be. Download it again.", line=error.lineno,
        ) from None


class _Dtd(Exception):
    """The XML declares a document type."""


def _refuse_dtd(*_: object) -> None:
    raise _Dtd


def _truncated(doc: _Doc, root: Node, cut_in: list[str]) -> TruncatedError:
    partial = _partial(doc, root)
    count = sum(len(s.transactions) for s in partial)
    closes = ", ".join(f"</{tag}>" for tag in reversed(cut_in))
    keep = f", or pass --allow-partial to import the {count} complete transaction{'s' * (count != 1)}" if count else ""
    return TruncatedError(
        doc.path,
        f"the file ends before its statement does ({closes} never come): the download was most likely cut off. "
        f"{_last_complete(doc, root)} Download the statement again{keep}.",
        line=doc.text.count("\n") + 1,
        partial=partial,
    )


def _last_complete(doc: _Doc, root: Node) -> str:
    complete = [node for node in root.walk() if node.tag == "STMTTRN" and not node.open]
    if not complete:
        return "No transaction in it is complete."
    last = complete[-1]
    values = ", ".join(f"{tag} {last.get(tag)}" for tag in ("FITID", "DTPOSTED", "TRNAMT") if last.get(tag))
    return f"The last complete transaction ({values}) is at line {doc.line(last)}."


def _partial(doc: _Doc, root: Node) -> tuple[Statement, ...]:
    """The statements of a cut-off file, each with its complete transactions; those that cannot be
    read, or were cut before any transaction was complete, are left out."""
    ofx = root.child("OFX")
    found = list(ofx.find_all(_STATEMENTS, _PRUNE)) if ofx is not None else []
    fid, single = (_fid(ofx), len({_account_id(s) for s in found}) == 1) if ofx is not None else (None, True)
    kept = []
    for node in found:
        try:
            statement = _statement(doc, node, fid, single, _tree_rows)
        except ImporterError:
            continue
        if statement.transactions or not node.open:
            kept.append(statement)
    return tuple(kept)


def fast_statements(path: Path, text: str, options: ParseOptions) -> list[Statement] | None:
    """What `reference_statements` gives, or None when this path does not vouch for the file.

    Why: the tree reader spends ~60 µs per transaction; issue 9 wants 100,000 a second.  The
    scanner (ofx_fast) cuts the runs of STMTTRN blocks out, the tree reader reads the small rest
    (sign-on, accounts, balances: all error handling stays there), and the runs are read column by
    column (ofx_rows).  Any error, and anything the scanner does not read exactly as the tree
    does, leaves the whole file to the reference, so results and messages are the reference's.
    So does a cut-off file (an aggregate of the skeleton left open; a run is only cut out when its
    </BANKTRANLIST> came) and an OFX 2.x file that is not well-formed XML.
    tests/test_ofx_fast.py compares both on every corpus and sample file and on generated ones."""
    doc = _Doc(path, prepare(text), options)
    cut = ofx_fast.cut(doc.text)
    if cut is None:
        return None
    if is_xml(text):
        try:
            check_xml(path, text)
        except ParseError:
            return None

    def rows(doc: _Doc, account: str, currency: str, tranlist: Node | None) -> tuple[Transaction, ...]:
        columns = ofx_fast.read_runs([cut.runs[int(node.values[ofx_fast.MARKER])] for node in _stmttrns(tranlist)])
        read = ofx_rows.transactions(columns, str(doc.path), account, currency) if columns is not None else None
        if read is None:
            raise _NotFast
        return read

    try:
        skeleton = parse_tree(cut.skeleton)
        # A cut-off file goes to the reference, which builds the partial statements.
        return None if unclosed(skeleton) else _statements(doc, skeleton, rows)
    except (_NotFast, ImporterError, Damaged):
        return None


# How a statement's transactions are read: (doc, account name, currency, its BANKTRANLIST) → rows.
_Rows = Callable[[_Doc, str, str, "Node | None"], tuple[Transaction, ...]]


class _NotFast(Exception):
    """The fast path met something it does not vouch for."""


def _statements(doc: _Doc, root: Node, rows: _Rows) -> list[Statement]:
    ofx = root.child("OFX")
    if ofx is None:
        raise ParseError(doc.path, "has no <OFX> element, so it is not an OFX statement.")
    _check_signon(doc, ofx)
    found = list(ofx.find_all(_STATEMENTS, _PRUNE))
    if not found:
        raise InputError(doc.path, _why_empty(ofx))
    fid = _fid(ofx)
    single = len({_account_id(s) for s in found}) == 1
    return [_statement(doc, node, fid, single, rows) for node in found]


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


def _statement(doc: _Doc, stmt: Node, fid: str | None, single: bool, rows: _Rows) -> Statement:
    currency = _currency(doc, stmt)
    name, account_id = _account_name(doc, stmt, fid, single)
    tranlist = stmt.child("BANKTRANLIST")
    transactions = rows(doc, name, currency, tranlist)
    return Statement(
        path=str(doc.path),
        format="ofx",
        account=name,
        currency=currency,
        bank_account_id=account_id,
        closing_balance=_balance(doc, stmt, "LEDGERBAL"),
        available_balance=_balance(doc, stmt, "AVAILBAL"),
        start_date=_optional_date(doc, tranlist, "DTSTART", "the transaction list"),
        end_date=_optional_date(doc, tranlist, "DTEND", "the transaction list"),
        transactions=transactions,
    )


def _stmttrns(tranlist: Node | None) -> list[Node]:
    return [n for n in tranlist.children if n.tag == "STMTTRN"] if tranlist is not None else []


def _tree_rows(doc: _Doc, account: str, currency: str, tranlist: Node | None) -> tuple[Transaction, ...]:
    """The reference reading: one transaction per STMTTRN node of the tree; one the file's end cut
    off (open) is left out, for the partial statements of a TruncatedError."""
    rows = [(i, n) for i, n in enumerate(_stmttrns(tranlist), start=1) if not n.open]
    _check_fitids(doc, rows)
    return tuple(_transaction(doc, account, currency, i, n) for i, n in rows)


def _check_fitids(doc: _Doc, rows: list[tuple[int, Node]]) -> None:
    """FITIDs as banks write them: on every transaction of a statement or on none, in printable
    ASCII.  Anything else is how a damaged file looks (a flipped byte, a garbled <FITID> tag), and
    a wrong or missing id would import the transaction twice or merge it with another."""
    missing = [(i, n) for i, n in rows if n.get("FITID") is None]
    if missing and len(missing) < len(rows):
        index, node = missing[0]
        raise ParseError(
            doc.path, f"transaction {index} has no FITID while the others of its statement have one; the file is likely damaged. Download it again.",
            line=doc.line(node),
        )
    for index, node in rows:
        fitid = node.get("FITID") or ""
        if not (fitid.isascii() and fitid.isprintable()):
            raise ParseError(
                doc.path, f"the FITID of transaction {index} holds characters no bank's transaction id has; the file is likely damaged.",
                line=doc.line(node), expected="printable ASCII", found=fitid,
            )


def _currency(doc: _Doc, stmt: Node) -> str:
    # An empty CURDEF happens (CBA exports); each transaction's CURRENCY/CURSYM then says it.
    currency = stmt.get("CURDEF") or doc.options.currency or _transaction_currency(stmt) or doc.options.default_currency
    if not currency:
        raise ParseError(doc.path, "the statement does not say its currency (CURDEF is empty); pass --currency.", line=doc.line(stmt))
    if not is_currency(currency.upper()):
        raise ParseError(
            doc.path, f"the {stmt.tag} statement's currency is not an ISO 4217 code; the file may be damaged: download it again.",
            line=doc.line(stmt), expected="a currency code such as USD or EUR", found=currency,
        )
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
    """The statement's account name (--account, else its identity) and its identity, BANKID:ACCTID
    (the FID, else "ofx", standing in for the BANKID a credit-card statement has not)."""
    account = _account_node(stmt)
    account_id = account.get("ACCTID") if account is not None else None
    bank = (account.get("BANKID") if account is not None else None) or fid or "ofx"
    identity = f"{bank}:{account_id}" if account_id else None
    # With several accounts in one file a single --account name cannot apply to all of them.
    if doc.options.account and single:
        return doc.options.account, identity
    if identity is None:
        raise ParseError(doc.path, "the statement names no account (ACCTID is missing or empty); pass --account NAME.", line=doc.line(stmt))
    return identity, identity


def _balance(doc: _Doc, stmt: Node, tag: str) -> Decimal | None:
    node = stmt.child(tag)
    text = node.get("BALAMT") if node is not None else None
    # An empty BALAMT says nothing about the balance; it is no error.  One the file's end cut
    # off may have lost digits.
    if text is None or node is None or node.open:
        return None
    return _amount(doc, text, node, f"{tag} BALAMT")


def _transaction(doc: _Doc, account: str, currency: str, index: int, node: Node) -> Transaction:
    payee = node.get("NAME") or _payee_name(node)
    memo = node.get("MEMO")
    fitid = node.get("FITID")
    kind = node.get("TRNTYPE") or ""
    record = f"transaction {index}" + (f" (FITID {fitid})" if fitid else "")
    # Every value below is of its exact type by construction (dates, Decimals, text, the currency
    # checked by `_currency`), so the models need no validation.
    return trusted(Transaction,
        date=_date(doc, node, "DTPOSTED", index),
        amount=_amount(doc, node.get("TRNAMT"), node, f"TRNAMT of {record}"),
        currency=currency,
        description=" ".join(p for p in (payee, memo) if p) or kind,
        payee=payee,
        memo=memo,
        bank_id=fitid,
        value_date=_optional_date(doc, node, "DTAVAIL", record),
        account=account,
        source=trusted(Source, path=str(doc.path), record=index),
        raw={"type": kind, "fitid": fitid or "", "checknum": node.get("CHECKNUM") or "", "dtposted": node.get("DTPOSTED") or ""},
    )


def _payee_name(node: Node) -> str | None:
    payee = node.child("PAYEE")
    return payee.get("NAME") if payee is not None else None


def _amount(doc: _Doc, text: str | None, node: Node, what: str) -> Decimal:
    value = amount(text) if text is not None else None
    if value is None:
        raise ParseError(doc.path, f"{what} is not an amount.", line=doc.line(node), expected=AMOUNT_FORMAT, found=text or "")
    return value


def _date(doc: _Doc, node: Node, tag: str, index: int) -> dt.date:
    text = node.get(tag)
    value = date_value(text) if text is not None else None
    if value is None:
        problem = "has no" if text is None else "has an unreadable"
        fitid = node.get("FITID")
        record = f"transaction {index}" + (f" (FITID {fitid})" if fitid else "")
        raise ParseError(doc.path, f"{record} {problem} {tag} date.", line=doc.line(node), expected=DATE_FORMAT, found=text or "")
    return value


def _optional_date(doc: _Doc, node: Node | None, tag: str, what: str) -> dt.date | None:
    """The date `tag` of `node` if there is one; written and unreadable, it is an error all the same."""
    text = node.get(tag) if node is not None else None
    if text is None or node is None:
        return None
    value = date_value(text)
    if value is None:
        raise ParseError(doc.path, f"{tag} of {what} is not a date.", line=doc.line(node), expected=DATE_FORMAT, found=text)
    return value
