"""Why a transaction got its category: the rules that fired, and the rules that nearly did.

A near miss is a rule more than half of whose conditions hold (2 of 3, 3 of 4; never 1 of 2,
which every `amount: outflow` rule is for every payment), or a one-condition rule whose text
almost appears (a needle "STARBUCKS" against "STARBUKS").  Rules that match but come after the
winner are listed too: they are what a reordering would change.  Everything is shown as the
user wrote it in YAML (words.py), never as a Python repr.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from importer.core.models import Transaction
from importer.rules.conditions import TextTest, conjuncts
from importer.rules.engine import Rule, RuleSet
from importer.rules.examples import failed_parts
from importer.rules.fold import fold
from importer.rules.words import quoted, shown

NEAREST = 3
_SIMILAR = 0.75  # share of a needle that must appear, in one piece, to call it a near miss


@dataclass(frozen=True)
class NearMiss:
    rule: Rule
    score: float
    detail: str


@dataclass(frozen=True)
class Explanation:
    txn: Transaction
    chain: tuple[Rule, ...]
    later: tuple[Rule, ...]
    near: tuple[NearMiss, ...]


def explain(rules: RuleSet, txn: Transaction) -> Explanation:
    chain = rules.chain(txn)
    later = tuple(r for r in rules.rules if r not in chain and r.matches(txn)) if chain else ()
    near = sorted(
        (m for r in rules.rules if r not in chain and r not in later if (m := near_miss(r, txn))),
        key=lambda m: -m.score,
    )
    return Explanation(txn, chain, later, tuple(near[:NEAREST]))


def near_miss(rule: Rule, txn: Transaction) -> NearMiss | None:
    """How close `rule` comes to matching `txn`, or None when it is not close at all."""
    if rule.accounts and txn.account not in rule.accounts:
        return None
    parts = conjuncts(rule.condition)
    held = sum(1 for part in parts if part(txn))
    if held * 2 > len(parts):
        return NearMiss(rule, held / len(parts), f"{held} of {len(parts)} conditions hold; {failed_parts(rule, txn)}")
    similar = _similar_text(parts[0], txn) if len(parts) == 1 else None
    return NearMiss(rule, similar[0] / 2, similar[1]) if similar else None


def _similar_text(part: object, txn: Transaction) -> tuple[float, str] | None:
    if not isinstance(part, TextTest) or part.pattern is not None:
        return None
    text = fold(part.read(txn))
    best = max(((_shared(needle, text), needle) for needle in part.values if len(needle) >= 4), default=None)
    if best is None or best[0] < _SIMILAR:
        return None
    return best[0], f"{part.field} has only {best[0]:.0%} of {quoted(best[1])}"


def _shared(needle: str, text: str) -> float:
    match = SequenceMatcher(None, needle, text, autojunk=False).find_longest_match(0, len(needle), 0, len(text))
    return match.size / len(needle)


def render(explanation: Explanation) -> list[str]:
    """The explanation as lines of text."""
    t = explanation.txn
    lines = [f"{t.date}  {t.amount:>10}  {t.description}  ({t.source})"]
    lines += [f"  {name + ':':<7} {value}" for name, value in (("payee", t.payee), ("memo", t.memo)) if value]
    if not explanation.chain:
        lines.append("  fired:  no rule; the transaction stays uncategorised")
    for rule in explanation.chain:
        flag = " (continue)" if rule.continue_ else ""
        lines.append(f"  fired:  {rule.where}{flag} because {rule.condition.why(t)}")
        lines.append(f"          sets {_actions(rule, t)}")
    lines += [f"  later:  {rule.where} also matches, but an earlier rule won" for rule in explanation.later]
    lines += [f"  almost: {m.rule.where}: {m.detail}" for m in explanation.near]
    return lines


def _actions(rule: Rule, txn: Transaction) -> str:
    values = {name: shown(value) for name, value in rule.actions.model_dump(exclude_defaults=True).items()}
    for name in ("payee", "note"):
        template = getattr(rule, name)
        if template is not None and template.fields:
            values[name] = quoted(rule.render(template, txn))
    if rule.actions.skip:
        values["skip"] = "(the transaction is dropped)"
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "nothing (it only stops later rules)"
