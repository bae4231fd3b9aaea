"""Every QIF file of the corpus, read as a user would with --currency USD --account Imported.

MANIFEST.csv gives no transaction counts for QIF (only records ending in "^", which include
account, category and class records), so each count here was checked by reading the file.
"""

from __future__ import annotations

import pytest

from importer.core.models import Statement
from importer.parsers import ParseOptions
from tests.corpus import CorpusFile, corpus_params
from tests.statement_conformance import Count, Expectation, Refused, judge

OPTIONS = ParseOptions(currency="USD", account="Imported")
NOTHING = Refused("holds no bank, credit-card or cash transactions")
UNKNOWN = Refused("no parser recognises this file.")
EXPECTED: dict[str, Expectation] = {
    "qif/csv2ofx/creditunion.qif": Count(8, "9 records, one of them the !Account record"),
    "qif/csv2ofx/default.qif": Count(8, "two accounts, Cash 2 and Checking 6"),
    "qif/csv2ofx/default_w_splits.qif": Count(8, "the same with one split line each"),
    "qif/csv2ofx/investment_example.qif": Refused(
        "holds no bank, credit-card or cash transactions (only invst sections)"
    ),
    "qif/csv2ofx/mint.qif": Count(4, "Checking 3, Savings 1"),
    "qif/csv2ofx/mint_alt.qif": Count(2),
    "qif/csv2ofx/mint_extra.qif": Count(3),
    "qif/csv2ofx/stripe-all.qif": Count(5),
    "qif/csv2ofx/stripe-default.qif": Count(5),
    "qif/csv2ofx/ubs-ch-fr.qif": Count(3),
    "qif/csv2ofx/xero.qif": Count(5, "four accounts, alternating Bank and Cash"),
    "qif/qifparse/file.qif": Count(3, "My Cash 3; the investment section of My Cc is skipped"),
    "qif/qifparse/transactions_only.qif": Count(3),
    "qif/quiffen/empty.qif": UNKNOWN,
    "qif/quiffen/invalid.txt": UNKNOWN,
    "qif/quiffen/test.qif": Count(5, "6 bank records, the first of them Quicken's Opening Balance"),
    "qif/quiffen/test_category_inherit.qif": Refused(
        "holds no bank, credit-card or cash transactions (only cat sections)"
    ),
    "qif/quiffen/test_category_override.qif": Count(4),
    "qif/quiffen/test_circular_reference.qif": Count(2),
    "qif/quiffen/test_clear_autoswitch.qif": NOTHING,
    "qif/quiffen/test_nosymbol.qif": UNKNOWN,
    "qif/quiffen/test_option_autoswitch.qif": NOTHING,
    "qif/quiffen/test_oth_a.qif": Count(5, "an Oth A (asset) section like test.qif's bank one"),
    "qif/quiffen/test_split.qif": Count(1),
    "qif/quiffen/test_unknown_account_type.qif": Refused(
        "(only invst sections); investment sections are not supported."
    ),
    # test_transaction_before_account_definition_*.qif: the count comes from MANIFEST_ERRATA.
}


def _facts(entry: CorpusFile, statements: list[Statement]) -> None:
    # The manifest records no QIF facts; every transaction must at least carry the given currency.
    assert all(t.currency == "USD" for s in statements for t in s.transactions)


@pytest.mark.parametrize("entry", corpus_params("qif"))
def test_corpus_file(entry: CorpusFile) -> None:
    judge(entry, EXPECTED.get(entry.relative), _facts, OPTIONS)
