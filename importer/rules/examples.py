"""`examples:` inside rule files: each must be caught by its own rule and by no earlier one."""

from __future__ import annotations

from dataclasses import dataclass

from importer.models import Source, Transaction
from importer.rules.conditions import conjuncts
from importer.rules.engine import Rule, RuleSet
from importer.rules.schema import Example


@dataclass(frozen=True)
class ExampleFailure:
    rule: Rule
    example: Example
    problem: str

    def __str__(self) -> str:
        amount = f" ({self.example.amount})"
        return f"{self.rule.origin} {self.rule.id}: example {self.example.description!r}{amount} {self.problem}"


@dataclass(frozen=True)
class ExampleReport:
    rules: int
    examples: int
    failures: list[ExampleFailure]
    without_examples: list[Rule]


def example_transaction(rule: Rule, example: Example) -> Transaction:
    """The transaction an example stands for; its account defaults to one the rule applies to."""
    account = example.account or (min(rule.accounts) if rule.accounts else "example")
    return Transaction(
        date=example.date, amount=example.amount, currency=example.currency, description=example.description,
        account=account, source=Source(path=str(rule.origin or "example")), payee=example.payee,
        memo=example.memo, bank_id=example.bank_id, raw=example.raw,
    )  # fmt: skip


def check_examples(rules: RuleSet) -> ExampleReport:
    failures: list[ExampleFailure] = []
    count = 0
    for rule in rules.rules:
        for example in rule.examples:
            count += 1
            problem = _problem(rules, rule, example_transaction(rule, example))
            if problem:
                failures.append(ExampleFailure(rule, example, problem))
    without = [rule for rule in rules.rules if not rule.examples]
    return ExampleReport(len(rules.rules), count, failures, without)


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
        return f"the account {txn.account!r} is not one of {', '.join(sorted(rule.accounts))}"
    return "fails: " + "; ".join(part.describe() for part in conjuncts(rule.condition) if not part(txn))
