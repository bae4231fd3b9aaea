"""Proposed rules, as YAML for the user to review: never applied, only printed or written.

Transactions no rule categorises are grouped by normalised payee (normalise.py).  The category
of each group is learned from the categorised history (the state database): the category most
of that payee's earlier transactions had, when at least 60% agree.  History the current rules
no longer categorise gives groups of its own.  Each proposed rule lists its transactions as
`examples:`, so `importer rules test` checks it once it is pasted in.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from importer.models import Transaction
from importer.rules.engine import RuleSet
from importer.rules.fold import fold
from importer.rules.normalise import normalise_payee, payee_key

AGREEMENT = 0.6
MAX_EXAMPLES = 3
PLACEHOLDER = "TODO"


@dataclass(frozen=True)
class Suggestion:
    key: str
    field: str
    condition: dict[str, str]
    count: int
    category: str | None
    learned_from: int
    examples: tuple[Transaction, ...]


def suggest(rules: RuleSet, txns: Sequence[Transaction], history: Sequence[Transaction], min_count: int = 1) -> list[Suggestion]:
    """Suggestions for `txns` (and `history`) that `rules` leave uncategorised, most frequent first."""
    learned = learn(history)
    loose = [t for t, chain in zip(txns, rules.chains(txns)) if not _categorised(rules, chain)]
    known = [t for t, chain in zip(history, rules.chains(history)) if t.category and not _categorised(rules, chain)]
    groups: dict[str, list[Transaction]] = defaultdict(list)
    for txn in (*loose, *known):
        groups[payee_key(txn)].append(txn)
    found = [_suggestion(key, group, learned.get(key)) for key, group in groups.items() if len(group) >= min_count]
    return sorted(found, key=lambda s: (-s.count, s.key))


def _categorised(rules: RuleSet, chain: tuple[int, ...]) -> bool:
    return any(rules.rules[i].actions.category or rules.rules[i].actions.skip for i in chain)


def learn(history: Sequence[Transaction]) -> dict[str, tuple[str, int]]:
    """Normalised payee → (the category most of its transactions had, how many had it)."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for txn in history:
        # A rule may have rewritten the payee, so the bank's description is a key as well.
        keys = {normalise_payee(txn.description), *([normalise_payee(txn.payee)] if txn.payee else [])}
        for key in keys if txn.category else ():
            seen[key][txn.category] += 1  # type: ignore[index]
    learned = {}
    for key, categories in seen.items():
        category, count = categories.most_common(1)[0]
        if count >= AGREEMENT * sum(categories.values()):
            learned[key] = (category, count)
    return learned


def _suggestion(key: str, group: list[Transaction], learned: tuple[str, int] | None) -> Suggestion:
    field = "payee" if all(t.payee and payee_key(t) == key for t in group) else "description"
    texts = [fold(getattr(t, field) or "") for t in group]
    condition = {"contains": key}
    if not all(fold(key) in text for text in texts):
        condition = {"regex": ".*".join(re.escape(word) for word in key.split())}
    examples = tuple({t.description: t for t in group}.values())[:MAX_EXAMPLES]
    category, agreeing = learned if learned else (None, 0)
    return Suggestion(key, field, condition, len(group), category, agreeing, examples)


def render_yaml(suggestions: Sequence[Suggestion], taken_ids: set[str]) -> str:
    """The suggestions as a rule file, with comments saying where each came from."""
    lines = ["# Suggested by `importer rules suggest`. Review each rule, set the categories marked",
             f"# {PLACEHOLDER}, then move the rules you want into your rule files.", "rules:"]  # fmt: skip
    for suggestion in suggestions:
        lines += _rule_lines(suggestion, _unique_id(suggestion.key, taken_ids))
    return "\n".join(lines) + "\n"


def _rule_lines(s: Suggestion, rule_id: str) -> list[str]:
    origin = f"learned from {s.learned_from} categorised transaction(s)" if s.category else "no history: choose one"
    (op, value), = s.condition.items()
    lines = [f"  # {s.count} transaction(s) of {s.key!r}",
             f"  - id: {rule_id}",
             f"    when: {{{s.field}: {{{op}: {json.dumps(value, ensure_ascii=False)}}}}}",
             f"    set: {{category: {json.dumps(s.category or PLACEHOLDER, ensure_ascii=False)}}}  # {origin}",
             "    examples:"]  # fmt: skip
    for txn in s.examples:
        example = {"description": txn.description, "amount": str(txn.amount)}
        if s.field == "payee":
            example["payee"] = txn.payee or ""
        lines.append(f"      - {json.dumps(example, ensure_ascii=False)}")
    return lines


def _unique_id(key: str, taken: set[str]) -> str:
    base = "suggested-" + (re.sub(r"[^a-z0-9]+", "-", fold(key)).strip("-") or "payee")
    rule_id, n = base, 2
    while rule_id in taken:
        rule_id, n = f"{base}-{n}", n + 1
    taken.add(rule_id)
    return rule_id
