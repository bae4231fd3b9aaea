"""External ids: the stable name of a transaction across runs, files and re-exports.

Why not random ids: a re-import of the same file, or of a later export that overlaps it, must
produce the same ids, or every target fills up with duplicates.  Why not the bank's id alone:
banks reuse FITIDs (some restart them per statement, some give every fee the same one), so the
bank id is combined with the account, the date and the amount.

Recipe, version 1 (the "v1:" prefix; a change to the recipe must bump it):

    with a bank id:    sha256("v1|bank|" account "|" bank_id "|" date "|" amount ["|" n if n > 0])
    without one:       sha256("v1|text|" account "|" date "|" amount "|" normalised description "|" n)

where `amount` is the Decimal in plain notation with trailing zeros dropped ("-12.5"), `date`
is ISO (YYYY-MM-DD), the normalised description is case-folded with runs of white space
collapsed, and `n` counts earlier transactions in the same statement with the same account,
date, amount and description (or bank id) (0, 1, ...).  The counter keeps two identical coffees
on one day apart, and likewise a bank id repeated for the same amount on one day (seen for
fees).  Since an overlapping export holds the whole of each shared day, it yields the same
counters for the shared days.  The id is the prefix plus the first 32 hex digits.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from importer.models import Transaction, with_updates

VERSION = "v1"
_SPACES = re.compile(r"\s+")


def normalise_description(text: str) -> str:
    """Description as compared across exports: case and white space do not matter."""
    return _SPACES.sub(" ", text).strip().casefold()


def plain_amount(amount: Decimal) -> str:
    """`-12.50` and `-12.5` are the same money, so they give the same text."""
    text = format(amount.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def external_id(txn: Transaction, occurrence: int = 0) -> str:
    """The v1 external id of `txn`, `occurrence` being its repeat counter (see module doc)."""
    day = txn.date.isoformat()
    amount = plain_amount(txn.amount)
    if txn.bank_id:
        key = f"{VERSION}|bank|{txn.account}|{txn.bank_id.strip()}|{day}|{amount}"
        key += f"|{occurrence}" if occurrence else ""
    else:
        text = normalise_description(txn.description)
        key = f"{VERSION}|text|{txn.account}|{day}|{amount}|{text}|{occurrence}"
    return f"{VERSION}:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def assign_ids(transactions: Iterable[Transaction]) -> list[Transaction]:
    """Each transaction with its external id set, counting repeats within this sequence."""
    seen: Counter[tuple[object, ...]] = Counter()
    result = []
    for txn in transactions:
        key = _repeat_key(txn)
        result.append(with_updates(txn, {"external_id": external_id(txn, seen[key])}))
        seen[key] += 1
    return result


def _repeat_key(txn: Transaction) -> tuple[object, ...]:
    if txn.bank_id:
        return ("bank", txn.account, txn.bank_id.strip(), txn.date, txn.amount)
    return ("text", txn.account, txn.date, txn.amount, normalise_description(txn.description))
