"""SWIFT MT940 statements and MT942 interim reports, as banks send them.

Each ":20:" starts a statement; its :25: names the account, :60F:/:60M: and :62F:/:62M: give the
opening and closing balance, which are checked against the sum of its :61: lines.  Each :61:
line with the :86: that follows it is one transaction.  The transaction date is the entry
(booking) date when the bank gives one, the value date otherwise; both are kept.

A statement ends with its closing balance (:62F:, or :62M: when it continues in the next
message); one without it was cut off, and the file is refused with TruncatedError (the complete
statements go into its `partial`, for --allow-partial).  An MT942 interim report (:34F:/:13D:, no
:60F:) has no balances by design: it ends with :90D:/:90C: (number and sum of its debit and
credit entries, then checked like a balance) or with the message end "-"; without either it was
cut off too.  Amounts and dates are strict (`mt940_fields`); anything a corrupt file makes Python
raise becomes a ParseError naming the file (`corrupt`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from importer.core.currencies import is_currency
from importer.core.errors import BalanceError, InputError, ParseError, TruncatedError
from importer.core.models import Source, Statement, Transaction
from importer.parsers import claims
from importer.parsers.balances import check_balance
from importer.parsers.base import (
    FileSample,
    ParseOptions,
    StatementFile,
    read_statement,
)
from importer.parsers.corrupt import corrupt_file_errors
from importer.parsers.mt940.fields import (
    BLOCK_END,
    Details,
    Field,
    StatementLine,
    balance,
    count_and_sum,
    details,
    fields,
    statement_line,
)
from importer.parsers.stream import Event, events_of


@dataclass
class _Block:
    """The fields of one statement (one :20:)."""

    fields: list[Field] = field(default_factory=list)

    def first(self, *tags: str) -> Field | None:
        return next((f for f in self.fields if f.tag in tags), None)

    def account_id(self) -> str | None:
        account = self.first("25")
        return account.value.strip() if account is not None else None

    def interim(self) -> bool:
        """An MT942 report: no opening balance, and its floor limit, date/time or entry totals."""
        return self.first("60F", "60M") is None and self.first("34F", "13D", "13", "90D", "90C") is not None

    def complete(self) -> bool:
        """Whether the statement reaches its end: the closing balance, or for MT942 its totals
        or the message end."""
        if self.interim():
            return self.first("90D", "90C", BLOCK_END) is not None
        return self.first("62F", "62M") is not None


class Mt940Parser:
    """MT940/MT942 files: every statement in them, with its balances checked."""

    name = "mt940"

    def identify(self, sample: FileSample) -> bool:
        return claims.mt940(sample)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        with corrupt_file_errors(path, "MT940"):
            return _parse(path, read_statement(path, options), options)

    def stream(self, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        """The statements of `parse`, as events.  Read whole on purpose: a statement's account
        name depends on whether the file holds one account or several, and whether the last
        statement was cut inside its last line is only known at the end of the file."""
        with corrupt_file_errors(source.path, "MT940"):
            statements = _parse(source.path, source.read(), options)
        yield from events_of(statements)


def _parse(path: Path, data: bytes, options: ParseOptions) -> list[Statement]:
    text = _decode(data)
    blocks = _blocks(fields(text))
    if not blocks:
        raise ParseError(path, "holds no MT940 fields.", expected="lines such as :20:, :25:, :61:", found="none")
    single = len({b.account_id() for b in blocks}) == 1
    cut = next((b for b in blocks if not b.complete()), None)
    if cut is not None:
        raise _truncated(path, options, [b for b in blocks if b.complete()], cut, single)
    statements = [_statement(path, options, block, single) for block in blocks]
    if _may_end_inside(text, blocks[-1]):
        statements[-1] = _without_available(statements[-1], blocks[-1].fields[-1])
    return statements


def _may_end_inside(text: str, block: _Block) -> bool:
    # A file cut inside its last line, an available balance (":64:C261031EUR3158,9"), still
    # parses, to the wrong number; yet banks do end files without a line break.  Closing balances
    # and MT942 totals are checked against the entries, so only :64:/:65: are in doubt.
    return block.fields[-1].tag in ("64", "65") and not text.rstrip(" \t\x1a\x00").endswith(("\n", "\r"))


def _without_available(statement: Statement, last: Field) -> Statement:
    note = (
        f"the file ends right after the :{last.tag}: balance on line {last.line}, without a line break: it may be "
        "cut off inside that number, so the available balance is not kept."
    )
    return statement.model_copy(update={"available_balance": None, "notes": (*statement.notes, note)})


def _truncated(path: Path, options: ParseOptions, complete: list[_Block], cut: _Block, single: bool) -> TruncatedError:
    """The error for the statement `cut` that never reaches its end, with the `complete` ones as `partial`."""
    try:
        partial = [_statement(path, options, b, single) for b in complete]
    except InputError:
        partial = []  # the rest is unreadable too: nothing to offer --allow-partial
    ending = (
        'its :90D:/:90C: totals or the message end "-"' if cut.interim() else "its closing balance (:62F: or :62M:)"
    )
    last = cut.fields[-1]
    return TruncatedError(
        path,
        f"{_label(cut)} stops before {ending}: the file was probably cut off. "
        "Download it again, or pass --allow-partial to import the complete statements.",
        line=last.line,
        expected=ending,
        found=f"the :{last.tag}: field as the last one" if last.tag != BLOCK_END else "the message end",
        partial=partial,
    )


def _label(block: _Block) -> str:
    reference = block.first("20")
    return f"statement :20:{reference.value.strip()}" if reference else "the statement"


def _decode(data: bytes) -> str:
    # SWIFT is ASCII; banks add Latin-1/cp1252 umlauts.  UTF-8 fails loudly, so it goes first.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _blocks(all_fields: list[Field]) -> list[_Block]:
    blocks: list[_Block] = []
    for item in all_fields:
        if item.tag == BLOCK_END and not blocks:
            continue
        if item.tag == "20" or not blocks:
            blocks.append(_Block())
        blocks[-1].fields.append(item)
    return blocks


def _statement(path: Path, options: ParseOptions, block: _Block, single: bool) -> Statement:
    label = _label(block)
    account_field = _account_field(path, block, label)
    account_id = account_field.value.strip() if account_field else None
    account = options.account if options.account and single else account_id
    if not account:
        raise ParseError(path, f"{label} names no account (:25:); pass --account NAME.", line=block.fields[0].line)
    opening = _balance(path, block, ("60F", "60M"))
    closing = _balance(path, block, ("62F", "62M"))
    currency = _currency(path, options, block, opening, label)
    transactions = tuple(_transactions(path, block, account, currency))
    check_balance(
        path,
        label,
        opening[0] if opening else None,
        (t.amount for t in transactions),
        closing[0] if closing else None,
        options,
    )
    _check_totals(path, block, label, options)
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
        raise ParseError(
            path,
            f"{label} names two different accounts (:25: on lines {lines}).",
            line=accounts[1].line,
            expected="one :25: per statement",
            found=accounts[1].value.split(chr(10))[0],
        )
    return accounts[0] if accounts else None


def _balance(path: Path, block: _Block, tags: tuple[str, ...]) -> tuple[Decimal, dt.date, str | None] | None:
    found = block.first(*tags)
    if found is None:
        return None
    parsed = balance(found.value)
    if parsed is None:
        raise ParseError(
            path,
            f"the :{found.tag}: balance is not readable.",
            line=found.line,
            expected="C or D, YYMMDD, currency, amount such as C260131EUR1234,56",
            found=found.value.strip(),
        )
    return parsed


def _currency(
    path: Path, options: ParseOptions, block: _Block, opening: tuple[Decimal, dt.date, str | None] | None, label: str
) -> str:
    floor = block.first("34F")  # MT942 has no balances; its floor limit names the currency
    closing = _balance(path, block, ("62F", "62M"))
    currency = (opening[2] if opening else None) or (closing[2] if closing else None)
    currency = currency or (floor.value.strip()[:3] if floor else None) or options.currency or options.default_currency
    if not currency or not currency.isalpha():
        raise ParseError(
            path, f"{label} does not say its currency (no :60F: balance); pass --currency.", line=block.fields[0].line
        )
    if not is_currency(currency.upper()):
        raise ParseError(
            path,
            f"{label} names a currency that is not an ISO 4217 code.",
            line=block.fields[0].line,
            expected="a code such as EUR",
            found=currency,
        )
    return currency.upper()


def _check_totals(path: Path, block: _Block, label: str, options: ParseOptions) -> None:
    """MT942's :90D:/:90C: against its :61: lines: a lost or doubled entry shows in count or sum."""
    lines = [statement_line(f.value) for f in block.fields if f.tag == "61"]
    for tag, debit in (("90D", True), ("90C", False)):
        found = block.first(tag)
        if found is None or not options.check_balances:
            continue
        totals = count_and_sum(found.value)
        if totals is None:
            raise ParseError(
                path,
                f"the :{tag}: totals are not readable.",
                line=found.line,
                expected="number, currency, amount such as 3EUR1234,56",
                found=found.value.strip(),
            )
        mine = [abs(x.amount) for x in lines if x is not None and x.debit == debit]
        if (len(mine), sum(mine, Decimal(0))) != (totals[0], totals[2]):
            raise BalanceError(
                path,
                f"{label} does not add up: its :{tag}: says {totals[0]} entries of {totals[2]} in total, but the file holds "
                f"{len(mine)} of {sum(mine, Decimal(0))}. An entry is missing or doubled; check the file, "
                "or pass --no-balance-check to import it anyway.",
                line=found.line,
            )


def _transactions(path: Path, block: _Block, account: str, currency: str) -> list[Transaction]:
    out: list[Transaction] = []
    fields_ = block.fields
    for i, item in enumerate(fields_):
        if item.tag != "61":
            continue
        line = statement_line(item.value)
        if line is None:
            raise ParseError(
                path,
                "the :61: statement line is not readable.",
                line=item.line,
                expected="YYMMDD[MMDD]C|D|RC|RD amount type reference, e.g. 2610011001D12,50NTRFNONREF",
                found=item.value.split("\n")[0],
            )
        after = fields_[i + 1] if i + 1 < len(fields_) else None
        info = (
            details(after.value) if after is not None and after.tag == "86" else Details(None, None, None, None, None)
        )
        out.append(_transaction(path, account, currency, item.line, line, info))
    return out


def _transaction(
    path: Path, account: str, currency: str, number: int, line: StatementLine, info: Details
) -> Transaction:
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
            "type": line.kind,
            "gvc": info.code or "",
            "booking_text": info.booking_text or "",
            "counterparty_iban": info.iban or "",
            "end_to_end": info.end_to_end or "",
        },
    )
