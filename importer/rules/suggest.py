"""Proposed rules, as YAML for the user to review: never applied, only printed or written.

Transactions no rule categorises are grouped by merchant (normalise.py: booking types such as
"POINT OF SALE" or "Kartenzahlung" and card, date and reference noise taken off).  The category
of each group is learned from the categorised history (the state database): the category most
of that merchant's earlier transactions had, when at least 60% agree.  Without history, the
bank's own category column (a `Category`/`Kategorie` column of the export, in `raw`) is the
evidence, with the same 60%.  History the current rules no longer categorise gives groups of its
own.  Each proposed rule tests `text` (description, payee and memo) and lists its transactions
as `examples:`, so `importer rules test` checks it once it is pasted in.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from importer.core.models import Transaction
from importer.rules.conditions import joined_text
from importer.rules.engine import RuleSet
from importer.rules.fold import fold
from importer.rules.normalise import normalise_payee, payee_key
from importer.rules.words import quoted

AGREEMENT = 0.6
MAX_EXAMPLES = 3
PLACEHOLDER = "TODO"


# Spelled out, so `Bäckerei Müller` gives the id `baeckerei-mueller` (not `b-ckerei-m-ller`).
_SPELLED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa", "œ": "oe"})


@dataclass(frozen=True)
class Suggestion:
    key: str
    field: str
    condition: dict[str, str]
    count: int
    category: str | None
    learned_from: int
    examples: tuple[Transaction, ...]
    evidence: str = ""  # where `category` comes from, in words ("" when there is none)


def suggest(
    rules: RuleSet, txns: Sequence[Transaction], history: Sequence[Transaction], min_count: int = 1
) -> list[Suggestion]:
    """Suggestions for `txns` (and `history`) that `rules` leave uncategorised, most frequent first."""
    learned = learn(history)
    loose = [t for t, chain in zip(txns, rules.chains(txns)) if not _categorised(rules, chain)]
    known = [t for t, chain in zip(history, rules.chains(history)) if t.category and not _categorised(rules, chain)]
    groups: dict[str, list[Transaction]] = defaultdict(list)
    for txn in loose:
        groups[payee_key(txn)].append(txn)
    for txn in known:
        groups[payee_key(txn, description_first=True)].append(txn)
    found = [_suggestion(key, group, learned.get(key)) for key, group in groups.items() if len(group) >= min_count]
    # First match wins: "STARBUCKS" after "STARBUCKS STORE", or it would catch the other's examples.
    keys = [fold(s.key) for s in found]
    return sorted(found, key=lambda s: (any(fold(s.key) in k and fold(s.key) != k for k in keys), -s.count, s.key))


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
    texts = [fold(joined_text(t.description, t.payee, t.memo)) for t in group]
    condition = {"contains": key}
    if not all(fold(key) in text for text in texts):
        condition = {"regex": ".*".join(re.escape(word) for word in key.split())}
    examples = tuple({(t.description, t.payee, t.memo): t for t in group}.values())[:MAX_EXAMPLES]
    if learned:
        evidence = f"learned from {learned[1]} categorised transaction(s)"
        return Suggestion(key, "text", condition, len(group), learned[0], learned[1], examples, evidence)
    category, evidence = bank_category(group)
    return Suggestion(key, "text", condition, len(group), category, 0, examples, evidence)


def bank_category(group: Sequence[Transaction]) -> tuple[str | None, str]:
    """The category the bank's own column gives most of `group`, when at least 60% agree."""
    found = Counter((column, value) for t in group for column, value in _category_cells(t))
    if not found:
        return None, ""
    (column, value), count = found.most_common(1)[0]
    if count < AGREEMENT * len(group):
        return None, ""
    return value, f"the bank's {column} column says so for {count} of {len(group)}"


def _category_cells(txn: Transaction) -> list[tuple[str, str]]:
    # Category, Kategorie, Categorie operation, Categoría...; not "Sous Categorie", a subcategory.
    return [
        (column, value.strip())
        for column, value in txn.raw.items()
        if fold(column).startswith(("categor", "kategor", "catégor")) and value and value.strip()
    ][:1]


def render_yaml(suggestions: Sequence[Suggestion], taken_ids: set[str]) -> str:
    """The suggestions as a rule file, with comments saying where each came from."""
    lines = [
        "# Suggested by `importer rules suggest`. Review each rule, set the categories marked",
        f"# {PLACEHOLDER}, then move the rules you want into your rule files.",
        "rules:",
    ]
    for suggestion in suggestions:
        lines += _rule_lines(suggestion, _unique_id(suggestion.key, taken_ids))
    return "\n".join(lines) + "\n"


def _rule_lines(s: Suggestion, rule_id: str) -> list[str]:
    origin = s.evidence if s.category else "no history: choose one"
    ((op, value),) = s.condition.items()
    lines = [
        f"  # {s.count} transaction(s) of {quoted(s.key)}",
        f"  - id: {rule_id}",
        f"    when: {{{s.field}: {{{op}: {json.dumps(value, ensure_ascii=False)}}}}}",
        f"    set: {{category: {json.dumps(s.category or PLACEHOLDER, ensure_ascii=False)}}}  # {origin}",
        "    examples:",
    ]
    for txn in s.examples:
        example = {"description": txn.description, "amount": str(txn.amount)}
        example |= {name: value for name in ("payee", "memo") if (value := getattr(txn, name))}
        lines.append(f"      - {json.dumps(example, ensure_ascii=False)}")
    return lines


def _unique_id(key: str, taken: set[str]) -> str:
    base = "suggested-" + (_slug(key) or "payee")
    rule_id, n = base, 2
    while rule_id in taken:
        rule_id, n = f"{base}-{n}", n + 1
    taken.add(rule_id)
    return rule_id


def _slug(key: str) -> str:
    """`key` as an id: ASCII where a letter has a spelling (ä → ae, é → e), other letters kept."""
    spelled = unicodedata.normalize("NFKD", fold(key).translate(_SPELLED))
    bare = "".join(char for char in spelled if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", "-", bare).strip("-")
