"""Literal text a regular expression cannot match without: the prefilter's handle on regexes.

`required_literals(r"\\b(UBER|LYFT)\\b")` is {"uber", "lyft"}: any text the regex matches contains
one of them (after `fold`).  A pattern with no such literal (`^\\d+$`) gives None, and its rule is
then a candidate for every transaction.  Only ASCII literals are taken, since under IGNORECASE a
non-ASCII letter may match letters `fold` does not map to it.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]  # the parser's opcodes (3.11+)
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

Alternatives = frozenset[str]

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}


def required_literals(pattern: str) -> Alternatives | None:
    """Folded literals of which every match of `pattern` contains at least one, or None."""
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except re.error:
        return None
    return _sequence(list(parsed))


def _sequence(items: list[tuple[Any, Any]]) -> Alternatives | None:
    best: Alternatives | None = None
    run: list[str] = []
    for op, arg in items:
        if op is sre.LITERAL and arg < 128:
            run.append(chr(arg))
            continue
        best = _better(best, _run(run))
        run = []
        best = _better(best, _item(op, arg))
    return _better(best, _run(run))


def _item(op: Any, arg: Any) -> Alternatives | None:
    if op is sre.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(arg))
    if op in _REPEATS:
        low, _high, body = arg
        return _sequence(list(body)) if low >= 1 else None
    if op is sre.BRANCH:
        branches = [_sequence(list(branch)) for branch in arg[1]]
        if any(branch is None for branch in branches):
            return None
        return frozenset().union(*branches)  # type: ignore[arg-type]
    return None


def _run(chars: list[str]) -> Alternatives | None:
    # A one-letter or blank literal is in nearly every text: scanning for it costs more than it saves.
    text = "".join(chars).lower()
    return frozenset({text}) if len(text.strip()) >= 2 else None


def _better(a: Alternatives | None, b: Alternatives | None) -> Alternatives | None:
    # The longer the shortest alternative, the fewer texts it lets through.
    if a is None or b is None:
        return a or b
    return a if min(map(len, a)) >= min(map(len, b)) else b


_DIGIT_CODES = range(ord("0"), ord("9") + 1)
_NESTED = {sre.ASSERT, sre.ASSERT_NOT}  # (direction, pattern)
_BLIND_SAFE = {sre.ANY, sre.AT, sre.CATEGORY}


def digit_blind(pattern: str) -> bool:
    """Whether `pattern` (run with IGNORECASE) matches an ASCII text exactly when it matches the
    same text lowered with every digit made "0": it tells no digit from another (no digit literal,
    no class holding some digits but not all, no backreference) and never turns IGNORECASE off.
    Such a regex is decided once per digit-blind text (signature.py), not once per row."""
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except re.error:
        return False
    return _blind_items(list(parsed))


def _blind_items(items: list[tuple[Any, Any]]) -> bool:
    return all(_blind_item(op, arg) for op, arg in items)


def _blind_item(op: Any, arg: Any) -> bool:
    if op in (sre.LITERAL, sre.NOT_LITERAL):
        return arg not in _DIGIT_CODES
    if op is sre.IN:
        return _blind_class(arg)
    if op is sre.SUBPATTERN:
        return not arg[2] & re.IGNORECASE and _blind_items(list(arg[3]))
    if op is sre.BRANCH:
        return all(_blind_items(list(branch)) for branch in arg[1])
    if op in _REPEATS or op in _NESTED:
        return _blind_items(list(arg[-1]))
    if op is sre.ATOMIC_GROUP:
        return _blind_items(list(arg))
    return op in _BLIND_SAFE


def _blind_class(items: list[tuple[Any, Any]]) -> bool:
    # A class must hold every digit or none: [0-9] and \d are blind, [05] and [0-4] are not.
    for op, arg in items:
        if op is sre.LITERAL and arg in _DIGIT_CODES:
            return False
        if op is sre.RANGE and arg[0] <= ord("9") and arg[1] >= ord("0"):
            if not (arg[0] <= ord("0") and arg[1] >= ord("9")):
                return False
    return all(op in (sre.LITERAL, sre.RANGE, sre.NEGATE, sre.CATEGORY) for op, _ in items)
