"""Rules that cannot do what their author meant: duplicated, conflicting, unreachable, unused.

Unreachable means shadowed: an earlier rule without `continue` holds whenever this one does, so
this one never fires.  The test is sound but not complete: it proves "B implies A" from the
shape of the conditions (a `contains 'shell'` holds whenever `contains 'shell oil'` does, an
amount range inside another...), and says nothing when it cannot prove it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from importer.core.models import Transaction
from importer.rules.conditions import AllOf, AmountTest, AnyOf, Condition, DateTest, TextTest, tests_foreign
from importer.rules.engine import Rule, RuleSet
from importer.rules.words import quoted


@dataclass(frozen=True)
class Finding:
    kind: str  # duplicate, conflict, unreachable, never-matched
    rule: Rule
    message: str

    def __str__(self) -> str:
        return f"{self.rule.origin} {self.kind}: rule {quoted(self.rule.id)} {self.message}"


def lint(rules: RuleSet, over: Sequence[Transaction] | None = None) -> list[Finding]:
    _KEYS.clear()
    _KEYS.update((id(rule.condition), rule.condition.key()) for rule in rules.rules)
    findings = list(_pairs(rules.rules))
    _KEYS.clear()
    if over is not None:
        findings += never_matched(rules, over)
    return findings


def warnings(rules: RuleSet) -> list[str]:
    """What is not wrong in the rules themselves but in how they are set up: `foreign` tests with
    no home currency to compare with (they match nothing)."""
    if rules.home_currency is not None:
        return []
    return [
        f"warning: rule {rule.where} tests `foreign`, but no home currency is configured, so it matches "
        "nothing; set `currency:` in importer.yaml."
        for rule in rules.rules
        if tests_foreign(rule.condition)
    ]


def _pairs(rules: Sequence[Rule]) -> Iterable[Finding]:
    for later_index, later in enumerate(rules):
        for earlier in rules[:later_index]:
            finding = _compare(earlier, later)
            if finding is not None:
                yield finding
                break


def _compare(earlier: Rule, later: Rule) -> Finding | None:
    same = earlier.accounts == later.accounts and _key(earlier.condition) == _key(later.condition)
    if same and earlier.actions == later.actions and earlier.continue_ == later.continue_:
        return Finding("duplicate", later, f"has the same conditions and actions as {earlier.where}")
    if same and earlier.actions.category != later.actions.category:
        return Finding(
            "conflict",
            later,
            f"has the same conditions as {earlier.where} but "
            f"{_category(later)} instead of {_category(earlier, bare=True)}",
        )
    if not earlier.continue_ and _scope_covers(earlier, later) and implies(later.condition, earlier.condition):
        return Finding("unreachable", later, f"is shadowed by the earlier, broader rule {earlier.where}")
    return None


def _category(rule: Rule, bare: bool = False) -> str:
    category = rule.actions.category
    if category is None:
        return "none" if bare else "no category"
    return quoted(category) if bare else f"category {quoted(category)}"


def _scope_covers(earlier: Rule, later: Rule) -> bool:
    return not earlier.accounts or (bool(later.accounts) and later.accounts <= earlier.accounts)


def never_matched(rules: RuleSet, txns: Sequence[Transaction]) -> list[Finding]:
    used = {i for chain in rules.chains(txns) for i in chain}
    return [
        Finding("never-matched", rule, f"fired for none of the {len(txns)} transactions given")
        for i, rule in enumerate(rules.rules)
        if i not in used
    ]


_KEYS: dict[int, tuple[object, ...]] = {}


def _key(condition: Condition) -> tuple[object, ...]:
    # Lint compares every pair of rules; a condition's canonical key is built once per run.
    found = _KEYS.get(id(condition))
    if found is None:
        found = _KEYS[id(condition)] = condition.key()
    return found


def implies(b: Condition, a: Condition) -> bool:
    """True when every transaction satisfying `b` satisfies `a` (False: unknown)."""
    if _key(b) == _key(a):
        return True
    if isinstance(a, AllOf):
        return all(implies(b, part) for part in a.children)
    if isinstance(b, AnyOf):
        return all(implies(part, a) for part in b.children)
    if isinstance(b, AllOf):
        return any(implies(part, a) for part in b.children)
    if isinstance(a, AnyOf):
        return any(implies(b, part) for part in a.children)
    return _leaf_implies(b, a)


def _leaf_implies(b: Condition, a: Condition) -> bool:
    if isinstance(b, TextTest) and isinstance(a, TextTest):
        return _text_implies(b, a)
    if isinstance(b, AmountTest) and isinstance(a, AmountTest):
        return b.absolute == a.absolute and _within(b, a)
    if isinstance(b, DateTest) and isinstance(a, DateTest) and (b.field, b.part) == (a.field, a.part):
        if b.part == "range":
            return (a.first is None or (b.first is not None and b.first >= a.first)) and (
                a.last is None or (b.last is not None and b.last <= a.last)
            )
        return b.allowed <= a.allowed
    return False


def _text_implies(b: TextTest, a: TextTest) -> bool:
    if b.field != a.field or b.pattern is not None or a.pattern is not None:
        return False
    if a.op == "contains":
        return all(any(needle in value for needle in a.values) for value in b.values)
    if a.op == "startswith":
        return b.op == "startswith" and all(value.startswith(a.values) for value in b.values)
    return b.op in ("equals", "one_of") and a.op in ("equals", "one_of") and set(b.values) <= set(a.values)


def _within(b: AmountTest, a: AmountTest) -> bool:
    low_ok = a.low is None or (
        b.low is not None and (b.low > a.low or (b.low == a.low and (b.low_open or not a.low_open)))
    )
    high_ok = a.high is None or (
        b.high is not None and (b.high < a.high or (b.high == a.high and (b.high_open or not a.high_open)))
    )
    return low_ok and high_ok
