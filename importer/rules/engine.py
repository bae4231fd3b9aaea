"""Compiled rules and the order they apply in.

Rules are tried top to bottom; the first matching rule wins and evaluation stops there, unless
that rule says `continue: true`, in which case later matching rules still add to it (see
actions.py for how their actions combine).  Conditions always see the transaction as the bank
wrote it, never as an earlier rule changed it, so the order of `continue` rules changes only
which values win, not which rules match.

`chains()` decides each rule once per distinct key of a batch (plans.py, over the literal
prefilter in matcher.py) and only the rest per row; `chain_naive()` tries every rule on every
row; the two must always agree (tests/test_rules_matcher.py checks it with hypothesis).
`apply_all` builds one update per distinct chain and shares it between the rows it fits;
`apply_batch` does the same on a `TxBatch`'s columns (assign.py), with no model per row, and is
what the streaming pipeline calls; `apply_all` stays as its reference (tests/test_rules_batch.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from importer.core.batch import TxBatch
from importer.core.models import Transaction, with_updates
from importer.internals.gcpause import paused_gc
from importer.rules.actions import Template, combine, compile_template
from importer.rules.assign import BLANK, Found, Updates, assigned, numbers, templated
from importer.rules.conditions import Condition, TextTest, regexes
from importer.rules.matcher import Prefilter
from importer.rules.plans import Matcher
from importer.rules.rows import Rows
from importer.rules.schema import Actions, Example
from importer.rules.words import quoted


@dataclass(frozen=True)
class Origin:
    """Where a rule was written, for messages: `rules/food.yaml:12`."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, eq=False)
class Rule:
    id: str
    condition: Condition
    actions: Actions = field(default_factory=Actions)
    continue_: bool = False
    accounts: frozenset[str] = frozenset()
    examples: tuple[Example, ...] = ()
    origin: Origin | None = None
    payee: Template | None = field(init=False, default=None)
    note: Template | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        patterns = regexes(self.condition)
        for name in ("payee", "note"):
            text = getattr(self.actions, name)
            if text is not None:
                object.__setattr__(self, name, compile_template(text, patterns, name))

    def matches(self, txn: Transaction) -> bool:
        return (not self.accounts or txn.account in self.accounts) and self.condition(txn)

    def render(self, template: Template, txn: Transaction) -> str:
        patterns, readers = _regex_tests(self.condition)
        return template.render(txn, patterns, readers)

    @property
    def where(self) -> str:
        return quoted(self.id) + (f" ({self.origin})" if self.origin else "")


def _regex_tests(condition: Condition) -> tuple[list[re.Pattern[str]], list[Callable[[Transaction], str]]]:
    tests = [t for t in _leaves(condition) if isinstance(t, TextTest) and t.pattern is not None]
    return [t.pattern for t in tests if t.pattern is not None], [t.read for t in tests]


def _leaves(condition: Condition) -> list[Condition]:
    children = getattr(condition, "children", None)
    if children is None:
        return [condition] if not hasattr(condition, "child") else []
    return [leaf for child in children for leaf in _leaves(child)]


@dataclass(frozen=True)
class _Outcome:
    """What a chain does to any transaction without tags or notes of its own and whose rules
    render no regex groups: the same update (shared, never mutated: `with_updates` copies it).
    `update` is None when the chain's templates read the row, which then goes the reference way."""

    chain: tuple[Rule, ...]
    update: dict[str, object] | None
    skip: bool


@dataclass(frozen=True)
class Applied:
    """What `apply_all` made of a list of transactions."""

    kept: list[Transaction]
    skipped: list[Transaction]


class RuleSet:
    """An ordered list of compiled rules with a prefilter built once."""

    def __init__(self, rules: Iterable[Rule] = (), home_currency: str | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.home_currency = home_currency  # what the rules' `foreign` tests compared with
        self.prefilter = Prefilter(self.rules)
        self.matcher = Matcher(self.rules, self.prefilter)
        self.chain_updates: dict[tuple[int, ...], Found | None] = {}  # see assign.py `Updates`

    def __len__(self) -> int:
        return len(self.rules)

    def forget(self) -> None:
        """Drop what matching learnt from the rows seen so far; the rules stay compiled.

        The batch matcher keeps plans and scans from one batch to the next (a statement's keys
        recur), up to caps of a few hundred thousand entries.  A long-running watcher calls this
        after each run: the next drop's texts are mostly new, and what was kept would otherwise
        grow with every file it ever imported (about 50 KB per 100 rows) until the caps."""
        self.matcher.forget()

    def chain(self, txn: Transaction) -> tuple[Rule, ...]:
        """The rules that apply to `txn`, in order: zero or more `continue` rules, then the winner."""
        return tuple(self.rules[i] for i in self.chains([txn])[0])

    def chain_naive(self, txn: Transaction) -> tuple[Rule, ...]:
        """`chain` by trying every rule in order: slow, obviously right, the reference."""
        found: list[Rule] = []
        for rule in self.rules:
            if rule.matches(txn):
                found.append(rule)
                if not rule.continue_:
                    break
        return tuple(found)

    def chains(self, txns: Sequence[Transaction]) -> list[tuple[int, ...]]:
        """The batch form of `chain`: per transaction, the indices of the rules that apply."""
        with paused_gc():  # see importer/internals/gcpause.py: a batch makes a million small tuples
            return self.matcher.chains(txns)

    def apply(self, txn: Transaction) -> Transaction:
        """`txn` with the matching rules' actions applied (a skip is only honoured by apply_all)."""
        return self.decide(txn, self.chain(txn))[0]

    def apply_all(self, txns: Sequence[Transaction]) -> Applied:
        """Every transaction categorised, split into those kept and those a `skip` rule dropped."""
        kept: list[Transaction] = []
        skipped: list[Transaction] = []
        outcomes: dict[tuple[int, ...], _Outcome] = {}
        with paused_gc():
            for txn, indices in zip(txns, self.matcher.chains(txns)):
                if not indices:
                    kept.append(txn)
                    continue
                outcome = outcomes.get(indices) or outcomes.setdefault(indices, self._outcome(indices))
                if outcome.update is None or txn.tags or txn.notes:
                    result, skip = self.decide(txn, outcome.chain)
                else:
                    result, skip = with_updates(txn, outcome.update), outcome.skip
                (skipped if skip else kept).append(result)
        return Applied(kept, skipped)

    def apply_batch(self, batch: TxBatch) -> tuple[TxBatch, list[bool]]:
        """`batch` with the rules' actions in its columns, and per row whether a `skip` rule
        dropped it.  Equal to `apply_all` on `batch.transactions()`, without building them."""
        rows = Rows(batch)
        try:
            with paused_gc():
                chains = self.matcher.batch_chains(batch, rows)
                updates = Updates(self.rules, self.chain_updates)
                return assigned(batch, updates, numbers(updates, chains, batch, rows))
        finally:
            rows.release()

    def _outcome(self, indices: tuple[int, ...]) -> _Outcome:
        chain = tuple(self.rules[i] for i in indices)
        if any(templated(rule) for rule in chain):
            return _Outcome(chain, None, False)
        update, skip = combine(BLANK, chain)
        return _Outcome(chain, update, skip)

    @staticmethod
    def decide(txn: Transaction, chain: Sequence[Rule]) -> tuple[Transaction, bool]:
        if not chain:
            return txn, False
        update, skip = combine(txn, chain)
        return with_updates(txn, update), skip
