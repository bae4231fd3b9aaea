"""Damaged copies of a statement file, and the one rule every parser must keep for them.

A download cut off at any byte, a byte with its high bit flipped, a letter typed into an amount:
each damaged copy must either be refused with an InputError (a subclass) that names the file, or
parse to transactions that all occur, with the same date, amount and currency, in the undamaged
file's result.  Anything else (a traceback, a changed amount, an invented transaction) is a bug.
Positions are drawn from a seeded generator, so a failure names a case that can be replayed.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from importer.core.errors import InputError, TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file

Key = tuple[object, object, str]


@dataclass(frozen=True)
class Case:
    name: str  # e.g. "cut at 1149", replayable from the seed
    data: bytes


def cuts(data: bytes, seed: int, count: int = 100) -> Iterator[Case]:
    """The file cut after every line end, and at `count` seeded byte positions."""
    ends = [i + 1 for i, byte in enumerate(data) if byte == 0x0A and i + 1 < len(data)]
    picks = random.Random(seed).sample(range(1, len(data)), min(count, len(data) - 1))
    for at in sorted(set(ends) | set(picks)):
        yield Case(f"cut at {at}", data[:at])


def flips(data: bytes, seed: int, count: int = 100) -> Iterator[Case]:
    """The file with one byte XORed with 0x80, at `count` seeded positions."""
    for at in sorted(random.Random(seed).sample(range(len(data)), min(count, len(data)))):
        yield Case(f"flip at {at}", data[:at] + bytes([data[at] ^ 0x80]) + data[at + 1 :])


def letters_in_amounts(data: bytes, amounts: re.Pattern[bytes], letters: bytes = b"XNeO") -> Iterator[Case]:
    """A letter inserted at every inner position of every amount `amounts` finds (group "amount")."""
    for match in amounts.finditer(data):
        start, end = match.span("amount")
        for at in range(start + 1, end):
            for letter in letters:
                yield Case(f"{chr(letter)} inserted at {at}", data[:at] + bytes([letter]) + data[at:])


def keys(statements: list[Statement] | tuple[Statement, ...]) -> Counter[Key]:
    return Counter((t.date, t.amount, t.currency) for s in statements for t in s.transactions)


def check(tmp_path: Path, name: str, case: Case, whole: Counter[Key], options: ParseOptions) -> str:
    """Parse `case` as a file called `name`; "refused" or "parsed", after asserting the rule."""
    path = tmp_path / name
    path.write_bytes(case.data)
    try:
        statements = parse_file(path, options)
    except InputError as exc:
        assert str(exc).startswith(str(path)), f"{case.name}: the error does not name the file: {exc}"
        if isinstance(exc, TruncatedError):
            assert not keys(exc.partial) - whole, (
                f"{case.name}: --allow-partial would import {keys(exc.partial) - whole}"
            )
        return "refused"
    extra = keys(statements) - whole
    assert not extra, f"{case.name}: transactions not in the whole file: {extra}"
    return "parsed"


def check_all(tmp_path: Path, sample: Path, cases: Iterator[Case], options: ParseOptions) -> Counter[str]:
    """Every case of `sample` checked; how many were refused and how many parsed."""
    whole = keys(parse_file(sample, options))
    assert whole, f"{sample} parses to no transactions"
    partial = replace(options, allow_partial=True)
    return Counter(check(tmp_path, sample.name, case, whole, partial) for case in cases)
