"""Every OFX/QFX/QBO file of the corpus: parsed with the manifest's count and facts, or refused clearly."""

from __future__ import annotations

import datetime as dt

import pytest

from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from tests.corpus import CorpusFile, corpus_files, corpus_params
from tests.statement_conformance import Count, Expectation, Refused, fact, first_transaction, judge, swift_decimal

INVESTMENT = Refused("holds an investment statement (INVSTMTRS); only bank and credit-card statements are supported.")
NO_STATEMENT = Refused("holds no bank or credit-card statement")

EXPECTED: dict[str, Expectation] = {
    # The fixture's only STMTTRN reads "*snipped*": a transaction without date or amount.
    "ofx/asgrim-ofxparser/ofxdata-banking-xml200.ofx": Refused("transaction 1 has no DTPOSTED date."),
    # No BANKACCTFROM at all; with --account it reads (see test_an_account_given_by_the_user_names_it).
    "ofx/asgrim-ofxparser/ofxdata-emptyDateTime.ofx": Refused(
        "names no account (ACCTID is missing or empty); pass --account NAME."
    ),
    "ofx/ofxstatement-french/46297554894_02092025_04102025.ofx": Refused(
        "names no account (ACCTID is missing or empty)"
    ),
    "ofx/csv2ofx/default_w_splits.ofx": Refused(
        "holds no bank or credit-card statement (it contains BANKMSGSRSV1/INTRATRNRS)."
    ),
    "ofx/csv2ofx/transfer_example.ofx": Refused(
        "holds no bank or credit-card statement (it contains BANKMSGSRSV1/INTRATRNRS)."
    ),
    "ofx/ofxparse/account_listing_aggregation.ofx": Refused("(it contains SIGNUPMSGSRSV1/ACCTINFOTRNRS)."),
    "ofx/ofxparse/bank_small.ofx": Refused("holds no bank or credit-card statement (it contains nothing)."),
    "ofx/ofxparse/signon_success.ofx": Refused("(it contains nothing but a sign-on)."),
    "ofx/ofxparse/signon_success_no_message.ofx": Refused("(it contains nothing but a sign-on)."),
    "ofx/ofxparse/error_message.ofx": Refused(
        "the bank's server sent an error instead of a statement (code 2000: General Server Error)."
    ),
    "ofx/ofxparse/signon_fail.ofx": Refused(
        "the bank refused the sign-on (code 15500: Your request could not be processed"
    ),
    "ofx/ofxtools/profrs.ofx": Refused("the bank refused the sign-on (code 15500: Signon invalid)."),
    "ofx/ofxparse/fail_nice/date_missing.ofx": Refused(
        "line 33: transaction 1 (FITID 184997056) has no DTPOSTED date."
    ),
    "ofx/ofxparse/fail_nice/decimal_error.ofx": Refused(
        "transaction 1 (FITID 2000957249) has an unreadable DTPOSTED date. Expected YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]], found '201120000000'."
    ),
    "ofx/ofxparse/multiple_accounts.ofx": Count(0, "two accounts (9100 checking, 9200 savings), no transactions"),
}


def _expectation(entry: CorpusFile) -> Expectation | None:
    if entry.relative in EXPECTED:
        return EXPECTED[entry.relative]
    if "investment statement (INVSTMTRS)" in entry.quirks:
        return INVESTMENT
    return None


def _facts(entry: CorpusFile, statements: list[Statement]) -> None:
    """DTPOSTED, TRNAMT and NAME of the first STMTTRN; CURDEF, ACCTID, LEDGERBAL of the first statement."""
    facts = entry.facts
    first = first_transaction(statements)
    if (posted := fact(facts, "DTPOSTED")) and first is not None:
        assert first.date == dt.date(int(posted[:4]), int(posted[4:6]), int(posted[6:8]))  # type: ignore[attr-defined]
    if (amount := fact(facts, "TRNAMT")) and first is not None:
        assert first.amount == swift_decimal(amount)  # type: ignore[attr-defined]
    name = fact(facts, "NAME")
    if name and name.isascii() and first is not None:
        assert (first.payee or "").startswith(name)  # type: ignore[attr-defined]
    if curdef := fact(facts, "CURDEF"):
        assert statements[0].currency == curdef
    if account := fact(facts, "ACCTID"):
        # the identity is BANKID:ACCTID (importer/core/accounts.py)
        assert (statements[0].bank_account_id or "").rpartition(":")[2] == account
    if ledger := fact(facts, "LEDGERBAL"):
        assert statements[0].closing_balance == swift_decimal(ledger)


@pytest.mark.parametrize("entry", corpus_params("ofx"))
def test_corpus_file(entry: CorpusFile) -> None:
    judge(entry, _expectation(entry), _facts)


def test_an_account_given_by_the_user_names_it() -> None:
    entry = next((e for e in corpus_files("ofx") if e.relative.endswith("ofxdata-emptyDateTime.ofx")), None)
    if entry is None:
        pytest.skip("conformance corpus not found")
    [statement] = parse_file(entry.path, ParseOptions(account="Savings"))
    assert (statement.account, len(statement.transactions), statement.currency) == ("Savings", 2, "AUD")
