"""Helpers for the rule tests: rule files written from text, transactions from a few fields."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

from importer.core.models import Source, Transaction
from importer.rules import RuleSet, load_rules


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def rules_from(folder: Path, text: str, name: str = "rules.yaml") -> RuleSet:
    return load_rules([write(folder, name, text)])


def txn(description: str = "", amount: str = "-10.00", **fields: Any) -> Transaction:
    values: dict[str, Any] = {
        "date": dt.date(2026, 10, 20),
        "currency": "USD",
        "account": "checking",
        "source": Source(path="test.csv", line=2),
        **fields,
    }
    return Transaction(description=description, amount=Decimal(amount), **values)


def fired(rules: RuleSet, t: Transaction) -> list[str]:
    """The ids of the rules that apply to `t`, checked against the naive reference order."""
    chain = [rule.id for rule in rules.chain(t)]
    assert chain == [rule.id for rule in rules.chain_naive(t)]
    return chain
