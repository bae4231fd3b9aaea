"""OFX 1.x (SGML) and 2.x (XML) bank and credit-card statements, also as .qfx and .qbo."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from ofxparse import OfxParser as _OfxLib
from ofxparse.ofxparse import AccountType, OfxParserException

from importer.errors import InputError, ParseError
from importer.models import Source, Statement, Transaction
from importer.parsers.base import FileSample, ParseOptions

_MARKERS = (b"OFXHEADER", b"<OFX>", b"<ofx>", b"<?OFX")


class OfxParser:
    """Reads every bank and credit-card account in an OFX file; each becomes its own Statement."""

    name = "ofx"

    def identify(self, sample: FileSample) -> bool:
        return any(marker in sample.head for marker in _MARKERS)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        document = _load(path)
        accounts = [a for a in document.accounts if a.type in (AccountType.Bank, AccountType.CreditCard)]
        if not accounts:
            raise InputError(path, "holds no bank or credit-card statement (investment statements are not supported).")
        return [_statement(path, account, options, len(accounts) > 1) for account in accounts]


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return _OfxLib.parse(io.BytesIO(handle.read()), fail_fast=True)
    except (OfxParserException, ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        raise ParseError(path, f"is not a readable OFX statement ({exc or type(exc).__name__}).") from None


def _statement(path: Path, account: Any, options: ParseOptions, several: bool) -> Statement:
    statement = account.statement
    currency = (getattr(statement, "currency", None) or options.currency or "").upper()
    if not currency:
        raise ParseError(path, "the statement has no CURDEF currency; pass --currency.")
    name = _account_name(account, options, several)
    transactions = tuple(
        _transaction(path, name, currency, index, txn) for index, txn in enumerate(statement.transactions, start=1)
    )
    return Statement(
        path=str(path),
        format="ofx",
        account=name,
        currency=currency,
        bank_account_id=account.account_id or None,
        closing_balance=_decimal(getattr(statement, "balance", None)),
        start_date=_day(getattr(statement, "start_date", None)),
        end_date=_day(getattr(statement, "end_date", None)),
        transactions=transactions,
    )


def _account_name(account: Any, options: ParseOptions, several: bool) -> str:
    # With several accounts in one file a single --account name cannot apply to all of them.
    if options.account and not several:
        return options.account
    bank = account.routing_number or getattr(account.institution, "fid", None) or "ofx"
    return f"{bank}:{account.account_id}"


def _transaction(path: Path, account: str, currency: str, index: int, txn: Any) -> Transaction:
    description = " ".join(part for part in (txn.payee or "", txn.memo or "") if part).strip()
    return Transaction(
        date=_day(txn.date) or _missing_date(path, index),
        amount=Decimal(txn.amount),
        currency=currency,
        description=description or (txn.type or ""),
        payee=(txn.payee or "").strip() or None,
        memo=(txn.memo or "").strip() or None,
        bank_id=(txn.id or "").strip() or None,
        account=account,
        source=Source(path=str(path), record=index),
        raw={"type": str(txn.type or ""), "fitid": str(txn.id or ""), "checknum": str(txn.checknum or "")},
    )


def _missing_date(path: Path, index: int) -> dt.date:
    raise ParseError(path, f"transaction {index} has no DTPOSTED date.")


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
