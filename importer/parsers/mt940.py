"""SWIFT MT940 statements and MT942 interim reports, as banks send them.

Each ":20:" starts a statement; its :25: names the account, :60F:/:60M: and :62F:/:62M: give the
opening and closing balance, which are checked against the sum of its :61: lines.  Each :61:
line with the :86: that follows it is one transaction.  The transaction date is the entry
(booking) date when the bank gives one, the value date otherwise; both are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from importer.balances import check_balance
from importer.errors import ParseError
from importer.models import Source, Statement, Transaction
from importer.parsers.base import FileSample, ParseOptions, read_statement
from importer.parsers.mt940_fields import Details, Field, StatementLine, balance, details, fields, statement_line

_IDENTIFY = re.compile(rb"(?m)^(\{1:[^}]*\}.*)?:(20|25|28C|60F|60M|61|62F|62M|64|86|34F):")


@dataclass
class _Block:
    """The fields of one statement (one :20:)."""

    fields: list[Field] = field(default_factory=list)

    def first(self, *tags: str) -> Field | None:
        return next((f for f in self.fields if f.tag in tags), None)

    def account_id(self) -> str | None:
        account = self.first("25")
        return account.value.strip() if account is not None else None


class Mt940Parser:
    """MT940/MT942 files: every statement in them, with its balances checked."""

    name = "mt940"

    def identify(self, sample: FileSample) -> bool:
        head = sample.head.lstrip()
        return not head.startswith((b"<", b"{\"")) and _IDENTIFY.search(sample.head) is not None

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        blocks = _blocks(fields(_decode(read_statement(path, options))))
        if not blocks:
            raise ParseError(path, "holds no MT940 fields.", expected="lines such as :20:, :25:, :61:", found="none")
        single = len({b.account_id() for b in blocks}) == 1
        return [_statement(path, options, block, single) for block in blocks]


def _decode(data: bytes) -> str:
    # SWIFT is ASCII; banks add Latin-1/cp1252 umlauts.  UTF-8 fails loudly, so it goes first.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _blocks(all_fields: list[Field]) -> list[_Block]:
    blocks: list[_Block] = []
    for item in all_fields:
        if item.tag == "20" or not blocks:
            blocks.append(_Block())
        blocks[-1].fields.append(item)
    return blocks


def _statement(path: Path, options: ParseOptions, block: _Block, single: bool) -> Statement:
    reference = block.first("20")
    label = f"statement :20:{reference.value.strip()}" if reference else "the statement"
    account_field = _account_field(path, block, label)
    account_id = account_field.value.strip() if account_field else None
    account = options.account if options.account and single else account_id
    if not account:
        raise ParseError(path, f"{label} names no account (:25:); pass --account NAME.", line=block.fields[0].line)
    opening = _balance(path, block, ("60F", "60M"))
    closing = _balance(path, block, ("62F", "62M"))
    currency = _currency(path, options, block, opening, label)
    transactions = tuple(_transactions(path, block, account, currency))
    check_balance(path, label, opening[0] if opening else None, (t.amount for t in transactions), closing[0] if closing else None, options)
    available = _balance(path, block, ("64",))
    return Statement(
        path=str(path),
        format="mt940",
        account=account,
        currency=currency,
        bank_account_id=account_id,
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        available_balance=available[0] if available else None,
        start_date=opening[1] if opening else None,
        end_date=closing[1] if closing else None,
        transactions=transactions,
    )


def _account_field(path: Path, block: _Block, label: str) -> Field | None:
    accounts = [f for f in block.fields if f.tag == "25"]
    if len({f.value.strip() for f in accounts}) > 1:
        # Which of two accounts the lines belong to is a guess; a broken export is refused instead.
        lines = " and ".join(str(f.line) for f in accounts)
        raise ParseError(path, f"{label} names two different accounts (:25: on lines {lines}).", line=accounts[1].line, expected="one :25: per statement", found=accounts[1].value.split(chr(10))[0])
    return accounts[0] if accounts else None


def _balance(path: Path, block: _Block, tags: tuple[str, ...]) -> tuple[Decimal, dt.date, str | None] | None:
    found = block.first(*tags)
    if found is None:
        return None
    parsed = balance(found.value)
    if parsed is None:
        raise ParseError(path, f"the :{found.tag}: balance is not readable.", line=found.line, expected="C or D, YYMMDD, currency, amount such as C260131EUR1234,56", found=found.value.strip())
    return parsed


def _currency(path: Path, options: ParseOptions, block: _Block, opening: tuple[Decimal, dt.date, str | None] | None, label: str) -> str:
    floor = block.first("34F")  # MT942 has no balances; its floor limit names the currency
    closing = _balance(path, block, ("62F", "62M"))
    currency = (opening[2] if opening else None) or (closing[2] if closing else None)
    currency = currency or (floor.value.strip()[:3] if floor else None) or options.currency
    if not currency or not currency.isalpha():
        raise ParseError(path, f"{label} does not say its currency (no :60F: balance); pass --currency.", line=block.fields[0].line)
    return currency.upper()


def _transactions(path: Path, block: _Block, account: str, currency: str) -> list[Transaction]:
    out: list[Transaction] = []
    fields_ = block.fields
    for i, item in enumerate(fields_):
        if item.tag != "61":
            continue
        line = statement_line(item.value)
        if line is None:
            raise ParseError(path, "the :61: statement line is not readable.", line=item.line, expected="YYMMDD[MMDD]C|D|RC|RD amount type reference, e.g. 2610011001D12,50NTRFNONREF", found=item.value.split("\n")[0])
        after = fields_[i + 1] if i + 1 < len(fields_) else None
        info = details(after.value) if after is not None and after.tag == "86" else Details(None, None, None, None, None)
        out.append(_transaction(path, account, currency, item.line, line, info))
    return out


def _transaction(path: Path, account: str, currency: str, number: int, line: StatementLine, info: Details) -> Transaction:
    purpose = info.purpose or line.extra
    description = " ".join(p for p in (info.payee, purpose) if p) or info.booking_text or line.kind
    return Transaction(
        date=line.entry_date or line.value_date,
        value_date=line.value_date,
        amount=line.amount,
        currency=currency,
        description=description,
        payee=info.payee,
        memo=purpose,
        bank_id=line.bank_ref or line.customer_ref,
        account=account,
        source=Source(path=str(path), line=number),
        raw={
            "type": line.kind, "gvc": info.code or "", "booking_text": info.booking_text or "",
            "counterparty_iban": info.iban or "", "end_to_end": info.end_to_end or "",
        },  # fmt: skip
    )
