"""Judging one corpus file of a statement format (ofx, qif, camt, mt940) against what we expect.

Every corpus file has one expectation: it parses to N transactions (MANIFEST.csv's count, or a
count given here where the manifest has none or is wrong), or it is refused with an error whose
text contains a given phrase.  A file whose balances do not add up is refused with BalanceError;
its expectation is `Balance(N)`, and the same file must then parse to N with the check off.
The facts MANIFEST.csv records (first date and amount, currency, account, balances) are checked
by the per-format `facts` functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from importer.core.errors import BalanceError, ImporterError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from tests.corpus import CorpusFile


@dataclass(frozen=True)
class Refused:
    """The file must be refused with an error containing `phrase`."""

    phrase: str


@dataclass(frozen=True)
class Balance:
    """The file's balances do not add up: refused, yet `count` transactions with the check off."""

    count: int


@dataclass(frozen=True)
class Count:
    """The file parses to `count` transactions (where MANIFEST.csv has no count, or a wrong one)."""

    count: int
    why: str = ""


Expectation = Refused | Balance | Count
Facts = Callable[[CorpusFile, list[Statement]], None]


def judge(entry: CorpusFile, expected: Expectation | None, facts: Facts, options: ParseOptions | None = None) -> None:
    """Assert that `entry` meets its expectation (default: the manifest count) and its facts."""
    options = options or ParseOptions()
    if isinstance(expected, Refused):
        with pytest.raises(ImporterError) as caught:
            parse_file(entry.path, options)
        assert expected.phrase in str(caught.value)
        return
    if isinstance(expected, Balance):
        with pytest.raises(BalanceError):
            parse_file(entry.path, options)
        options = replace(options, check_balances=False)
    statements = parse_file(entry.path, options)
    count = sum(len(s.transactions) for s in statements)
    want = expected.count if isinstance(expected, (Balance, Count)) else entry.expected_count
    assert want is not None, f"{entry.relative}: no expected count; give one in the test's expectations"
    assert count == want
    facts(entry, statements)


def fact(facts: str, key: str) -> str | None:
    """The value after "KEY=" in a MANIFEST facts text (up to ";", the next "KEY=", "|" or the end)."""
    match = re.search(rf"(?:^|[\s;\]]){re.escape(key)}=(.*?)(?=;|\s+[A-Za-z_]+=|\s*\||$)", facts)
    value = match.group(1).strip() if match else ""
    return value if value not in ("", "None") else None


def swift_decimal(text: str) -> Decimal:
    """An amount as the manifest writes it, maybe with a decimal comma ("-200,00")."""
    return Decimal(text.replace(",", "."))


def first_transaction(statements: list[Statement]) -> object | None:
    return next((t for s in statements for t in s.transactions), None)
