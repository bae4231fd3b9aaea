"""What matching rules do to a transaction, and how several (`continue: true`) combine.

Each single-valued field (category, payee, target account, transfer_to) is set by the first
matching rule that sets it; tags add up; notes are joined with "; ".  `skip` from any matching
rule drops the transaction.  Payee and note are templates: `{1}` or `{name}` is a group of the
first regex in the rule's conditions that matched the transaction, `{0}` the whole match.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from importer.core.models import Transaction
from importer.rules.schema import Actions

if TYPE_CHECKING:
    from importer.rules.engine import Rule

_SINGLE = ("category", "target_account", "transfer_to")


class TemplateError(ValueError):
    """A template names a regex group the rule does not have; `field` is payee or note."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Template:
    text: str
    fields: tuple[str, ...]

    def render(self, txn: Transaction, patterns: Sequence[re.Pattern[str]], read: Sequence[object]) -> str:
        if not self.fields:
            return self.text
        groups = _groups(txn, patterns, read)
        numbered = [
            groups.get(str(i), "") for i in range(1 + max((int(f) for f in self.fields if f.isdigit()), default=0))
        ]
        return self.text.format(*numbered, **{f: groups.get(f, "") for f in self.fields if not f.isdigit()})


def _groups(txn: Transaction, patterns: Sequence[re.Pattern[str]], read: Sequence[object]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pattern, reader in zip(patterns, read):
        match = pattern.search(reader(txn))  # type: ignore[operator]
        if match is None:
            continue
        if not any(key.isdigit() for key in found):
            found.update({str(i): g or "" for i, g in enumerate((match.group(0), *match.groups()))})
        found.update({name: value or "" for name, value in match.groupdict().items() if name not in found})
    return found


def compile_template(text: str, patterns: Sequence[re.Pattern[str]], field: str) -> Template:
    """`text` checked against the groups the rule's regexes offer."""
    try:
        fields = tuple(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError as exc:
        raise TemplateError(
            field, f"{text!r} is not a valid template ({exc}); write {{{{ and }}}} for braces."
        ) from None
    most = max((p.groups for p in patterns), default=0)
    names = {name for p in patterns for name in p.groupindex}
    for name in fields:
        if name == "" or (name.isdigit() and int(name) > most):
            raise TemplateError(
                field, f"{text!r} refers to group {{{name}}}, but the rule's regexes have {most} group(s)."
            )
        if not name.isdigit() and name not in names:
            raise TemplateError(
                field, f"{text!r} refers to group {{{name}}}, but no regex of the rule has a group of that name."
            )
    return Template(text, fields)


def combine(txn: Transaction, chain: Sequence[Rule]) -> tuple[dict[str, object], bool]:
    """The update the matching `chain` makes to `txn`, and whether it is skipped."""
    update: dict[str, object] = {}
    tags = list(txn.tags)
    notes = [txn.notes] if txn.notes else []
    for rule in chain:
        _single_values(rule, txn, update)
        tags.extend(tag for tag in rule.actions.tags if tag not in tags)
        if rule.note is not None:
            notes.append(rule.render(rule.note, txn))
    update["rule_id"] = decisive(chain).id
    if tags != list(txn.tags):
        update["tags"] = tuple(tags)
    if len(notes) > bool(txn.notes):
        update["notes"] = "; ".join(notes)
    return update, any(rule.actions.skip for rule in chain)


def _single_values(rule: Rule, txn: Transaction, update: dict[str, object]) -> None:
    acts: Actions = rule.actions
    for name in _SINGLE:
        value = getattr(acts, name)
        if value is not None and name not in update:
            update[name] = value
    if rule.payee is not None and "payee" not in update:
        update["payee"] = rule.render(rule.payee, txn)


def decisive(chain: Sequence[Rule]) -> Rule:
    """The rule a transaction is credited to: the one that stopped evaluation, else the first."""
    return chain[-1] if not chain[-1].continue_ else chain[0]
