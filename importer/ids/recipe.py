"""External ids: the stable name of a transaction across runs, files and re-exports.

Why not random ids: a re-import of the same file, or of a later export that overlaps it, must
produce the same ids, or every target fills up with duplicates.  Why not the bank's id alone:
banks reuse FITIDs (some restart them per statement, some give every fee the same one), so the
bank id is combined with the account, the date and the amount.

Recipe, version 2 (the "v2:" prefix; a change to the recipe must bump it):

    with a bank id:    sha256("v2|bank|" account key "|" bank_id "|" date "|" amount ["|" n if n > 0])
    without one:       sha256("v2|text|" account key "|" date "|" amount "|" normalised description "|" n)

where the account key is the account's identity (importer/core/accounts.py): the identifier the bank
wrote in the file, normalised, or for a file without one the name the account was first given.
Version 1 was the same with the account's display name instead of its key, so renaming an
account, or reading the same file under another profile, changed every id.  Accounts stored
before version 2 keep version 1, computed from the name they had then (`Account.basis`), so an
upgraded state recognises every row it holds.

where `amount` is the Decimal in plain notation with trailing zeros dropped ("-12.5"), `date`
is ISO (YYYY-MM-DD), the normalised description is case-folded with runs of white space
collapsed, and `n` counts earlier transactions in the same statement with the same text before
the counter, that is the same account, date, amount and description (or bank id) (0, 1, ...).
The counter keeps two identical coffees on one day apart, and likewise a bank id repeated for
the same amount on one day (seen for fees).  Since an overlapping export holds the whole of each shared day, it yields the same
counters for the shared days.  The id is the prefix plus the first 32 hex digits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from decimal import Decimal
from hashlib import sha256
from itertools import repeat
from typing import TypeVar

from importer.core.accounts import Account
from importer.core.batch import TxBatch
from importer.core.models import Transaction, with_updates


class DayLetGo(Exception):
    """A bounded `IdAssigner` met a day again after it had let that day's counters go."""

    def __init__(self, day: dt.date) -> None:
        super().__init__(f"{day} came back after its repeat counters were let go")
        self.day = day


_MEMO_LIMIT = 50_000  # distinct texts remembered by a bounded IdAssigner before it starts again
VERSION = "v2"  # the recipe of accounts created now
LEGACY = "v1"  # accounts stored before identities: ids from the display name of the time
_K = TypeVar("_K", bound=Hashable)


def normalise_description(text: str) -> str:
    """Description as compared across exports: case and white space do not matter."""
    # str.split() cuts at exactly the characters `\s` matches (checked over all of Unicode in
    # tests/test_dedupe.py) and drops the ends: runs collapsed and stripped, four times faster.
    return " ".join(text.split()).casefold()


def plain_amount(amount: Decimal) -> str:
    """`-12.50` and `-12.5` are the same money, so they give the same text."""
    text = format(amount.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def plain_amounts(amounts: Sequence[Decimal]) -> list[str]:
    """`plain_amount` of each, in C: a memo of the distinct amounts cost more (a Decimal's hash is
    not cached, and a batch holds thousands of distinct amounts)."""
    texts = list(map(format, map(Decimal.normalize, amounts), repeat("f")))
    return ["0" if text == "-0" else text for text in texts] if "-0" in texts else texts


def external_id(txn: Transaction, occurrence: int = 0, account: Account | None = None) -> str:
    """The external id of `txn` in `account` (recipe v1 from `txn.account` when None),
    `occurrence` being its repeat counter (see module doc)."""
    version, basis = _recipe(account, txn)
    key = _id_key(txn, version, basis, txn.date.isoformat(), plain_amount(txn.amount), normalise_description)
    return _hashed(key, version, occurrence)


def _recipe(account: Account | None, txn: Transaction | None) -> tuple[str, str]:
    """(recipe version, the account text hashed): an account's, else v1 of the row's name."""
    if account is None:
        assert txn is not None
        return LEGACY, txn.account
    return (LEGACY if account.recipe == LEGACY else VERSION), account.id_basis


def _key_of(
    version: str, basis: str, day: str, amount: str, text: str, bank_id: str | None, normalise: Callable[[str], str]
) -> str:
    """`_id_key` from the values of one row."""
    if bank_id:
        return f"{version}|bank|{basis}|{bank_id.strip()}|{day}|{amount}"
    return f"{version}|text|{basis}|{day}|{amount}|{normalise(text)}"


def _id_key(txn: Transaction, version: str, basis: str, day: str, amount: str, normalise: Callable[[str], str]) -> str:
    """The hashed text without its repeat counter."""
    return _key_of(version, basis, day, amount, txn.description, txn.bank_id, normalise)


def _hashed(key: str, version: str, occurrence: int) -> str:
    if not key.startswith(f"{version}|bank|"):
        key += f"|{occurrence}"
    elif occurrence:  # with a bank id the counter is only written from the second repeat on
        key += f"|{occurrence}"
    return f"{version}:" + sha256(key.encode("utf-8")).hexdigest()[:32]


def _with_counters(keys: list[str], occurrences: list[int], bank: str) -> list[str]:
    """The hashed texts: `_hashed`'s counter rule over a batch (a bank id's counter from 1 on)."""
    return [key if not seen and key.startswith(bank) else f"{key}|{seen}" for key, seen in zip(keys, occurrences)]


def assign_ids(transactions: Iterable[Transaction], account: Account | None = None) -> list[Transaction]:
    """Each transaction with its external id set, counting repeats within this sequence."""
    return IdAssigner(account)(transactions)


class IdAssigner:
    """`assign_ids` for a statement handed over in parts: the repeat counters carry over.

    Equal to `external_id(txn, n, account)` per row (tests/test_dedupe.py); the date, amount and
    description texts are worked out once per distinct value, since statements repeat them.

    The counters are kept per day.  Unbounded (`window=None`) they grow with the statement; the
    streaming pipeline bounds them: after each batch only the `window` days most recently seen
    are kept.  Statements are in date order (either way) nearly always, and then a day never
    comes back; one that does raises `DayLetGo`, and the pipeline reads that file again unbounded
    (its counters cannot be rebuilt from what is stored: rows a `skip` rule dropped count too).
    So memory stays constant in a statement's length whenever it can.  The memos of texts are
    bounded as well: they only save work.
    """

    def __init__(self, account: Account | None = None, window: int | None = None) -> None:
        self.account = account
        self.window = window
        self.days: _Memo[dt.date] = _Memo(dt.date.isoformat)
        self.amounts: _Memo[Decimal] = _Memo(plain_amount)
        self.texts: _Memo[str] = _Memo(normalise_description)
        self.seen: dict[str, int] = {}  # unbounded mode: pre-counter key -> rows seen
        self.by_day: dict[dt.date, dict[str, int]] = {}  # bounded mode, most recently seen day last
        self.let_go: set[dt.date] = set()

    def assign_batch(self, batch: TxBatch) -> TxBatch:
        """`batch` with its external_id column set; counters carry over to the next batch.

        Column by column, as `__call__` (the per-row reference) names each row: the key texts
        joined in C, a Python loop only to count repeats, one sha256 per row."""
        version, basis = (LEGACY, batch.account) if self.account is None else _recipe(self.account, None)
        textual = batch.bank_id is None or not any(batch.bank_id)  # no row has a bank id
        keys = self._keys(batch, version, basis, textual)
        occurrences = self._occurrences(batch.date, keys)
        if textual:  # the counter is always written: joined in C
            counted = list(map("|".join, zip(keys, map(str, occurrences))))
        else:
            counted = _with_counters(keys, occurrences, f"{version}|bank|")
        ids = [f"{version}:{digest.hexdigest()[:32]}" for digest in map(sha256, map(str.encode, counted))]
        self._forget_old_days()
        return batch.with_columns(external_id=ids)

    def _keys(self, batch: TxBatch, version: str, basis: str, textual: bool) -> list[str]:
        """Each row's `_key_of` (`textual`: no row has a bank id), from its columns' texts."""
        days, amounts = self.days.column(batch.date), plain_amounts(batch.amount)
        bank_ids = batch.bank_id
        if textual:
            # `normalise_description` in C calls, not memoised: descriptions rarely repeat in a batch.
            texts = map(str.casefold, map(" ".join, map(str.split, batch.description)))
            return list(map("|".join, zip(repeat(f"{version}|text|{basis}"), days, amounts, texts)))
        assert bank_ids is not None  # not textual
        if all(bank_ids):
            stripped = map(str.strip, bank_ids)  # type: ignore[arg-type]  # all() proved no None
            return list(map("|".join, zip(repeat(f"{version}|bank|{basis}"), stripped, days, amounts)))
        texts_of = self.texts.__getitem__  # a statement mixing rows with and without a bank id
        rows = zip(days, amounts, batch.description, bank_ids)
        return [_key_of(version, basis, day, amount, text, bank, texts_of) for day, amount, text, bank in rows]

    def _occurrences(self, dates: Sequence[dt.date], keys: list[str]) -> list[int]:
        """Each key's repeat counter: how many rows before it had the same key."""
        counts_of = self._day_counts(dates)
        occurrences = []
        for day, key in zip(dates, keys):
            counts = counts_of[day]
            seen = counts.get(key, 0)
            counts[key] = seen + 1
            occurrences.append(seen)
        return occurrences

    def _day_counts(self, dates: Sequence[dt.date]) -> dict[dt.date, dict[str, int]]:
        """The counters of each day of a batch; bounded, its days become the most recently seen
        (in the order of their last row, as one row at a time would leave them)."""
        if self.window is None:
            return dict.fromkeys(dates, self.seen)
        for day in dict.fromkeys(dates):  # first rows first: the day a row-by-row pass would name
            if day in self.let_go and day not in self.by_day:
                raise DayLetGo(day)
        for day in reversed(dict.fromkeys(reversed(dates))):
            self.by_day[day] = self.by_day.pop(day, {})
        return self.by_day

    def _forget_old_days(self) -> None:
        if self.window is None:
            return
        while len(self.by_day) > self.window:
            oldest = next(iter(self.by_day))
            del self.by_day[oldest]
            self.let_go.add(oldest)
        for memo in (self.days, self.amounts, self.texts):
            if len(memo) > _MEMO_LIMIT:
                memo.clear()

    def __call__(self, transactions: Iterable[Transaction]) -> list[Transaction]:
        days, amounts, texts, seen = self.days, self.amounts, self.texts.__getitem__, self.seen
        result = []
        for txn in transactions:
            version, basis = _recipe(self.account, txn)
            key = _id_key(txn, version, basis, days[txn.date], amounts[txn.amount], texts)
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            result.append(with_updates(txn, {"external_id": _hashed(key, version, occurrence)}))
        return result


class _Memo(dict[_K, str]):
    """`memo[value]` is `fn(value)`, computed once per distinct value."""

    def __init__(self, fn: Callable[[_K], str]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, value: _K) -> str:
        text = self[value] = self.fn(value)
        return text

    def column(self, values: Sequence[_K]) -> list[str]:
        """`[memo[v] for v in values]`, the distinct values not yet known worked out first, so
        that the rows are looked up in C."""
        missing = set(values).difference(self)
        self.update(zip(missing, map(self.fn, missing)))
        return list(map(self.__getitem__, values))
