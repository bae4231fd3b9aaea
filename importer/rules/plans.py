"""The batch matcher: decide each rule once per distinct key, and per row only what the key leaves open.

A row's key is what every rule's text tests depend on, read for a whole batch at once:

- a text field with few distinct values in the batch (account, currency, a bank's `Type`
  column) by its value, which decides every test on that field;
- any other text field with literals by its signature (signature.py), which decides every
  `contains` on it, and proves an `equals`/`startswith`/regex false when none of its literals
  occur;
- the tests of rules that have no literal at all (candidates for every row: an amount flag,
  `not`, a regex like `[0-4]{3}`), evaluated per column, since every row needs them anyway;
- date tests, while a rule set has few of them, decided once per distinct date;
- a digit-blind regex (literals.py) on a field keyed by signature is decided by the signature,
  which holds its mark when it matches (signature.py); only a text that is not ASCII runs it.

Rows that share a key share a plan, built from one of them (the representative): the candidate
rules in order (matcher.py), each folded with `partial` into True, False or the tests still to
run (an amount range, a weekday, a regex once its literal was seen).  A plan with nothing left
to run is the chain itself, shared by every row with that key; otherwise the few open tests run
per row in rule order, with first-rule-wins and `continue` exactly as `RuleSet.chain_naive`.
tests/test_rules_matcher.py and tests/test_rules_batch.py prove the two equal with hypothesis.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from itertools import compress, repeat
from operator import is_
from typing import TYPE_CHECKING

from importer.core.batch import TxBatch
from importer.core.models import Transaction
from importer.rules.columns import BatchColumns, Columns, column, column_at
from importer.rules.conditions import Condition, DateTest, TextTest, compile_condition
from importer.rules.fold import fold
from importer.rules.literals import digit_blind
from importer.rules.partial import InAccounts, leaves, partial, scoped
from importer.rules.signature import Signer

if TYPE_CHECKING:
    from importer.rules.engine import Rule
    from importer.rules.matcher import Prefilter

Chain = tuple[int, ...]
Test = Callable[[Transaction], bool]
Step = tuple[int, "Test | None", bool]
# For a combination of field modes (Batch._keyed): the leaves the key decides, the eager tests the
# key carries, and the rules with an eager date test among their leaves.
Keyed = tuple[frozenset[int], dict[Hashable, "Condition"], frozenset[int]]

# A field with at most this many distinct values in a batch is keyed by value: it multiplies the
# number of keys by at most this much, and decides every test on it.
VALUE_LIMIT = 32
# Date tests are keyed too (decided once per distinct date, see columns.py) while there are this
# few of them: together they split a key at most 2**n ways, and spare a per-row test otherwise
# (measured: the shipped rules, whose weekday test sits in rules with literals, run 1.6 times as
# fast with it keyed as with it left open).
DATE_TESTS_KEYED = 4
# Plans and value codes kept across batches, at most (see Matcher._trim).
PLANS_KEPT = 200_000
# Past this share of `DATED` rows in a batch, the next batch of the same context is planned by its
# rows' full keys at once (Batch._all_dated).
MOSTLY_DATED = 0.5
CODES_KEPT = 50_000
_SAMPLE = 1024
_UNSET = object()


class _Dated:
    """The plan of a key whose rows' chains depend on their date tests (see `Batch.chains`)."""

    __slots__ = ()


DATED = _Dated()


class Open:
    """A plan that depends on more than the key: called per row, it gives that row's chain."""

    __slots__ = ()

    def __call__(self, txn: Transaction) -> Chain:
        raise NotImplementedError


class Residual(Open):
    """The open tests run per row, in rule order."""

    __slots__ = ("steps",)

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.steps = steps

    def __call__(self, txn: Transaction) -> Chain:
        found: list[int] = []
        for index, test, stops in self.steps:
            if test is None or test(txn):
                found.append(index)
                if stops:
                    break
        return tuple(found)


class Fork(Open):
    """A plan with one open test (the usual case): both possible chains are worked out beforehand."""

    __slots__ = ("no", "test", "yes")

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.test = next(test for _, test, _ in steps if test is not None)
        self.yes, self.no = _settled(steps, True), _settled(steps, False)

    def __call__(self, txn: Transaction) -> Chain:
        return self.yes if self.test(txn) else self.no


def _settled(steps: tuple[Step, ...], outcome: bool) -> Chain:
    """The chain of `steps` when their one open test gives `outcome`."""
    found: list[int] = []
    for index, test, stops in steps:
        if test is None or outcome:
            found.append(index)
            if stops:
                break
    return tuple(found)


class Matcher:
    """What the batch matcher needs to know about a rule list, worked out once."""

    def __init__(self, rules: Sequence[Rule], prefilter: Prefilter) -> None:
        self.prefilter = prefilter
        self.conditions = [scoped(rule.condition, rule.accounts) for rule in rules]
        self.leaves = [tuple(leaves(condition)) for condition in self.conditions]
        self.stops = [not rule.continue_ for rule in rules]
        self.literals: dict[int, frozenset[str]] = {}
        keywords: dict[str, set[str]] = {}
        for leaf in (leaf for group in self.leaves for leaf in group if isinstance(leaf, TextTest)):
            requirement = leaf.requirement()
            if requirement is not None:
                self.literals[id(leaf)] = frozenset(literal for _, literal in requirement)
            words = keywords.setdefault(leaf.field, set())
            words.update(leaf.values if _decided_by_literals(leaf) else self.literals.get(id(leaf), ()))
        self.fields = _keyed_fields(keywords, prefilter, self.leaves, any(rule.accounts for rule in rules))
        blind = _digit_blind_regexes(self.leaves)
        self.signed = {id(leaf) for group in self.leaves for leaf in group if _regex(leaf) in blind}
        self.signers = {
            name: Signer(words, [pattern for (field, _), pattern in blind.items() if field == name])
            for name, words in keywords.items()
            if words or any(field == name for field, _ in blind)
        }
        self.keywords, self.blind = keywords, blind
        self.shared: dict[tuple[str, ...], Signer] = {}  # see `shared_signer`
        dates = {leaf.key(): leaf for group in self.leaves for leaf in group if isinstance(leaf, DateTest)}
        self.keyed_dates = list(dates.values()) if len(dates) <= DATE_TESTS_KEYED else []
        self.residuals: dict[tuple[int, tuple[bool | None, ...]], bool | Test] = {}
        self.sources: dict[int, Condition] = {}  # a compiled residual test -> the condition it was
        self.value_codes: dict[str, dict[Hashable, str]] = {}
        self.plans: dict[tuple[Hashable, ...], dict[str, Chain | Open | _Dated]] = {}
        self.mostly_dated: dict[tuple[Hashable, ...], bool] = {}  # per context, its last batch (Batch._undated)
        # Per combination of field modes: what Batch._keyed works out (a rule set sees a few).
        self.keyed: dict[tuple[tuple[str, str], ...], Keyed] = {}

    def chains(self, txns: Sequence[Transaction]) -> list[Chain]:
        self._trim()
        return Batch(self, Columns(txns)).chains()

    def batch_chains(self, batch: TxBatch, rows: Sequence[Transaction]) -> list[Chain]:
        """`chains` of a batch's rows, read from its columns; `rows` are its row views (rows.py)."""
        self._trim()
        return Batch(self, BatchColumns(batch, rows)).chains()

    def shared_signer(self, names: tuple[str, ...]) -> Signer:
        """One signer for fields that read the same column in a batch (`text` is the description
        where a bank gives neither payee nor memo): its signature, against all their literals and
        regexes, decides what each of theirs would, in one pass over the column instead of one each."""
        signer = self.shared.get(names)
        if signer is None:
            words = [word for name in names for word in self.keywords.get(name, ())]
            patterns = [pattern for (field, _), pattern in self.blind.items() if field in names]
            signer = self.shared[names] = Signer(words, patterns)
        return signer

    def coded(self, name: str, values: Iterable[Hashable]) -> dict[Hashable, str]:
        """A key character for each value of field `name`, the same in every batch."""
        codes = self.value_codes.setdefault(name, {})
        for value in values:
            if value not in codes:
                codes[value] = _code(len(codes))
        return codes

    def forget(self) -> None:
        """Drop the plans, value codes and scans kept across batches (see `RuleSet.forget`)."""
        self.value_codes.clear()
        self.plans.clear()
        self.mostly_dated.clear()
        for signer in (*self.signers.values(), *self.shared.values()):
            signer.forget()

    def _trim(self) -> None:
        # Plans and codes are kept across batches (a statement's keys repeat from one batch to the
        # next); past these sizes the memory is worth more than rebuilding them.
        if sum(map(len, self.value_codes.values())) > CODES_KEPT or sum(map(len, self.plans.values())) > PLANS_KEPT:
            self.value_codes.clear()
            self.plans.clear()

    def residual(self, index: int, known: tuple[bool | None, ...]) -> bool | Test:
        """Rule `index` with its leaves' `known` values folded in: True, False or the test left."""
        found = self.residuals.get((index, known), _UNSET)
        if found is _UNSET:
            values = {id(leaf): value for leaf, value in zip(self.leaves[index], known)}
            left = partial(self.conditions[index], lambda leaf: values[id(leaf)])
            found = self.residuals[(index, known)] = left if isinstance(left, bool) else compile_condition(left)
            if not isinstance(left, bool):
                self.sources[id(found)] = left  # kept alive by `residuals`, so the id stays its own
        return found  # type: ignore[return-value]


class Batch:
    """One call's rows: their keys, and a plan per distinct key."""

    def __init__(self, matcher: Matcher, columns: Columns) -> None:
        self.matcher = matcher
        self.txns = columns.txns  # models, or views of a TxBatch's rows (rows.py)
        self.columns = columns  # each field read once per batch
        self.modes: dict[str, str] = {}
        self.context: list[Hashable] = []  # what, beside the key, the plans of this batch rest on
        codes: list[Iterable[str]] = []
        signed: list[str] = []
        for name in matcher.fields:
            values = self.columns.raw(name)
            mode = self.modes[name] = _mode(values, name in matcher.signers)
            self.context.append((name, mode))
            if mode == "value" and len(distinct := set(values)) > 1:
                codes.append(map(matcher.coded(name, distinct).__getitem__, values))
            elif mode == "value":
                self.context.append(tuple(distinct))  # one value: decided for the batch, not per key
            elif mode == "sig":
                signed.append(name)
        sigs = self._signatures(signed)
        found = matcher.keyed.get(modes := tuple(self.modes.items()))
        if found is None:
            found = matcher.keyed[modes] = self._keyed()
        self.determined, eager, self.dated = found
        undated = {key: leaf for key, leaf in eager.items() if not isinstance(leaf, DateTest)}
        codes += map(map, repeat(_BITS.__getitem__), self._eager_bits(undated))
        # The date tests' results stay out of the key (see `chains`), read only for the rows a
        # dated rule may match.
        self.date_bits = self._eager_bits({key: leaf for key, leaf in eager.items() if key not in undated})
        self.keys: list[str] = _joined(codes, sigs, len(self.txns))

    def _signatures(self, names: list[str]) -> list[list[str]]:
        """The signatures of the fields keyed by them; fields that read the same column share one
        (Matcher.shared_signer), which the context records."""
        by_column: dict[int, tuple[list[str], list[str]]] = {}
        for name in names:
            texts = self.columns.text(name)
            by_column.setdefault(id(texts), (texts, []))[1].append(name)
        sigs: list[list[str]] = []
        for texts, group in by_column.values():
            if len(group) > 1:
                self.context.append(("shared", *group))
            signer = self.matcher.signers[group[0]] if len(group) == 1 else self.matcher.shared_signer(tuple(group))
            sigs.append(signer.signatures(texts))
        return sigs

    def chains(self) -> list[Chain]:
        """Each row's chain.  A key leaves out the date tests: the rows of most keys have no
        candidate rule with a date test, so one plan serves them whatever their dates, and a
        statement's many dates would otherwise multiply the keys to plan (about six times, with
        a weekday and a day-of-month test).  A key whose plan would read a date test is marked
        `DATED` and its rows are planned by their key and date results (`_plan_dated`)."""
        context = tuple(self.context)
        if self.date_bits and self.matcher.mostly_dated.get(context, False):
            out = self._all_dated()
        else:
            out = self._undated(context)
        opened: dict[Open, list[int]] = {}
        for i in compress(range(len(out)), map(isinstance, out, repeat(Open))):
            opened.setdefault(out[i], []).append(i)  # type: ignore[arg-type]
        for plan, rows in opened.items():
            self.settle(plan, rows, out)  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

    def _undated(self, context: tuple[Hashable, ...]) -> list[Chain | Open | _Dated | None]:
        """The plans by the keys without the date tests, then the `DATED` rows' by their dates.
        Where most rows were dated, the context's next batch goes the `_all_dated` way."""
        plans = self.matcher.plans.setdefault(context, {})
        # Most keys were planned in an earlier batch: one C-level lookup per row.
        out: list[Chain | Open | _Dated | None] = list(map(plans.get, self.keys))
        if None in out:
            self._plan_new(plans, out)
        if self.date_bits:
            dated = out.count(DATED)
            self.matcher.mostly_dated[context] = dated > MOSTLY_DATED * len(out)
            if dated:
                self._plan_dated(out)
        return out

    def _all_dated(self) -> list[Chain | Open | _Dated | None]:
        """Every row's plan by its key and its date tests' results: where nearly every row is
        `DATED` (a weekend flag on card payments, in a card account), the lookup by the key alone
        would only send them on, and the dated rows be picked out and put back one by one."""
        plans = self.matcher.plans.setdefault((*self.context, DATED), {})
        keys = _joined([self.keys, *(map(_BITS.__getitem__, bits) for bits in self.date_bits)], [], len(self.keys))
        out: list[Chain | Open | _Dated | None] = list(map(plans.get, keys))
        for i in list(compress(range(len(out)), map(is_, out, repeat(None)))):
            plan = plans.get(keys[i])  # planned for an earlier row of this batch
            out[i] = plan if plan is not None else plans.setdefault(keys[i], self.plan(self.txns[i]))
        return out

    def _plan_new(self, plans: dict[str, Chain | Open | _Dated], out: list[Chain | Open | _Dated | None]) -> None:
        """Plan each new key once, from its first row (an index: a batch makes no view per row)."""
        keys, txns, undated = self.keys, self.txns, bool(self.date_bits)
        for i in list(compress(range(len(out)), map(is_, out, repeat(None)))):
            plan = plans.get(keys[i])
            if plan is None:
                plan = plans[keys[i]] = self.plan(txns[i], undated)
            out[i] = plan

    def _plan_dated(self, out: list[Chain | Open | _Dated | None]) -> None:
        """The plans of the `DATED` rows, by their key and their date tests' results."""
        plans = self.matcher.plans.setdefault((*self.context, DATED), {})
        rows = list(compress(range(len(out)), map(is_, out, repeat(DATED))))
        parts = [map(_BITS.__getitem__, map(results.__getitem__, rows)) for results in self.date_bits]
        # The date part has the same width in every key of this context, so two keys never clash.
        keys = _joined([map(self.keys.__getitem__, rows), *parts], [], len(rows))
        found = list(map(plans.get, keys))
        for j in list(compress(range(len(found)), map(is_, found, repeat(None)))):
            plan = plans.get(keys[j])  # planned for an earlier row of this batch
            found[j] = plan if plan is not None else plans.setdefault(keys[j], self.plan(self.txns[rows[j]]))
        list(map(out.__setitem__, rows, found))  # each row's plan into its place, in one C-level pass

    def settle(self, plan: Open, rows: list[int], out: list[Chain | Open]) -> None:
        """The chains of `rows`, which share `plan`: a fork on one test of a column runs over
        those rows' values (columns.py), anything else row by row."""
        leaf = self.matcher.sources.get(id(plan.test)) if isinstance(plan, Fork) else None
        results = column_at(leaf, self.columns, rows) if leaf is not None else None
        if results is None:
            txns = self.txns
            for i in rows:
                out[i] = plan(txns[i])
            return
        yes, no = plan.yes, plan.no  # type: ignore[attr-defined]
        for i, holds in zip(rows, results):
            out[i] = yes if holds else no

    def plan(self, rep: Transaction, undated: bool = False) -> Chain | Open | _Dated:
        """What every row sharing `rep`'s key gets: its chain, or the tests left to run; when the
        key leaves the date tests out (`undated`), `DATED` if the plan would read one."""
        matcher, steps = self.matcher, []
        for index in matcher.prefilter.candidates(rep)[0]:
            if undated and index in self.dated:
                return DATED
            test = matcher.residual(index, tuple(self.known(leaf, rep) for leaf in matcher.leaves[index]))
            if test is False:
                continue
            stops = matcher.stops[index]
            steps.append((index, None if test is True else test, stops))
            if test is True and stops:
                break
        tests = sum(test is not None for _, test, _ in steps)
        if not tests:
            return tuple(index for index, _, _ in steps)
        return Fork(tuple(steps)) if tests == 1 else Residual(tuple(steps))

    def known(self, leaf: Condition, rep: Transaction) -> bool | None:
        """The value `leaf` has for every row with `rep`'s key, or None when it differs per row."""
        if id(leaf) in self.determined:
            return leaf(rep)
        if isinstance(leaf, TextTest) and self.modes.get(leaf.field) == "sig":
            text = leaf.read(rep)
            literals = self.matcher.literals.get(id(leaf))
            if literals and not any(literal in fold(text) for literal in literals):
                return False
            if id(leaf) in self.matcher.signed and text.isascii():
                return leaf(rep)  # its mark in the signature: every row with this key agrees
        return None

    def _by_key(self, leaf: Condition) -> bool:
        if isinstance(leaf, InAccounts):
            return self.modes.get("account") == "value"
        if isinstance(leaf, TextTest):
            mode = self.modes.get(leaf.field)
            return mode == "value" or (mode == "sig" and _decided_by_literals(leaf))
        return False

    def _signed(self, leaf: Condition) -> bool:
        # A digit-blind regex on a field keyed by signature is decided with the key (see `known`).
        return isinstance(leaf, TextTest) and id(leaf) in self.matcher.signed and self.modes.get(leaf.field) == "sig"

    def _keyed(self) -> Keyed:
        """For this batch's modes: the leaves the key decides, the tests of the rules every
        row is a candidate for that the key must carry as columns (see the docstring), and the
        rules with one of those tests on a date."""
        matcher, tests = self.matcher, dict[Hashable, Condition]()
        determined = {id(leaf) for group in matcher.leaves for leaf in group if self._by_key(leaf)}
        always = [leaf for index in matcher.prefilter.always_in_order for leaf in matcher.leaves[index]]
        for leaf in always + matcher.keyed_dates:
            if id(leaf) not in determined and not self._signed(leaf):
                tests.setdefault(_leaf_key(leaf), leaf)
        determined.update(id(leaf) for group in matcher.leaves for leaf in group if _leaf_key(leaf) in tests)
        dates = {key for key, leaf in tests.items() if isinstance(leaf, DateTest)}
        dated = {i for i, group in enumerate(matcher.leaves) if any(_leaf_key(leaf) in dates for leaf in group)}
        return frozenset(determined), tests, frozenset(dated)

    def _eager_bits(self, tests: dict[Hashable, Condition]) -> list[list[bool]]:
        """The columns of the eager `tests` that differ from row to row; a test with one value in
        the whole batch goes into the context instead."""
        varying: list[list[bool]] = []
        for key, leaf in tests.items():
            bits = column(leaf, self.columns)
            if any(bits) and not all(bits):
                varying.append(bits)
            self.context.append((key, bits[0] if bits and (all(bits) or not any(bits)) else None))
        return varying


def _keyed_fields(
    keywords: Iterable[str], prefilter: Prefilter, groups: list[tuple[Condition, ...]], scoped: bool
) -> list[str]:
    """The text fields a batch key holds: those the prefilter scans (a row's candidate rules
    depend on them, so rows sharing a key must agree on them), those tested by a rule every row is
    a candidate for, and the account when a rule is scoped (one value per batch: free).  A field
    tested only inside rules that a literal elsewhere selects is left to those rules' rows."""
    always = {leaf.field for i in prefilter.always for leaf in groups[i] if isinstance(leaf, TextTest)}
    wanted = {*prefilter.fields, *always, *(("account",) if scoped else ())}
    return sorted({*keywords, "account"} & wanted)


def _regex(leaf: Condition) -> tuple[str, str] | None:
    """A regex test's field and pattern, the key its digit-blind twin is shared by."""
    if isinstance(leaf, TextTest) and leaf.pattern is not None:
        return leaf.field, leaf.pattern.pattern
    return None


def _digit_blind_regexes(groups: list[tuple[Condition, ...]]) -> dict[tuple[str, str], re.Pattern[str]]:
    """The distinct digit-blind regexes of the rules' text tests (literals.py), by `_regex`."""
    found: dict[tuple[str, str], re.Pattern[str]] = {}
    for leaf in (leaf for group in groups for leaf in group):
        key = _regex(leaf)
        if key is not None and isinstance(leaf, TextTest) and leaf.pattern is not None and digit_blind(key[1]):
            found[key] = leaf.pattern
    return found


def _decided_by_literals(leaf: TextTest) -> bool:
    # `contains` holds exactly when one of its needles occurs, so the signature decides it.
    return leaf.op == "contains" and leaf.pattern is None


def _leaf_key(leaf: Condition) -> Hashable:
    return ("accounts", leaf.accounts) if isinstance(leaf, InAccounts) else leaf.key()


def _mode(values: list[str | None], has_literals: bool) -> str:
    """How a text field is keyed in this batch: "value", "sig" (its signature), or "row" (not at all)."""
    if len(set(values[:_SAMPLE])) <= VALUE_LIMIT and len(set(values)) <= VALUE_LIMIT:
        return "value"
    return "sig" if has_literals else "row"


# A key is one character per keyed value or test result, then the signatures joined by "\0"
# (which no signature holds): the fixed-width head and the separators keep different parts from
# ever giving the same key.  Strings cache their hash; tuples would hash their parts at every lookup.
_BITS = ("\1", "\2")


def _code(index: int) -> str:
    # Never "\0" (the separator) and never a surrogate: CODES_KEPT stays far below both limits.
    return chr(index + 1 if index + 1 < 0xD800 else index + 0x801)


def _joined(codes: list[Iterable[str]], sigs: list[list[str]], rows: int) -> list[str]:
    tail = sigs[0] if len(sigs) == 1 else list(map("\0".join, zip(*sigs))) if sigs else [""] * rows
    if len(codes) == 1:
        return list(map(str.__add__, codes[0], tail))
    return list(map("".join, zip(*codes, tail))) if codes else tail
