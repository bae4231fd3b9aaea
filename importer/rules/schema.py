"""The YAML rule file, validated where it enters so a typo fails at load time, never silently.

    rules:
      - id: groceries
        when:
          description: {contains: [TESCO, SAINSBURY]}
        set:
          category: Groceries
          payee: Tesco

`when` maps a transaction field to a matcher; several fields must all match.  A bare string is
a case-insensitive `contains`.  The first rule that matches wins.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MATCHABLE_FIELDS = ("description", "payee", "memo", "account", "currency", "bank_id")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Matcher(_Strict):
    """How one field is tested; every given test must pass."""

    contains: tuple[str, ...] = ()
    regex: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"contains": value} if isinstance(value, (str, list)) else value

    @field_validator("contains", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r}: {exc}") from None
        return value


class Actions(_Strict):
    """What a matching rule sets on the transaction."""

    category: str | None = None
    payee: str | None = None
    target_account: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None


class Rule(_Strict):
    id: str
    when: dict[str, Matcher]
    set: Actions = Field(default_factory=Actions)

    @field_validator("when")
    @classmethod
    def _known_fields(cls, value: dict[str, Matcher]) -> dict[str, Matcher]:
        unknown = sorted(set(value) - set(MATCHABLE_FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; fields are: {', '.join(MATCHABLE_FIELDS)}")
        if not value:
            raise ValueError("a rule needs at least one condition")
        return value


class RuleFile(_Strict):
    rules: tuple[Rule, ...] = ()
