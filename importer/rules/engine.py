"""Compiled rules: first match wins, and the transaction records which rule fired."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from importer.models import Transaction
from importer.rules.schema import Actions, Matcher, Rule

Predicate = Callable[[Transaction], bool]


@dataclass(frozen=True)
class CompiledRule:
    id: str
    test: Predicate
    actions: Actions


class RuleSet:
    """An ordered list of compiled rules."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(CompiledRule(rule.id, _compile(rule), rule.set) for rule in rules)

    def first_match(self, txn: Transaction) -> CompiledRule | None:
        return next((rule for rule in self.rules if rule.test(txn)), None)

    def apply(self, txn: Transaction) -> Transaction:
        """`txn` with the first matching rule's actions applied (unchanged when none matches)."""
        rule = self.first_match(txn)
        if rule is None:
            return txn
        return txn.model_copy(update=_updates(rule, txn))


def _updates(rule: CompiledRule, txn: Transaction) -> dict[str, object]:
    acts = rule.actions
    update: dict[str, object] = {"rule_id": rule.id}
    for name in ("category", "payee", "target_account", "notes"):
        value = getattr(acts, name)
        if value is not None:
            update[name] = value
    if acts.tags:
        update["tags"] = tuple(dict.fromkeys((*txn.tags, *acts.tags)))
    return update


def _compile(rule: Rule) -> Predicate:
    tests = [_field_test(name, matcher) for name, matcher in rule.when.items()]
    return lambda txn: all(test(txn) for test in tests)


def _field_test(name: str, matcher: Matcher) -> Predicate:
    needles = tuple(needle.casefold() for needle in matcher.contains)
    pattern = re.compile(matcher.regex, re.IGNORECASE) if matcher.regex else None

    def test(txn: Transaction) -> bool:
        text = getattr(txn, name) or ""
        if needles and not any(needle in text.casefold() for needle in needles):
            return False
        return pattern is None or pattern.search(text) is not None

    return test
