"""A condition with some of its leaves already decided: what is left to test per transaction.

The batch matcher (plans.py) decides a rule's text tests once for every row that shares the same
text key; `partial` folds those answers into the condition and leaves only the tests that still
depend on the row (an amount range, a weekday, a regex that needs the whole text).  `True` or
`False` means the key alone decides the rule.  The result is equal to the condition on every
transaction for which `known` tells the truth: `and`/`or`/`not` are folded as in the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from importer.core.models import Transaction
from importer.rules.conditions import AllOf, AnyOf, Condition, NotOf

Known = Callable[[Condition], "bool | None"]


@dataclass(frozen=True)
class InAccounts:
    """A rule file's `accounts:` scope as a leaf, so it is decided like any other test."""

    accounts: frozenset[str]

    def __call__(self, txn: Transaction) -> bool:
        return txn.account in self.accounts


def scoped(condition: Condition, accounts: frozenset[str]) -> Condition:
    """`condition` and, when the rule is scoped, the account test (as `Rule.matches` does it)."""
    return AllOf((InAccounts(accounts), condition)) if accounts else condition  # type: ignore[arg-type]


def leaves(condition: Condition) -> Iterator[Condition]:
    """Every test inside `condition`, negated ones included, in the order written."""
    if isinstance(condition, (AllOf, AnyOf)):
        for child in condition.children:
            yield from leaves(child)
    elif isinstance(condition, NotOf):
        yield from leaves(condition.child)
    else:
        yield condition


def partial(condition: Condition, known: Known) -> bool | Condition:
    """`condition` with the leaves `known` answers replaced by their value, simplified."""
    if isinstance(condition, NotOf):
        inner = partial(condition.child, known)
        return (not inner) if isinstance(inner, bool) else NotOf(inner)
    if isinstance(condition, (AllOf, AnyOf)):
        return _junction(condition, known)
    value = known(condition)
    return condition if value is None else value


def _junction(condition: AllOf | AnyOf, known: Known) -> bool | Condition:
    # For `all`, a False child decides and True children drop out; for `any`, the other way round.
    deciding = not isinstance(condition, AllOf)
    rest: list[Condition] = []
    for child in condition.children:
        part = partial(child, known)
        if part is deciding:
            return deciding
        if not isinstance(part, bool):
            rest.append(part)
    if not rest:
        return not deciding
    return rest[0] if len(rest) == 1 else type(condition)(tuple(rest))
