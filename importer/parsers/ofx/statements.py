"""OFX statements from the tree of their aggregates: the checks and values every reader shares.

The reference reader (reader.py) hands this module the whole tree, the fast path a skeleton tree
whose transaction runs are cut out, and the streaming reader (streaming.py) the skeleton as it
grows; each says how a statement's rows are read (`Rows`).  One module, so that every path
names the same records with the same words: an error found by the streaming reader reads as
the one the reference gives.  See reader.py for the rules (strict values, truncation, FITIDs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from importer.core.currencies import is_currency
from importer.core.errors import ImporterError, InputError, ParseError, TruncatedError
from importer.core.models import Source, Statement, Transaction, trusted
from importer.parsers.base import ParseOptions
from importer.parsers.ofx.fast import MARKER
from importer.parsers.ofx.tree import Node, line_of
from importer.parsers.ofx.values import AMOUNT_FORMAT, DATE_FORMAT, amount, date_value

STATEMENTS = frozenset({"STMTRS", "CCSTMTRS"})
_RESPONSES = frozenset({"STMTTRNRS", "CCSTMTTRNRS"})
PRUNE = frozenset({"BANKTRANLIST", "SECLIST", "INVTRANLIST", "INVPOSLIST"})


@dataclass(frozen=True)
class Doc:
    path: Path
    text: str
    options: ParseOptions
    base: int = 0  # lines of the file before `text`, when it is a piece of it (the streaming reader's)

    def line(self, node: Node) -> int:
        return self.base + line_of(self.text, node)


# How a statement's transactions are read: (doc, account name, currency, its BANKTRANLIST) → rows.
RowReader = Callable[[Doc, str, str, "Node | None"], tuple[Transaction, ...]]


def truncated(doc: Doc, root: Node, cut_in: list[str]) -> TruncatedError:
    partial = partial_of(doc, root)
    count = sum(len(s.transactions) for s in partial)
    return cut_off(doc.path, cut_in, last_complete(doc, root), count, doc.text.count("\n") + 1, partial)


def cut_off(
    path: Path,
    cut_in: list[str],
    last: str,
    count: int,
    lines: int,
    partial: tuple[Statement, ...] = (),
) -> TruncatedError:
    """The error for a file that ends inside the aggregates `cut_in` (outermost first), of `lines`
    lines, `last` saying where its last complete transaction is and `count` how many there are."""
    closes = ", ".join(f"</{tag}>" for tag in reversed(cut_in))
    keep = f", or pass --allow-partial to import the {count} complete transaction{'s' * (count != 1)}" if count else ""
    return TruncatedError(
        path,
        f"the file ends before its statement does ({closes} never come): the download was most likely cut off. "
        f"{last} Download the statement again{keep}.",
        line=lines,
        partial=partial,
    )


def last_complete(doc: Doc, root: Node) -> str:
    # A marker block of a skeleton (fast.py, streaming.py) stands for a run, not for a transaction.
    complete = [node for node in root.walk() if node.tag == "STMTTRN" and not node.open and MARKER not in node.values]
    if not complete:
        return "No transaction in it is complete."
    last = complete[-1]
    values = ", ".join(f"{tag} {last.get(tag)}" for tag in ("FITID", "DTPOSTED", "TRNAMT") if last.get(tag))
    return f"The last complete transaction ({values}) is at line {doc.line(last)}."


def partial_of(doc: Doc, root: Node) -> tuple[Statement, ...]:
    """The statements of a cut-off file, each with its complete transactions; those that cannot be
    read, or were cut before any transaction was complete, are left out."""
    ofx = root.child("OFX")
    found = list(ofx.find_all(STATEMENTS, PRUNE)) if ofx is not None else []
    fid, single = (fid_of(ofx), len({account_id_of(s) for s in found}) == 1) if ofx is not None else (None, True)
    kept = []
    for node in found:
        try:
            statement = statement_of(doc, node, fid, single, tree_rows)
        except ImporterError:
            continue
        if statement.transactions or not node.open:
            kept.append(statement)
    return tuple(kept)


def read_statements(doc: Doc, root: Node, rows: RowReader) -> list[Statement]:
    ofx = root.child("OFX")
    if ofx is None:
        raise ParseError(doc.path, "has no <OFX> element, so it is not an OFX statement.")
    check_signon(doc, ofx)
    found = list(ofx.find_all(STATEMENTS, PRUNE))
    if not found:
        raise InputError(doc.path, why_empty(ofx))
    fid = fid_of(ofx)
    single = len({account_id_of(s) for s in found}) == 1
    return [statement_of(doc, node, fid, single, rows) for node in found]


def check_signon(doc: Doc, ofx: Node) -> None:
    status = _find(ofx, "SONRS", "STATUS")
    if status is not None and _failed(status):
        raise InputError(
            doc.path, f"the bank refused the sign-on ({_status_text(status)}). Sign in again and download a new file."
        )


def why_empty(ofx: Node) -> str:
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
        found = next(node.find_all(frozenset({tag}), PRUNE), None)
        if found is None:
            return None
        node = found
    return node


def fid_of(ofx: Node) -> str | None:
    fi = _find(ofx, "SONRS", "FI")
    return fi.get("FID") if fi is not None else None


def _account_node(stmt: Node) -> Node | None:
    return stmt.child("BANKACCTFROM") or stmt.child("CCACCTFROM")


def account_id_of(stmt: Node) -> str | None:
    account = _account_node(stmt)
    return account.get("ACCTID") if account is not None else None


def statement_of(doc: Doc, stmt: Node, fid: str | None, single: bool, rows: RowReader) -> Statement:
    currency = currency_of(doc, stmt)
    name, account_id = account_name(doc, stmt, fid, single)
    transactions = rows(doc, name, currency, stmt.child("BANKTRANLIST"))
    return finished(doc, stmt, name, account_id, currency, transactions)


def finished(
    doc: Doc,
    stmt: Node,
    name: str,
    account_id: str | None,
    currency: str,
    transactions: tuple[Transaction, ...] = (),
) -> Statement:
    """The statement `stmt` once its rows are read: what only its end says (balances, dates)."""
    tranlist = stmt.child("BANKTRANLIST")
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


def stmttrns(tranlist: Node | None) -> list[Node]:
    return [n for n in tranlist.children if n.tag == "STMTTRN"] if tranlist is not None else []


def tree_rows(doc: Doc, account: str, currency: str, tranlist: Node | None) -> tuple[Transaction, ...]:
    """The reference reading: one transaction per STMTTRN node of the tree; one the file's end cut
    off (open) is left out, for the partial statements of a TruncatedError."""
    rows = [(i, n) for i, n in enumerate(stmttrns(tranlist), start=1) if not n.open]
    check_not_nested(doc, [n for _, n in rows])
    check_fitids(doc, rows)
    return tuple(transaction_of(doc, account, currency, i, n) for i, n in rows)


def check_not_nested(doc: Doc, blocks: list[Node]) -> None:
    """No block holds another: the tree reads "<STMTTRN>…<NAME>" then "<PAYEE>…</PAYEE><STMTTRN>"
    with NAME as an aggregate, so the next block lands inside the first, where no reader looks."""
    for block in blocks:
        if holds_a_block(block):
            raise nested_block(doc, block)


def holds_a_block(block: Node) -> bool:
    """`block` (a STMTTRN) has another STMTTRN among its descendants."""
    return bool(block.children) and any(node.tag == "STMTTRN" for node in block.walk())


def nested_block(doc: Doc, block: Node) -> ParseError:
    """The refusal of a block left open where the next block is read inside it: reading on would
    drop the inner transactions without a word (every reader, the reference and the stream, says this)."""
    return ParseError(
        doc.path,
        "has a transaction (STMTTRN) that is not closed, and the next transaction would be read inside it, "
        "so a transaction could be lost. Download the file again, or close the transaction with </STMTTRN>.",
        line=doc.line(block),
        expected="</STMTTRN> before the next <STMTTRN>",
    )


def check_fitids(doc: Doc, rows: list[tuple[int, Node]]) -> None:
    """FITIDs as banks write them: on every transaction of a statement or on none, in printable
    ASCII.  Anything else is how a damaged file looks (a flipped byte, a garbled <FITID> tag), and
    a wrong or missing id would import the transaction twice or merge it with another."""
    missing = [(i, n) for i, n in rows if n.get("FITID") is None]
    if missing and len(missing) < len(rows):
        index, node = missing[0]
        raise missing_fitid(doc.path, index, doc.line(node))
    check_printable_fitids(doc, rows)


def missing_fitid(path: Path, index: int, line: int) -> ParseError:
    """Transaction `index` (at `line`) has no FITID while others of its statement have one."""
    return ParseError(
        path,
        f"transaction {index} has no FITID while the others of its statement have one; the file is likely damaged. Download it again.",
        line=line,
    )


def check_printable_fitids(doc: Doc, rows: list[tuple[int, Node]]) -> None:
    """Each FITID of `rows` (numbered transactions) is printable ASCII, as every bank's is."""
    for index, node in rows:
        fitid = node.get("FITID") or ""
        if not (fitid.isascii() and fitid.isprintable()):
            raise ParseError(
                doc.path,
                f"the FITID of transaction {index} holds characters no bank's transaction id has; the file is likely damaged.",
                line=doc.line(node),
                expected="printable ASCII",
                found=fitid,
            )


def currency_of(doc: Doc, stmt: Node, tranlist: Node | None = None) -> str:
    """The statement's currency; the transactions' (in `tranlist`, else the statement's own list)
    say it when CURDEF is empty."""
    # An empty CURDEF happens (CBA exports); each transaction's CURRENCY/CURSYM then says it.
    listed = tranlist if tranlist is not None else stmt.child("BANKTRANLIST")
    currency = (
        stmt.get("CURDEF") or doc.options.currency or _transaction_currency(listed) or doc.options.default_currency
    )
    if not currency:
        raise ParseError(
            doc.path, "the statement does not say its currency (CURDEF is empty); pass --currency.", line=doc.line(stmt)
        )
    if not is_currency(currency.upper()):
        raise ParseError(
            doc.path,
            f"the {stmt.tag} statement's currency is not an ISO 4217 code; the file may be damaged: download it again.",
            line=doc.line(stmt),
            expected="a currency code such as USD or EUR",
            found=currency,
        )
    return currency.upper()


def _transaction_currency(tranlist: Node | None) -> str | None:
    found = {
        cur.get("CURSYM")
        for txn in (tranlist.children if tranlist is not None else [])
        for cur in txn.children
        if cur.tag == "CURRENCY"
    }
    return found.pop() if len(found) == 1 else None


def account_name(doc: Doc, stmt: Node, fid: str | None, single: bool) -> tuple[str, str | None]:
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
        raise ParseError(
            doc.path,
            "the statement names no account (ACCTID is missing or empty); pass --account NAME.",
            line=doc.line(stmt),
        )
    return identity, identity


def _balance(doc: Doc, stmt: Node, tag: str) -> Decimal | None:
    node = stmt.child(tag)
    text = node.get("BALAMT") if node is not None else None
    # An empty BALAMT says nothing about the balance; it is no error.  One the file's end cut
    # off may have lost digits.
    if text is None or node is None or node.open:
        return None
    return _amount(doc, text, node, f"{tag} BALAMT")


def transaction_of(doc: Doc, account: str, currency: str, index: int, node: Node) -> Transaction:
    payee = node.get("NAME") or _payee_name(node)
    memo = node.get("MEMO")
    fitid = node.get("FITID")
    kind = node.get("TRNTYPE") or ""
    record = f"transaction {index}" + (f" (FITID {fitid})" if fitid else "")
    # Every value below is of its exact type by construction (dates, Decimals, text, the currency
    # checked by `currency_of`), so the models need no validation.
    return trusted(
        Transaction,
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
        raw={
            "type": kind,
            "fitid": fitid or "",
            "checknum": node.get("CHECKNUM") or "",
            "dtposted": node.get("DTPOSTED") or "",
        },
    )


def _payee_name(node: Node) -> str | None:
    payee = node.child("PAYEE")
    return payee.get("NAME") if payee is not None else None


def _amount(doc: Doc, text: str | None, node: Node, what: str) -> Decimal:
    value = amount(text) if text is not None else None
    if value is None:
        raise ParseError(
            doc.path, f"{what} is not an amount.", line=doc.line(node), expected=AMOUNT_FORMAT, found=text or ""
        )
    return value


def _date(doc: Doc, node: Node, tag: str, index: int) -> dt.date:
    text = node.get(tag)
    value = date_value(text) if text is not None else None
    if value is None:
        problem = "has no" if text is None else "has an unreadable"
        fitid = node.get("FITID")
        record = f"transaction {index}" + (f" (FITID {fitid})" if fitid else "")
        raise ParseError(
            doc.path, f"{record} {problem} {tag} date.", line=doc.line(node), expected=DATE_FORMAT, found=text or ""
        )
    return value


def _optional_date(doc: Doc, node: Node | None, tag: str, what: str) -> dt.date | None:
    """The date `tag` of `node` if there is one; written and unreadable, it is an error all the same."""
    text = node.get(tag) if node is not None else None
    if text is None or node is None:
        return None
    value = date_value(text)
    if value is None:
        raise ParseError(
            doc.path, f"{tag} of {what} is not a date.", line=doc.line(node), expected=DATE_FORMAT, found=text
        )
    return value
