"""Our OFX reader agrees with ofxparse, the reference, on every corpus file ofxparse reads strictly.

Agreement means: the same bank and credit-card accounts, currencies and ledger balances, and the
same transactions in the same order (FITID, amount, payee, memo, date).  ofxparse moves each
timestamp to UTC; we keep the bank's calendar day, so its datetime is moved back by the
timezone the bank wrote before comparing days.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from decimal import Decimal
from typing import Any

import pytest
from ofxparse import OfxParser as Reference
from ofxparse.ofxparse import AccountType

from importer.core.errors import ImporterError
from importer.core.models import Statement, Transaction
from importer.parsers import ParseOptions, parse_file
from tests.corpus import CorpusFile, corpus_params

# Files ofxparse reads that we refuse on purpose, with the reason we give.
WE_REFUSE = {
    "ofx/asgrim-ofxparser/ofxdata-emptyDateTime.ofx": "names no account",
    "ofx/ofxstatement-french/46297554894_02092025_04102025.ofx": "names no account",
    "ofx/ofxparse/error_message.ofx": "server sent an error",
    "ofx/ofxparse/signon_fail.ofx": "refused the sign-on",
    "ofx/ofxtools/profrs.ofx": "refused the sign-on",
    # ofxparse lists the accounts of an account-information response; it holds no statement.
    "ofx/ofxparse/account_listing_aggregation.ofx": "(it contains SIGNUPMSGSRSV1/ACCTINFOTRNRS)",
}
NOTHING_TO_READ = ("holds an investment statement", "holds no bank or credit-card statement")
_TZ = re.compile(r"\[([-+]?\d+(?:\.\d+)?)")


def _reference(entry: CorpusFile) -> Any | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return Reference.parse(io.BytesIO(entry.path.read_bytes()), fail_fast=True)
        except Exception:
            return None


def _local_day(reference_time: dt.datetime | None, written: str) -> dt.date | None:
    if reference_time is None:
        return None
    offset = _TZ.search(written)
    hours = float(offset.group(1)) if offset else 0.0
    return (reference_time + dt.timedelta(hours=hours)).date()


def _text(reference: str | None) -> str | None:
    """ofxparse's text, undoing its one known misreading: UTF-8 bytes decoded as the header's cp1252."""
    text = (reference or "").strip() or None
    if text is None or text.isascii():
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _same_transaction(ours: Transaction, theirs: Any) -> None:
    assert ours.bank_id == ((theirs.id or "").strip() or None)
    assert ours.amount == Decimal(theirs.amount)
    assert ours.payee == _text(theirs.payee)
    assert ours.memo == _text(theirs.memo)
    assert ours.date == _local_day(theirs.date, ours.raw["dtposted"])


def _same_statement(ours: Statement, theirs: Any) -> None:
    assert (ours.bank_account_id or "").rpartition(":")[2] == theirs.account_id  # ours is BANKID:ACCTID
    assert ours.currency == (theirs.statement.currency or ours.currency).upper()
    balance = getattr(theirs.statement, "balance", None)
    assert ours.closing_balance == (None if balance is None else Decimal(balance))
    assert len(ours.transactions) == len(theirs.statement.transactions)
    for mine, reference in zip(ours.transactions, theirs.statement.transactions):
        _same_transaction(mine, reference)


@pytest.mark.parametrize("entry", corpus_params("ofx"))
def test_same_reading_as_ofxparse(entry: CorpusFile) -> None:
    reference = _reference(entry)
    if reference is None:
        pytest.skip("ofxparse does not read this file")
    accounts = [a for a in reference.accounts if a.type in (AccountType.Bank, AccountType.CreditCard)]
    try:
        ours = parse_file(entry.path, ParseOptions())
    except ImporterError as exc:
        reasons = (WE_REFUSE[entry.relative],) if entry.relative in WE_REFUSE else () if accounts else NOTHING_TO_READ
        assert any(reason in str(exc) for reason in reasons), f"we refuse a file ofxparse reads: {exc}"
        return
    assert len(ours) == len(accounts)
    for mine, theirs in zip(ours, accounts):
        _same_statement(mine, theirs)
