"""The prefilter: one Aho-Corasick pass per text field instead of one test per rule.

Every rule offers literals of which a matching transaction must contain one (a `contains`
needle, a literal inside its regex; see conditions.py `requirement`).  One automaton per field
holds all of them; each literal carries a bit mask of the rules that named it.  Scanning a
transaction's folded fields ORs those masks into the set of candidate rules; rules with no
literal (`amount` only, `not`, a regex like `^\\d+$`) are candidates always.  Candidates are then
tried in rule order with their full conditions, so first-match-wins is exactly as if every rule
had been tried.  A rule that is nothing but `contains` on one field is proven by the hit itself
and is not evaluated again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import ahocorasick

from importer.models import Transaction
from importer.rules.conditions import TextTest, text_getter
from importer.rules.fold import fold

if TYPE_CHECKING:
    from importer.rules.engine import Rule

Scan = tuple[Callable[[Transaction], str], "ahocorasick.Automaton"]


class Prefilter:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self.always = 0
        literals: dict[str, dict[str, list[int]]] = {}
        for index, rule in enumerate(self.rules):
            requirement = rule.condition.requirement()
            if requirement is None:
                self.always |= 1 << index
                continue
            for name, literal in requirement:
                masks = literals.setdefault(name, {}).setdefault(literal, [0, 0])
                masks[0] |= 1 << index
                masks[1] |= (1 << index) if _proven_by_literal(rule) else 0
        self.scans: list[Scan] = [(text_getter(name), _automaton(words)) for name, words in literals.items()]

    def candidates(self, txn: Transaction) -> tuple[int, int]:
        """Bit masks: rules that may match `txn`, and those among them already proven to."""
        mask, proven = self.always, 0
        for read, automaton in self.scans:
            text = read(txn)
            if text:
                for _, (rules, exact) in automaton.iter(fold(text)):
                    mask |= rules
                    proven |= exact
        return mask, proven

    def chains(self, txns: Sequence[Transaction]) -> list[tuple[int, ...]]:
        """Per transaction, the indices of the rules that apply (see RuleSet.chain)."""
        rules, out = self.rules, []
        for txn in txns:
            mask, proven = self.candidates(txn)
            found: list[int] = []
            while mask:
                low = mask & -mask
                mask ^= low
                rule = rules[low.bit_length() - 1]
                if proven & low or rule.matches(txn):
                    found.append(low.bit_length() - 1)
                    if not rule.continue_:
                        break
            out.append(tuple(found))
        return out


def _proven_by_literal(rule: Rule) -> bool:
    cond = rule.condition
    return not rule.accounts and isinstance(cond, TextTest) and cond.op == "contains"


def _automaton(words: dict[str, list[int]]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word, (rules, exact) in words.items():
        automaton.add_word(word, (rules, exact))
    automaton.make_automaton()
    return automaton
