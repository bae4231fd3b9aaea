"""The shape of a rule file, validated where it enters so a typo fails at load time.

    accounts: [Chase checking]          # optional: these rules apply only to these accounts
    rules:
      - id: coffee
        when:                           # see importer/rules/parse.py for every test
          text: {regex: '\\bSTARBUCKS\\b'}
        set: {category: Food:Coffee, payee: Starbucks}
        examples: [STARBUCKS STORE 05512 SAN FRANCISCO CA]
      - include: shared/food.yaml       # that file's rules, here; path relative to this file

`when` stays a plain mapping here; parse.py compiles it with the same locations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from importer.core.models import Money


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


class Actions(_Strict):
    """What a matching rule sets.  `payee` and `note` may use the rule's regex groups: {1}, {name}."""

    category: str | None = None
    target_account: str | None = None
    payee: str | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None
    skip: bool = False
    transfer_to: str | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        return _one_or_many(value)


class Example(_Strict):
    """A transaction the rule must catch: a description, optionally with amount and other fields."""

    description: str
    amount: Money = Decimal("-10.00")
    payee: str | None = None
    memo: str | None = None
    account: str | None = None
    currency: str = "USD"
    bank_id: str | None = None
    date: dt.date = dt.date(2026, 1, 15)
    raw: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"description": value} if isinstance(value, str) else value

    @field_validator("amount", mode="before")
    @classmethod
    def _yaml_number(cls, value: Any) -> Any:
        # YAML reads -6.45 as a float; its shortest repr is exactly what the user wrote.
        return str(value) if isinstance(value, float) else value


class RuleSpec(_Strict):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1)
    when: Any  # a mapping, or a text or list of texts for `text`: parse.py checks it, naming the place
    set: Actions = Field(default_factory=Actions)
    continue_: bool = Field(default=False, alias="continue")
    examples: tuple[Example, ...] = ()


class IncludeSpec(_Strict):
    include: str = Field(min_length=1)


class RuleFileSpec(_Strict):
    """The top of a rule file; each item of `rules` is checked on its own (RuleSpec or IncludeSpec)."""

    accounts: tuple[str, ...] = ()
    rules: tuple[Any, ...] = ()

    @field_validator("accounts", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        return _one_or_many(value)
