"""The prefilter: one Aho-Corasick pass per text field instead of one test per rule.

Every rule offers literals of which a matching transaction must contain one (a `contains`
needle, a literal inside its regex; see conditions.py `requirement`).  One automaton per field
holds all of them; each literal carries the indices of the rules that named it.  Scanning a
transaction's folded fields collects those into the set of candidate rules; rules with no
literal (`amount` only, `not`, a regex like `^\\d+$`) are candidates always.  plans.py asks for
the candidates of one representative row per batch key and tries them in rule order, so
first-match-wins is exactly as if every rule had been tried.  A rule that is nothing but
`contains` on one field is proven by the hit itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import ahocorasick  # type: ignore[import-not-found]  # ships no type stubs

from importer.core.models import Transaction
from importer.rules.conditions import TextTest, text_getter
from importer.rules.fold import fold

if TYPE_CHECKING:
    from importer.rules.engine import Rule

Scan = tuple[Callable[[Transaction], str], "ahocorasick.Automaton"]


class Prefilter:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        always: list[int] = []
        literals: dict[str, dict[str, tuple[list[int], list[int]]]] = {}
        for index, rule in enumerate(self.rules):
            requirement = rule.condition.requirement()
            if requirement is None:
                always.append(index)
            for name, literal in requirement or ():
                named, proven = literals.setdefault(name, {}).setdefault(literal, ([], []))
                named.append(index)
                if _proven_by_literal(rule):
                    proven.append(index)
        self.always = frozenset(always)
        self.always_in_order = always
        self.scans: list[Scan] = [(text_getter(name), _automaton(words)) for name, words in literals.items()]
        self.fields = frozenset(literals)  # the text fields whose literals select candidates

    def candidates(self, txn: Transaction) -> tuple[list[int], set[int]]:
        """The rules that may match `txn`, in order, and those among them already proven to."""
        hits: list[tuple[int, ...]] = []
        proven: set[int] = set()
        for read, automaton in self.scans:
            text = read(txn)
            if text:
                for _, (rules, exact) in automaton.iter(fold(text)):
                    hits.append(rules)
                    if exact:
                        proven.update(exact)
        return (sorted(self.always.union(*hits)) if hits else self.always_in_order), proven


def _proven_by_literal(rule: Rule) -> bool:
    cond = rule.condition
    return not rule.accounts and isinstance(cond, TextTest) and cond.op == "contains"


def _automaton(words: dict[str, tuple[list[int], list[int]]]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word, (rules, exact) in words.items():
        automaton.add_word(word, (tuple(rules), tuple(exact)))
    automaton.make_automaton()
    return automaton
