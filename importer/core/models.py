"""The values that flow through the pipeline: Statement → Transaction → UploadResult.

All models are frozen: each stage returns a new value (`model_copy(update=...)`), so a stage can
be tested alone and nothing downstream can change what an earlier stage decided.

Money is `Decimal` from the first byte read to the wire; a float is refused at validation.
Negative amounts are money out of the account, positive are money in.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from functools import cache
from itertools import repeat
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from importer.core.currencies import is_currency


def _refuse_float(value: Any) -> Any:
    # A float has already lost the cents (0.1 + 0.2); insist on str/Decimal/int input.
    if isinstance(value, float):
        raise ValueError("money must be given as Decimal or string, never float")
    return value


Money = Annotated[Decimal, BeforeValidator(_refuse_float)]


class _Frozen(BaseModel):
    # defer_build: a model's validator is built when it first validates, not at import.  The
    # streaming import builds no model per row (TxBatch columns), so a small run never pays the
    # ~5 ms per model that building all of them at start-up cost (issue 16, start-up).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Source(_Frozen):
    """Where a transaction came from: enough for a user to open the file and find it."""

    path: str
    line: int | None = None
    record: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.record is not None:
            return f"{self.path}#{self.record}"
        return self.path


class Transaction(_Frozen):
    """One line of a bank statement, normalised, and what the pipeline decided about it."""

    date: dt.date
    amount: Money
    currency: str
    description: str
    account: str
    source: Source
    payee: str | None = None
    memo: str | None = None
    bank_id: str | None = None
    balance: Money | None = None
    value_date: dt.date | None = None
    category: str | None = None
    target_account: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    transfer_to: str | None = None
    rule_id: str | None = None
    external_id: str | None = None
    raw: dict[str, str] = Field(default_factory=dict)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value


class Statement(_Frozen):
    """What one parser read from one file for one account."""

    path: str
    format: str
    account: str
    currency: str
    transactions: tuple[Transaction, ...]
    bank_account_id: str | None = None  # the account's identifier as the file writes it (importer/core/accounts.py)
    profile: str | None = None  # the bank CSV profile the file was read with, if any
    opening_balance: Money | None = None
    closing_balance: Money | None = None
    available_balance: Money | None = None  # OFX AVAILBAL, camt ITAV/CLAV: informative, never checked
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    # What the parser could not check and wants the user to know (e.g. a balance in another
    # currency than the account, so not compared with the sum); shown by `parse` and `run`.
    notes: tuple[str, ...] = ()


class Outcome(str, Enum):
    """What a target did with one record."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class UploadResult(_Frozen):
    """A target's answer for one transaction."""

    external_id: str
    outcome: Outcome
    remote_id: str | None = None
    reason: str | None = None


_M = TypeVar("_M", bound=BaseModel)

# BaseModel's four slots, set through their descriptors: `object.__setattr__` looked each name up
# again per call, a third of the cost of a copy.  `object.__new__` is what BaseModel's `__new__` is.
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def with_updates(model: _M, update: Mapping[str, Any]) -> _M:
    """`model.model_copy(update=update)` (equal to it, no validation either) at a fraction of the
    cost: pydantic's generic copy dominated categorising and naming a million transactions.
    Only for the frozen `extra="forbid"` models here, which hold no private attributes."""
    copied = _new(type(model))
    _set_dict(copied, {**model.__dict__, **update})
    _set_extra(copied, None)
    _set_fields_set(copied, model.__pydantic_fields_set__ | update.keys())
    _set_private(copied, None)
    return copied


def trusted(cls: type[_M], **fields: Any) -> _M:
    """`cls(**fields)` for values the caller has already validated (a parser checks whole columns:
    every date a `date`, every amount a `Decimal`, each distinct currency ISO 4217), without
    validating each row again.  Equal to the validated model; tests/test_models_trusted.py proves
    it.  Callers must fall back to `cls(**fields)` whenever they cannot vouch for the values."""
    defaults, factories = layout(cls)
    values = {**defaults, **fields}  # declared order first, as validation would lay them out
    for name in factories:
        if name not in fields:
            values[name] = factories[name]()
    model = _new(cls)
    _set_dict(model, values)
    _set_extra(model, None)
    _set_fields_set(model, set(fields))
    _set_private(model, None)
    return model


def trusted_many(cls: type[_M], values: list[dict[str, Any]], given: set[str]) -> list[_M]:
    """`trusted(cls, **fields)` for every complete field dict of `values` (all fields, in declared
    order), `given` naming the fields the caller gave.  Four passes in C instead of a Python call
    per row (parsers build a statement's rows with it).

    All the models share the one `given` set, where `trusted()` makes one each: it is pydantic's
    record of the names given, which it copies before changing (`model_copy`), as `with_updates`
    does, and frozen models change nothing; at a million rows the sets alone were 0.9 GB."""
    made: list[_M] = list(map(_new, repeat(cls, len(values))))
    for setter, column in (
        (_set_dict, values),
        (_set_extra, repeat(None)),
        (_set_fields_set, repeat(given)),
        (_set_private, repeat(None)),
    ):
        deque(map(setter, made, column), maxlen=0)
    return made


@cache
def layout(cls: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    """Per field in declared order its default (None for required ones, always given), and the
    default factories."""
    fields = cls.model_fields
    defaults = {name: None if f.is_required() or f.default_factory else f.default for name, f in fields.items()}
    factories = {name: f.default_factory for name, f in fields.items() if f.default_factory is not None}
    return defaults, factories  # type: ignore[return-value]
