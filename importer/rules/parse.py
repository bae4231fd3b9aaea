"""`when:` in a rule file → a compiled Condition, refusing anything it does not understand.

    when:                                   # several keys: all must hold
      text: rewe                            # description, payee and memo (one per line)
      description: starbucks                # text: contains (case-insensitive)
      payee: [uber, lyft]                   # a list: contains any of them
      memo: {regex: '^POS (\\d+)'}          # contains, regex, equals, startswith, one_of
      raw.Type: {equals: DEBIT_CARD}        # a raw column of the bank file, by name
      amount: {between: [-50, -5]}          # lt, le, gt, ge, equals, between, sign, abs
      date: {weekday: [sat, sun]}           # from, to, day_of_month, weekday, month
      any: [{payee: shell}, {payee: bp}]    # all / any take a list, not takes one condition
      not: {memo: refund}
      foreign: true                         # the currency is not the home currency

A test without a field reads `text`: `when: rewe`, `when: [rewe, edeka]`, `{regex: '^REWE'}`.

Errors carry the location inside the rule file (`loc`) so the loader can give line and column.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from importer.rules.conditions import (
    DATE_FIELDS,
    PART,
    TEXT,
    TEXT_FIELDS,
    WEEKDAYS,
    AllOf,
    AmountTest,
    AnyOf,
    Condition,
    DateTest,
    ForeignTest,
    NotOf,
    TextTest,
    text_getter,
)
from importer.rules.fold import fold

Loc = tuple[int | str, ...]
TEXT_TESTS = ("contains", "regex", "equals", "startswith", "one_of")
AMOUNT_TESTS = ("lt", "le", "gt", "ge", "equals", "between", "sign", "abs")
DATE_TESTS = ("from", "to", "day_of_month", "weekday", "month")
COMBINATORS = ("all", "any", "not")
FIELD_NAMES = (*TEXT_FIELDS, "amount", *DATE_FIELDS, "raw.<column>", "foreign")


class RuleSyntaxError(Exception):
    """A rule the loader must refuse; `loc` is the path to the offending YAML node."""

    def __init__(self, loc: Loc, message: str, *, at_key: bool = False) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.at_key = at_key


def parse_condition(data: Any, loc: Loc, home_currency: str | None = None) -> Condition:
    """A condition mapping (several keys: all must hold), or a text or list of texts for `text`."""
    if isinstance(data, (str, list)) and data not in ("", []):
        return _text(TEXT, data, loc)
    if data == {}:
        raise RuleSyntaxError(loc, "a condition needs at least one field (or all/any/not) to test.")
    if not isinstance(data, dict):
        raise RuleSyntaxError(
            loc,
            "a condition must be a mapping of fields (or all/any/not) to tests, "
            "or a text (a list of texts) that text contains.",
        )
    parts = [_parse_key(str(name), value, (*loc, name), home_currency) for name, value in data.items()]
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _parse_key(name: str, value: Any, loc: Loc, home: str | None) -> Condition:
    if name in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise RuleSyntaxError(loc, f"{name} takes a list of conditions.")
        children = tuple(parse_condition(item, (*loc, i), home) for i, item in enumerate(value))
        return AllOf(children) if name == "all" else AnyOf(children)
    if name == "not":
        return NotOf(parse_condition(value, loc, home))
    if name in TEXT_TESTS:  # a test without a field: on `text`
        return _text_test(TEXT, name, value, loc)
    if name in TEXT_FIELDS or (name.startswith("raw.") and len(name) > 4):
        return _text(name, value, loc)
    if name == "amount":
        return _amount(value, loc)
    if name in DATE_FIELDS:
        return _date(name, value, loc)
    if name == "foreign":
        if not isinstance(value, bool):
            raise RuleSyntaxError(loc, f"foreign takes true or false, found {value!r}.")
        return ForeignTest(value, home)
    raise RuleSyntaxError(
        loc, f"unknown field {name!r}; fields are: {', '.join(FIELD_NAMES)} (and all, any, not).", at_key=True
    )


def _both(parts: list[Condition]) -> Condition:
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


# text -----------------------------------------------------------------------------------------


def _text(name: str, value: Any, loc: Loc) -> Condition:
    if isinstance(value, (str, list)):
        value = {"contains": value}
    if not isinstance(value, dict) or not value:
        raise RuleSyntaxError(loc, f"{name} takes a text, a list of texts, or a mapping of tests.")
    return _both([_text_test(name, str(op), arg, (*loc, op)) for op, arg in value.items()])


def _text_test(name: str, op: str, arg: Any, loc: Loc) -> TextTest:
    read = text_getter(name)
    if op == "regex":
        # In `text`, ^ and $ hold at the start and end of each of its lines (description, payee, memo).
        flags = re.MULTILINE if name == TEXT else 0
        return TextTest(name, op, (_string(arg, loc),), _regex(_string(arg, loc), loc, flags), read)
    if op not in TEXT_TESTS:
        raise RuleSyntaxError(
            loc, f"unknown test {op!r} for {name}; text tests are: {', '.join(TEXT_TESTS)}.", at_key=True
        )
    values = _strings(arg, loc, many=op != "equals")
    if name == TEXT and any(PART in value for value in values):
        raise RuleSyntaxError(
            loc, "a test on text holds within one line (description, payee or memo); this one spans a line break."
        )
    return TextTest(
        name, op, tuple(fold(v).strip() if op in ("equals", "one_of") else fold(v) for v in values), None, read
    )


def _regex(pattern: str, loc: Loc, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE | flags)
    except re.error as exc:
        raise RuleSyntaxError(loc, f"bad regular expression {pattern!r}: {exc}.") from None


def _string(arg: Any, loc: Loc) -> str:
    if isinstance(arg, (dict, list)) or arg is None or arg == "":
        raise RuleSyntaxError(loc, f"expected a non-empty text, found {arg!r}.")
    return str(arg)


def _strings(arg: Any, loc: Loc, *, many: bool) -> list[str]:
    if isinstance(arg, list) and many:
        if not arg:
            raise RuleSyntaxError(loc, "expected a non-empty list of texts, found [].")
        return [_string(item, (*loc, i)) for i, item in enumerate(arg)]
    return [_string(arg, loc)]


# amount ---------------------------------------------------------------------------------------

_BOUNDS = {"lt": ("high", True, "<"), "le": ("high", False, "<="), "gt": ("low", True, ">"), "ge": ("low", False, ">=")}


def _amount(value: Any, loc: Loc) -> Condition:
    if value in ("inflow", "outflow"):
        value = {"sign": value}
    elif not isinstance(value, dict):
        value = {"equals": value}
    absolute = value.get("abs", False)
    if not isinstance(absolute, bool):
        raise RuleSyntaxError((*loc, "abs"), f"abs takes true or false, found {absolute!r}.")
    tests = [_amount_test(str(op), arg, (*loc, op), absolute) for op, arg in value.items() if op != "abs"]
    if not tests:
        raise RuleSyntaxError(loc, f"amount needs a test besides abs: {', '.join(AMOUNT_TESTS[:-1])}.")
    return _both(tests)  # type: ignore[arg-type]


def _amount_test(op: str, arg: Any, loc: Loc, absolute: bool) -> AmountTest:
    subject = "|amount|" if absolute else "amount"
    if op in _BOUNDS:
        side, open_, sign = _BOUNDS[op]
        number = _number(arg, loc)
        label = f"{subject} {sign} {number}"
        if side == "high":
            return AmountTest(None, number, high_open=open_, absolute=absolute, label=label)
        return AmountTest(number, None, low_open=open_, absolute=absolute, label=label)
    if op == "equals":
        number = _number(arg, loc)
        return AmountTest(number, number, absolute=absolute, label=f"{subject} = {number}")
    if op == "between":
        return _between(arg, loc, absolute, subject)
    if op == "sign":
        return _sign(arg, loc)
    raise RuleSyntaxError(
        loc, f"unknown test {op!r} for amount; amount tests are: {', '.join(AMOUNT_TESTS)}.", at_key=True
    )


def _between(arg: Any, loc: Loc, absolute: bool, subject: str) -> AmountTest:
    if not isinstance(arg, list) or len(arg) != 2:
        raise RuleSyntaxError(loc, f"between takes [low, high], found {arg!r}.")
    low, high = _number(arg[0], (*loc, 0)), _number(arg[1], (*loc, 1))
    if low > high:
        raise RuleSyntaxError(loc, f"between takes [low, high] with low <= high, found [{low}, {high}].")
    return AmountTest(low, high, absolute=absolute, label=f"{subject} between {low} and {high}")


def _sign(arg: Any, loc: Loc) -> AmountTest:
    if arg == "inflow":
        return AmountTest(Decimal(0), None, low_open=True, label="amount is an inflow (> 0)")
    if arg == "outflow":
        return AmountTest(None, Decimal(0), high_open=True, label="amount is an outflow (< 0)")
    raise RuleSyntaxError(loc, f"sign is inflow or outflow, found {arg!r}.")


def _number(arg: Any, loc: Loc) -> Decimal:
    # YAML reads 12.50 as a float; its shortest repr is what the user wrote, so no cents are lost.
    try:
        if isinstance(arg, bool) or arg is None or isinstance(arg, (list, dict)):
            raise InvalidOperation
        number = Decimal(str(arg))
        if not number.is_finite():
            raise InvalidOperation
        return number
    except InvalidOperation:
        raise RuleSyntaxError(loc, f"expected a number, found {arg!r}.") from None


# dates ----------------------------------------------------------------------------------------


def _date(name: str, value: Any, loc: Loc) -> Condition:
    if not isinstance(value, dict) or not value:
        raise RuleSyntaxError(loc, f"{name} takes a mapping of tests: {', '.join(DATE_TESTS)}.")
    ops = {str(op): arg for op, arg in value.items()}
    tests: list[Condition] = []
    if "from" in ops or "to" in ops:
        tests.append(_date_range(name, ops, loc))
    for op, arg in ops.items():
        if op not in DATE_TESTS:
            raise RuleSyntaxError(
                (*loc, op), f"unknown test {op!r} for {name}; date tests are: {', '.join(DATE_TESTS)}.", at_key=True
            )
        if op not in ("from", "to"):
            tests.append(_date_part(name, op, arg, (*loc, op)))
    return _both(tests)


def _date_range(name: str, ops: dict[str, Any], loc: Loc) -> DateTest:
    first = _day(ops["from"], (*loc, "from")) if "from" in ops else None
    last = _day(ops["to"], (*loc, "to")) if "to" in ops else None
    if first and last and first > last:
        raise RuleSyntaxError(loc, f"{name} from {first} is after to {last}.")
    label = f"{name} " + " ".join(part for part in (f"from {first}" * bool(first), f"to {last}" * bool(last)) if part)
    return DateTest(name, "range", first=first, last=last, label=label)


def _day(arg: Any, loc: Loc) -> dt.date:
    if isinstance(arg, dt.date):
        return arg
    try:
        return dt.date.fromisoformat(str(arg))
    except ValueError:
        raise RuleSyntaxError(loc, f"expected a date as YYYY-MM-DD, found {arg!r}.") from None


_PART_RANGES = {"day_of_month": (1, 31), "month": (1, 12)}


def _date_part(name: str, op: str, arg: Any, loc: Loc) -> DateTest:
    items = arg if isinstance(arg, list) else [arg]
    if op == "weekday":
        allowed = frozenset(_weekday(item, loc) for item in items)
    else:
        low, high = _PART_RANGES[op]
        if not items or not all(isinstance(i, int) and not isinstance(i, bool) and low <= i <= high for i in items):
            raise RuleSyntaxError(loc, f"{op} takes whole numbers from {low} to {high}, found {arg!r}.")
        allowed = frozenset(items)
    shown = ", ".join(WEEKDAYS[i] for i in sorted(allowed)) if op == "weekday" else ", ".join(map(str, sorted(allowed)))
    return DateTest(name, op, allowed, label=f"{name} {op.replace('_', ' ')} in {shown}")


def _weekday(item: Any, loc: Loc) -> int:
    text = str(item).strip().lower()[:3]
    if text not in WEEKDAYS or len(str(item).strip()) < 3:
        raise RuleSyntaxError(loc, f"weekday takes mon, tue, wed, thu, fri, sat, sun, found {item!r}.")
    return WEEKDAYS.index(text)
