"""Every MT940/MT942 file of the corpus: parsed with the manifest's count and facts, or refused clearly."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from importer.core.errors import TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from importer.parsers.mt940.fields import fields, statement_line
from tests.corpus import CorpusFile, corpus_files, corpus_params
from tests.statement_conformance import Balance, Expectation, Refused, first_transaction, judge

# No :62F:/:62M: closing balance: a statement cut off, or (here) a snippet that never was a whole
# statement; both are refused (before PR "never a silent half file" the snippets were refused for
# naming no account or currency, and gv_codes.sta, two :61: lines without a closing balance, read).
TRUNCATED = Refused("stops before its closing balance (:62F: or :62M:): the file was probably cut off.")
UNKNOWN = Refused("no parser recognises this file.")
# The upstream test files carry made-up balances (e.g. 12345.12 - 233.15 "=" 12345.98): the
# balance check refuses them, and with it off they read with the expected count.  mt942.sta's
# :90D: says one debit of 2,30 where its one :61: debits 0,42: the MT942 totals are checked too.
UNBALANCED = {
    "betterplace/sepa_snippet.sta": 11,
    "jejik/abnamro.sta": 10,
    "jejik/ing.sta": 7,
    "jejik/knab.sta": 3,
    "jejik/postfinance.sta": 4,
    "jejik/rabobank.sta": 5,
    "jejik/triodos.sta": 2,
    "mBank/with_newline_in_tnr.sta": 2,
    "self-provided/details_60-63.sta": 1,
    "self-provided/malformed_details.sta": 1,
    "self-provided/overly_long_details.sta": 1,
    "self-provided/raiffeisen-cmi.sta": 7,
    "self-provided/whitespace.sta": 1,
    "self-provided/mt942.sta": 1,
}
# Snippets of a single field, from upstream's unit tests: not statements on their own.
FRAGMENTS = {
    "betterplace/amount_formats.sta": TRUNCATED,
    "betterplace/currency_in_25.sta": TRUNCATED,
    "betterplace/empty_86.sta": TRUNCATED,
    "betterplace/empty_entry_date.sta": TRUNCATED,
    "betterplace/empty_line.sta": TRUNCATED,
    "betterplace/missing_crlf_at_end.sta": Refused("names no account (:25:); pass --account NAME."),
    "cmxl/account_balance_credit.sta": TRUNCATED,
    "cmxl/account_balance_debit.sta": TRUNCATED,
    "cmxl/account_identification_iban.sta": TRUNCATED,
    "cmxl/account_identification_legacy.sta": TRUNCATED,
    "cmxl/available_balance.sta": TRUNCATED,
    "cmxl/closing_balance.sta": Refused("names no account (:25:); pass --account NAME."),
    "cmxl/reference.sta": TRUNCATED,
    "cmxl/statement_details.sta": TRUNCATED,
    "cmxl/statement_line.sta": TRUNCATED,
    "cmxl/statement_number.sta": TRUNCATED,
    "self-provided/sparkassen.sta": TRUNCATED,
    "self-provided/gv_codes.sta": TRUNCATED,
    "self-provided/empty_non_swift.sta": UNKNOWN,
    "self-provided/invalid_statement.sta": UNKNOWN,
}
EXPECTED: dict[str, Expectation] = {
    **{f"mt940/mt940/{name}": Balance(count) for name, count in UNBALANCED.items()},
    **{f"mt940/mt940/{name}": refusal for name, refusal in FRAGMENTS.items()},
    "mt940/ofxstatement-mt940/mt940_ASN.txt": Balance(9),
    # A second :25: inside one statement (upstream keeps the last one, "166?00GUTSCHRIFT...").
    "mt940/mt940/betterplace/sepa_snippet_broken.sta": Refused("names two different accounts (:25: on lines 2 and 6)."),
}
_CLOSING = re.compile(r"final_closing_balance=(-?[\d.]+) (\S+) (\d{4}-\d{2}-\d{2})")
_FIRST = re.compile(r"first txn date=(\d{4}-\d{2}-\d{2}) amount=(-?[\d.]+)")
_ACCOUNT = re.compile(r"acct=([^;|]+?)(?:;|\s*\||$)")


def _facts(entry: CorpusFile, statements: list[Statement]) -> None:
    """A statement's account and closing balance, and the first transaction's value date and amount."""
    if match := _ACCOUNT.search(entry.facts):
        assert match.group(1).strip() in {s.bank_account_id for s in statements}
    if match := _CLOSING.search(entry.facts):
        amount, currency, day = match.groups()
        closings = {(s.closing_balance, s.end_date, s.currency) for s in statements}
        if currency.isalpha():
            assert (Decimal(amount), dt.date.fromisoformat(day), currency) in closings
        else:  # upstream read "C02032495000,00" (no currency) as currency "950", amount 0.00
            assert dt.date.fromisoformat(day) in {end for _, end, _ in closings}
    first = first_transaction(statements)
    if (match := _FIRST.search(entry.facts)) and first is not None:
        assert first.value_date == dt.date.fromisoformat(match.group(1))  # type: ignore[attr-defined]
        assert first.amount == Decimal(match.group(2))  # type: ignore[attr-defined]


@pytest.mark.parametrize("entry", corpus_params("mt940"))
def test_corpus_file(entry: CorpusFile) -> None:
    judge(entry, EXPECTED.get(entry.relative), _facts)


@pytest.mark.parametrize(
    "name", ["cmxl/statement_line.sta", "cmxl/statement_details.sta", "self-provided/sparkassen.sta"]
)
def test_a_lone_statement_line_is_refused_as_cut_off_yet_its_line_reads(name: str) -> None:
    entry = next((e for e in corpus_files("mt940") if e.relative == f"mt940/mt940/{name}"), None)
    if entry is None:
        pytest.skip("conformance corpus not found")
    with pytest.raises(TruncatedError) as caught:
        parse_file(entry.path, ParseOptions(account="Giro", currency="EUR", allow_partial=True))
    assert caught.value.partial == ()
    [line] = [statement_line(f.value) for f in fields(entry.path.read_text(encoding="latin-1")) if f.tag == "61"]
    match = _FIRST.search(entry.facts)
    assert match is not None and line is not None and entry.expected_count == 1
    assert (line.value_date, line.amount) == (dt.date.fromisoformat(match.group(1)), Decimal(match.group(2)))
