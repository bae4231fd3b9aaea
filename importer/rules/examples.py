"""`examples:` inside rule files: each must be caught by its own rule and by no earlier one.

The examples of a rule that tests `foreign` are checked only when a home currency is
configured: without one such a rule matches nothing, which is a configuration to report (the
CLI notes these rules, `rules lint` warns), not a wrong example.
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.core.models import Source, Transaction
from importer.rules.conditions import conjuncts, tests_foreign
from importer.rules.engine import Rule, RuleSet
from importer.rules.schema import Example
from importer.rules.words import quoted


@dataclass(frozen=True)
class ExampleFailure:
    rule: Rule
    example: Example
    problem: str

    def __str__(self) -> str:
        amount = f" ({self.example.amount})"
        return f"{self.rule.origin} {self.rule.id}: example {quoted(self.example.description)}{amount} {self.problem}"


@dataclass(frozen=True)
class ExampleReport:
    rules: int
    examples: int
    failures: list[ExampleFailure]
    without_examples: list[Rule]
    unchecked: list[Rule]  # rules testing `foreign` while no home currency is configured


def example_transaction(rule: Rule, example: Example) -> Transaction:
    """The transaction an example stands for; its account defaults to one the rule applies to."""
    account = example.account or (min(rule.accounts) if rule.accounts else "example")
    return Transaction(
        date=example.date,
        amount=example.amount,
        currency=example.currency,
        description=example.description,
        account=account,
        source=Source(path=str(rule.origin or "example")),
        payee=example.payee,
        memo=example.memo,
        bank_id=example.bank_id,
        raw=example.raw,
    )


def check_examples(rules: RuleSet) -> ExampleReport:
    failures: list[ExampleFailure] = []
    count = 0
    unchecked = [rule for rule in rules.rules if rules.home_currency is None and tests_foreign(rule.condition)]
    for rule in rules.rules:
        for example in rule.examples if rule not in unchecked else ():
            count += 1
            problem = _problem(rules, rule, example_transaction(rule, example))
            if problem:
                failures.append(ExampleFailure(rule, example, problem))
    without = [rule for rule in rules.rules if not rule.examples]
    return ExampleReport(len(rules.rules), count, failures, without, unchecked)


def _problem(rules: RuleSet, rule: Rule, txn: Transaction) -> str | None:
    chain = rules.chain(txn)
    if rule in chain:
        return None
    if not rule.matches(txn):
        return f"is not matched by this rule ({failed_parts(rule, txn)})"
    return f"is caught first by the earlier rule {chain[-1].where}"


def failed_parts(rule: Rule, txn: Transaction) -> str:
    """What of `rule` does not hold for `txn`, in words."""
    if rule.accounts and txn.account not in rule.accounts:
        return f"the account {quoted(txn.account)} is not one of {', '.join(sorted(rule.accounts))}"
    return "fails: " + "; ".join(part.describe() for part in conjuncts(rule.condition) if not part(txn))
