"""The actions of each row's chain, written into a `TxBatch` as whole columns.

`RuleSet.apply_batch` has one chain per row (plans.py).  Rows that share a chain get the same
update unless the update depends on the row itself: its own tags or notes (which the rules add
to), or a payee/note template that renders a regex group of its text.  So an update is worked out
once per distinct chain, and for the rows that differ once per distinct (chain, tags, notes, regex
groups the templates render); each row then holds the number of its update, and every action column is
rebuilt from those numbers with C-level maps.  `combine` (actions.py) is the one definition of
what a chain does, shared with the per-transaction reference `RuleSet.apply_all`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from itertools import compress
from operator import or_
from typing import TYPE_CHECKING, Any

from importer.core.batch import TxBatch
from importer.core.models import Transaction
from importer.rules.actions import combine
from importer.rules.conditions import TextTest, text_getter
from importer.rules.partial import leaves

if TYPE_CHECKING:
    from importer.rules.engine import Rule

Chain = tuple[int, ...]
Update = dict[str, object]
Found = tuple[Update, bool]  # an update, and whether the row is skipped
CHAINS_KEPT = 100_000  # updates of distinct chains a rule set keeps across batches, at most
# Every column a rule action can set (category, target_account, transfer_to, payee, tags, notes)
# and the rule credited (rule_id).
ACTION_COLUMNS = ("category", "target_account", "payee", "tags", "notes", "transfer_to", "rule_id")
OWN = -1  # the number of a chain whose update each row renders itself (`Updates.of_row`)
_KEEP = object()  # "this update leaves the row's value as it was"


class Updates:
    """The distinct updates of one batch, numbered; number 0 is "no rule applied"."""

    def __init__(self, rules: Sequence[Rule], known: dict[Chain, Found | None]) -> None:
        self.rules = rules
        # The update of each chain, kept by the rule set across batches; None: rendered per row.
        self.known = known
        self.found: list[Found] = [({}, False)]
        self.numbers: dict[Hashable, int] = {(): 0}
        self.own: set[Chain] = set()  # chains whose update depends on the row's text
        self.inputs: dict[Chain, list[Callable[[Transaction], Hashable]]] = {}  # what their templates read

    def of_chain(self, indices: Chain) -> int:
        """The number of the update `indices` makes to a row without tags, notes or read text."""
        number = self.numbers.get(indices)
        if number is None:
            found = self.known[indices] if indices in self.known else self._known(indices)
            if found is None:
                # Rendered per row by `of_row`, which `numbers` calls for every row of such a chain.
                self.own.add(indices)
                self.numbers[indices] = number = OWN
            else:
                number = self._add(indices, found)
        return number

    def _known(self, indices: Chain) -> Found | None:
        if len(self.known) > CHAINS_KEPT:
            self.known.clear()
        chain = [self.rules[i] for i in indices]
        found = None if any(templated(rule) for rule in chain) else combine(BLANK, chain)
        self.known[indices] = found
        return found

    def of_row(self, indices: Chain, row: Transaction) -> int:
        """The number of the update `indices` makes to `row`, which has tags/notes or read text."""
        chain = [self.rules[i] for i in indices]
        inputs = self.inputs.get(indices)
        if inputs is None:
            inputs = self.inputs[indices] = _template_inputs(chain)
        key = (indices, row.tags, row.notes, *(read(row) for read in inputs))
        number = self.numbers.get(key)
        return number if number is not None else self._add(key, combine(row, chain))

    def _add(self, key: Hashable, found: Found) -> int:
        self.found.append(found)
        self.numbers[key] = len(self.found) - 1
        return len(self.found) - 1


class _Untagged:
    """All `combine` reads of a row without tags or notes when no template reads a group."""

    tags: tuple[str, ...] = ()
    notes: str | None = None


BLANK: Any = _Untagged()


def templated(rule: Rule) -> bool:
    """Whether `rule` renders a regex group into its payee or note (so its update reads the row)."""
    return any(template is not None and template.fields for template in (rule.payee, rule.note))


def _template_inputs(chain: Sequence[Rule]) -> list[Callable[[Transaction], Hashable]]:
    """What the chain's templates can render of a row: the groups of each regex test of theirs."""
    return [read for rule in chain if templated(rule) for read in _regex_readers(rule)]


def _regex_readers(rule: Rule) -> list[Callable[[Transaction], Hashable]]:
    # Negated regexes too: a few values more in the key than the templates read costs nothing.
    tests = [leaf for leaf in leaves(rule.condition) if isinstance(leaf, TextTest) and leaf.pattern is not None]
    return [partial(_groups, test.pattern, text_getter(test.field)) for test in tests if test.pattern is not None]


def _groups(pattern: re.Pattern[str], read: Callable[[Transaction], str], row: Transaction) -> Hashable:
    # A template renders the match's groups and nothing else of the text (actions.py `_groups`):
    # rows whose texts differ only outside them (a store number, a date) share one update.
    found = pattern.search(read(row))
    return None if found is None else (found.group(0), found.groups())


def numbers(updates: Updates, chains: list[Chain], batch: TxBatch, rows: Sequence[Transaction]) -> list[int]:
    """Per row, the number of its update."""
    per_chain = {chain: updates.of_chain(chain) for chain in set(chains)}
    found = list(map(per_chain.__getitem__, chains))
    for i in _own_rows(updates, found, batch):
        if chains[i]:
            found[i] = updates.of_row(chains[i], rows[i])
    return found


def _own_rows(updates: Updates, found: list[int], batch: TxBatch) -> list[int]:
    """The rows whose update depends on more than their chain (`found`: per row, its chain's number)."""
    marked = list(map(bool, batch.tags)) if batch.tags is not None else None
    if batch.notes is not None:
        noted = list(map(bool, batch.notes))
        marked = noted if marked is None else list(map(or_, marked, noted))
    if updates.own:
        own = list(map(OWN.__eq__, found))
        marked = own if marked is None else list(map(or_, marked, own))
    return [] if marked is None else list(compress(range(len(found)), marked))


def assigned(batch: TxBatch, updates: Updates, per_row: list[int]) -> tuple[TxBatch, list[bool]]:
    """`batch` with every action column the updates touch rebuilt, and which rows are skipped."""
    touched = {name for update, _ in updates.found for name in update}
    columns = {name: _column(batch, name, updates, per_row) for name in ACTION_COLUMNS if name in touched}
    skips = [skip for _, skip in updates.found]
    return batch.with_columns(**columns), list(map(skips.__getitem__, per_row))


def _column(batch: TxBatch, name: str, updates: Updates, per_row: list[int]) -> list[Any]:
    old = getattr(batch, name)
    if old is None:  # absent: a row no update touches keeps the column's default
        default: Any = () if name == "tags" else None
        values = [update.get(name, default) for update, _ in updates.found]
        return list(map(values.__getitem__, per_row))
    values = [update.get(name, _KEEP) for update, _ in updates.found]
    return [o if v is _KEEP else v for v, o in zip(map(values.__getitem__, per_row), old)]
