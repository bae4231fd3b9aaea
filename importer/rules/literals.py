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
