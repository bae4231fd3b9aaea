"""Compiled conditions: each is a callable on a Transaction that can also describe itself.

Text tests are case-insensitive (`fold`); `regex` uses `re.IGNORECASE`.  Every condition knows
`requirement()`: (field, literal) pairs of which a matching transaction must contain one, the
handle the prefilter uses to skip rules that cannot match (None: no such literal).  `key()` is a
canonical form, so lint can tell two rules with the same conditions apart from similar ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from operator import attrgetter
from typing import Protocol

from importer.core.models import Transaction
from importer.rules.fold import fold
from importer.rules.literals import required_literals
from importer.rules.words import listed, quoted

Requirement = frozenset[tuple[str, str]]
# `text` is description, payee and memo joined by newlines: European exports put the merchant in
# the payee or memo and a booking type ("Lastschrift") in the description, so a rule naming no
# field reads all three.  A newline never occurs inside one of them, so no needle spans two.
TEXT = "text"
TEXT_FIELDS = (TEXT, "description", "payee", "memo", "account", "currency", "bank_id")
PART = "\n"
DATE_FIELDS = ("date", "value_date")
NO_CURRENCY = "XXX"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Condition(Protocol):
    def __call__(self, txn: Transaction) -> bool: ...
    def describe(self) -> str: ...
    def why(self, txn: Transaction) -> str: ...
    def requirement(self) -> Requirement | None: ...
    def key(self) -> tuple[object, ...]: ...


def joined_text(description: str | None, payee: str | None, memo: str | None) -> str:
    """The `text` field: the parts that are there, one per line."""
    # The two common shapes without a generator: this runs once per row of every batch.
    if not (payee or memo):
        return description or ""
    if description and payee and memo:
        return f"{description}{PART}{payee}{PART}{memo}"
    return PART.join(part for part in (description, payee, memo) if part)


def _read_text(txn: Transaction) -> str:
    return joined_text(txn.description, txn.payee, txn.memo)


def text_getter(name: str) -> Callable[[Transaction], str]:
    """How to read text field `name` (or raw column `raw.<column>`); missing reads as ''."""
    if name == TEXT:
        return _read_text
    if name.startswith("raw."):
        column = name[4:]
        return lambda txn: txn.raw.get(column) or ""
    get = attrgetter(name)
    return lambda txn: get(txn) or ""


@dataclass(frozen=True)
class TextTest:
    """One test on one text field: contains (any of), startswith, equals/one_of, regex."""

    field: str
    op: str
    values: tuple[str, ...]
    pattern: re.Pattern[str] | None = None
    read: Callable[[Transaction], str] = dataclass_field(compare=False, repr=False, default=lambda txn: "")

    def __call__(self, txn: Transaction) -> bool:
        if self.pattern is not None:
            return self.pattern.search(self.read(txn)) is not None
        text = fold(self.read(txn))
        if self.op == "contains":
            return any(value in text for value in self.values)
        if self.op == "startswith":
            return any(line.startswith(self.values) for line in self.lines(text))
        return any(line.strip() in self.values for line in self.lines(text))

    def lines(self, text: str) -> list[str]:
        """What `startswith` and `equals` look at: each line of `text`, the whole of another field."""
        return text.split(PART) if self.field == TEXT else [text]

    def describe(self) -> str:
        if self.pattern is not None:
            return f"{self.field} matches /{self.values[0]}/"
        many = len(self.values) > 1 and self.op != "one_of"
        return f"{self.field} {self.op.replace('_', ' ')} {'any of ' if many else ''}{listed(self.values)}"

    def why(self, txn: Transaction) -> str:
        if self.pattern is not None:
            found = self.pattern.search(self.read(txn))
            return f"{self.field} matches /{self.values[0]}/" + (f" ({quoted(found.group(0))})" if found else "")
        text = fold(self.read(txn))
        starts = self.op == "startswith"
        hits = [
            v for v in self.values if (any(line.startswith(v) for line in self.lines(text)) if starts else v in text)
        ]
        if self.op in ("contains", "startswith") and hits:
            return f"{self.field} {self.op} {quoted(hits[0])}"
        return f"{self.field} is {quoted(text.strip())}"

    def requirement(self) -> Requirement | None:
        if self.pattern is not None:
            literals = required_literals(self.pattern.pattern)
            return frozenset((self.field, lit) for lit in literals) if literals else None
        return frozenset((self.field, value) for value in self.values if value) or None

    def key(self) -> tuple[object, ...]:
        return ("text", self.field, self.op, tuple(sorted(self.values)))


@dataclass(frozen=True)
class AmountTest:
    """A range on the amount (or on its absolute value); bounds are None when open."""

    low: Decimal | None
    high: Decimal | None
    low_open: bool = False
    high_open: bool = False
    absolute: bool = False
    label: str = ""

    def __call__(self, txn: Transaction) -> bool:
        value = abs(txn.amount) if self.absolute else txn.amount
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def describe(self) -> str:
        return self.label

    def why(self, txn: Transaction) -> str:
        return f"{self.label} (amount is {txn.amount})"

    def requirement(self) -> Requirement | None:
        return None

    def key(self) -> tuple[object, ...]:
        return ("amount", self.absolute, self.low, self.low_open, self.high, self.high_open)


@dataclass(frozen=True)
class DateTest:
    """A date range, or a set of allowed days of the month, weekdays (0 = Monday) or months."""

    field: str
    part: str  # "range", "day_of_month", "weekday", "month"
    allowed: frozenset[int] = frozenset()
    first: dt.date | None = None
    last: dt.date | None = None
    label: str = ""

    def __call__(self, txn: Transaction) -> bool:
        return self.holds_on(getattr(txn, self.field))

    def holds_on(self, day: dt.date | None) -> bool:
        """The test on the date itself (so a batch can decide it once per distinct date)."""
        if day is None:
            return False
        if self.part == "range":
            return (self.first is None or day >= self.first) and (self.last is None or day <= self.last)
        if self.part == "weekday":
            return day.weekday() in self.allowed
        return (day.day if self.part == "day_of_month" else day.month) in self.allowed

    def describe(self) -> str:
        return self.label

    def why(self, txn: Transaction) -> str:
        return f"{self.label} ({self.field} is {getattr(txn, self.field)})"

    def requirement(self) -> Requirement | None:
        return None

    def key(self) -> tuple[object, ...]:
        return ("date", self.field, self.part, tuple(sorted(self.allowed)), self.first, self.last)


@dataclass(frozen=True)
class ForeignTest:
    """`foreign: true` (or false): the currency is not (is) the user's home currency.

    The home currency comes from the configuration when the rules are loaded, so the shipped
    rules suit every country; without one the test holds for no transaction (and `rules lint`
    says so) rather than guess that every currency but the dollar is foreign.
    """

    wanted: bool
    home: str | None

    def __call__(self, txn: Transaction) -> bool:
        return self.holds_for(txn.currency)

    def holds_for(self, currency: str) -> bool:
        """The test on the currency itself (so a batch can decide it once per distinct currency)."""
        # XXX is ISO 4217 "no currency": a QIF file names none, so it is neither home nor foreign.
        return self.home is not None and currency != NO_CURRENCY and (currency != self.home) == self.wanted

    def describe(self) -> str:
        if self.home is None:
            return f"foreign is {str(self.wanted).lower()}, which never holds without a home currency"
        return f"currency is {'not ' if self.wanted else ''}{self.home}"

    def why(self, txn: Transaction) -> str:
        return f"{self.describe()} (currency is {txn.currency})"

    def requirement(self) -> Requirement | None:
        return None

    def key(self) -> tuple[object, ...]:
        return ("foreign", self.wanted, self.home)


@dataclass(frozen=True)
class AllOf:
    children: tuple[Condition, ...]

    def __call__(self, txn: Transaction) -> bool:
        return all(child(txn) for child in self.children)

    def describe(self) -> str:
        return " and ".join(_grouped(child) for child in self.children)

    def why(self, txn: Transaction) -> str:
        return " and ".join(child.why(txn) for child in self.children)

    def requirement(self) -> Requirement | None:
        # Any one child's literals will do, since all must hold: take the most selective.
        found = [req for child in self.children if (req := child.requirement())]
        return max(found, key=_selectivity, default=None)

    def key(self) -> tuple[object, ...]:
        return ("all", tuple(sorted((child.key() for child in self.children), key=repr)))


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Condition, ...]

    def __call__(self, txn: Transaction) -> bool:
        return any(child(txn) for child in self.children)

    def describe(self) -> str:
        return "any(" + "; ".join(child.describe() for child in self.children) + ")"

    def why(self, txn: Transaction) -> str:
        return next((child.why(txn) for child in self.children if child(txn)), self.describe())

    def requirement(self) -> Requirement | None:
        found = [child.requirement() for child in self.children]
        if any(req is None for req in found):
            return None
        return frozenset().union(*found)  # type: ignore[arg-type]

    def key(self) -> tuple[object, ...]:
        return ("any", tuple(sorted((child.key() for child in self.children), key=repr)))


@dataclass(frozen=True)
class NotOf:
    child: Condition

    def __call__(self, txn: Transaction) -> bool:
        return not self.child(txn)

    def describe(self) -> str:
        return f"not({self.child.describe()})"

    def why(self, txn: Transaction) -> str:
        return self.describe()

    def requirement(self) -> Requirement | None:
        return None

    def key(self) -> tuple[object, ...]:
        return ("not", self.child.key())


def _selectivity(requirement: Requirement) -> tuple[bool, int]:
    """How few rows a requirement is likely to let through, for `AllOf` to pick its best child.

    A literal in the bank's text (description, payee, memo) before one in a raw column: a raw
    column is most often a booking type ("ACH_CREDIT", "DEBIT_CARD") that a third of the rows
    hold, so filtering on it keeps a rule a candidate nearly everywhere, and makes the batch
    matcher read that raw column for every row (plans.py keys the prefilter's fields).  Within
    the same kind, the longer shortest literal."""
    return not any(name.startswith("raw.") for name, _ in requirement), min(len(lit) for _, lit in requirement)


def _grouped(child: Condition) -> str:
    return f"({child.describe()})" if isinstance(child, AllOf) else child.describe()


def compile_condition(condition: Condition) -> Callable[[Transaction], bool]:
    """A plain closure equivalent to `condition(txn)`, for the hot loop (no dispatch on op)."""
    if isinstance(condition, TextTest):
        return _compile_text(condition)
    if isinstance(condition, AmountTest):
        return _compile_amount(condition)
    if isinstance(condition, (AllOf, AnyOf)):
        parts = tuple(compile_condition(child) for child in condition.children)
        if len(parts) == 2:
            a, b = parts
            return (lambda t: a(t) and b(t)) if isinstance(condition, AllOf) else (lambda t: a(t) or b(t))
        combine = all if isinstance(condition, AllOf) else any
        return lambda t: combine(part(t) for part in parts)
    if isinstance(condition, NotOf):
        inner = compile_condition(condition.child)
        return lambda t: not inner(t)
    return condition


def _compile_text(test: TextTest) -> Callable[[Transaction], bool]:
    read, holds = _fast_reader(test), text_predicate(test)
    if test.pattern is not None:
        search = test.pattern.search
        return lambda t: search(read(t) or "") is not None
    return lambda t: holds(read(t) or "")


def _fast_reader(test: TextTest) -> Callable[[Transaction], str | None]:
    # attrgetter is C: one Python frame less per test in the per-row path than `test.read`.
    return test.read if test.field.startswith("raw.") or test.field == TEXT else attrgetter(test.field)


def text_predicate(test: TextTest) -> Callable[[str], bool]:
    """`test` on the field's text itself ("" when missing), for evaluating a whole column."""
    values = test.values
    if test.pattern is not None:
        search = test.pattern.search
        return lambda text: search(text) is not None
    if test.op == "contains" and len(values) == 1:
        (needle,) = values
        return lambda text: needle in fold(text)
    if test.op == "contains":

        def contains_any(text: str) -> bool:
            folded = fold(text)
            return any(v in folded for v in values)

        return contains_any
    if test.op == "startswith" and test.field == TEXT:
        # A line starts with v when the text does, or when v follows a line break.
        after_break = tuple(PART + v for v in values)
        return lambda text: (folded := fold(text)).startswith(values) or any(v in folded for v in after_break)
    if test.op == "startswith":
        return lambda text: fold(text).startswith(values)
    allowed = frozenset(values)
    if test.field == TEXT:
        return lambda text: not allowed.isdisjoint(map(str.strip, fold(text).split(PART)))
    return lambda text: fold(text).strip() in allowed


def _compile_amount(test: AmountTest) -> Callable[[Transaction], bool]:
    low, high, absolute = test.low, test.high, test.absolute
    if low is not None and high is None and not absolute:
        return (lambda t: t.amount > low) if test.low_open else (lambda t: t.amount >= low)
    if high is not None and low is None and not absolute:
        return (lambda t: t.amount < high) if test.high_open else (lambda t: t.amount <= high)
    if low is not None and high is not None and not (test.low_open or test.high_open):
        return (lambda t: low <= abs(t.amount) <= high) if absolute else (lambda t: low <= t.amount <= high)
    return test


def conjuncts(condition: Condition) -> tuple[Condition, ...]:
    """The parts of `condition` that must all hold (itself when it is not an `all`)."""
    return condition.children if isinstance(condition, AllOf) else (condition,)


def regexes(condition: Condition) -> list[re.Pattern[str]]:
    """Every compiled regex inside `condition`, in the order they were written."""
    if isinstance(condition, TextTest):
        return [condition.pattern] if condition.pattern is not None else []
    if isinstance(condition, (AllOf, AnyOf)):
        return [p for child in condition.children for p in regexes(child)]
    if isinstance(condition, NotOf):
        return []  # a negated regex has matched nothing, so it offers no groups
    return []


def tests_foreign(condition: Condition) -> bool:
    """Whether `condition` has a `foreign` test anywhere inside (it needs a home currency)."""
    if isinstance(condition, ForeignTest):
        return True
    if isinstance(condition, (AllOf, AnyOf)):
        return any(tests_foreign(child) for child in condition.children)
    return isinstance(condition, NotOf) and tests_foreign(condition.child)
