"""Mutations of a statement file's bytes, each seeded and named so a failure can be replayed.

A mutation is (name, detail, bytes): the name says what was done ("flip", "truncate-line"),
the detail says where ("offset=123", "line=7"), so `python -m tests.fuzz --only NAME:FILE@DETAIL`
rebuilds exactly the same bytes.  Every choice comes from `random.Random` seeded with a string
built from the seed, the file and the mutation, so adding a file or a mutation never shifts the
cases of another.

Where a mutation aims at an amount or a date, the field is found per format (`FIELDS`): CSV
cells that look like amounts or dates, OFX TRNAMT/DTPOSTED, QIF T/D lines, camt Amt/BookgDt,
MT940 :61: lines.  The aim is the parsers' weakest spot: a value that still looks like a number
after a letter is slipped in ("1e00" is Decimal 1).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

LETTERS = b"eEOlISx"  # e/E make Decimal exponents; O, l, I, S pass for digits to a careless eye
LONG_LINE_BYTES = 50_000_000
WIDE_ROW_COLUMNS = 100_000


@dataclass(frozen=True)
class Mutation:
    """One mutated copy of a file: what was done, where, and the resulting bytes."""

    name: str
    detail: str
    data: bytes


@dataclass(frozen=True)
class Budget:
    """How many cases of each seeded kind one file gets (the slow run raises every figure)."""

    lines: int  # every line end when the file has at most this many lines, else this many of them
    offsets: int  # random truncation points
    flips: int
    fields: int  # letters per field kind (amount, date)
    nuls: int
    big: bool  # the 50 MB line and the 10^5-column row (each costs about a second)
    nesting: int  # elements nested inside the root of an OFX or camt file


DEFAULT = Budget(lines=40, offsets=8, flips=10, fields=3, nuls=3, big=False, nesting=10_000)
SLOW = Budget(lines=400, offsets=60, flips=80, fields=20, nuls=20, big=True, nesting=100_000)


def seeded(seed: int, *parts: str) -> random.Random:
    """A generator that depends on `seed` and `parts` only (str seeds hash with SHA-512: stable)."""
    return random.Random(":".join([str(seed), *parts]))


# -- where the amounts and dates are, per format ------------------------------------------------

Span = tuple[int, int]
_CURRENCY_SIGN = rb"(?:\$|\xa3|\xc2\xa3|\xe2\x82\xac)?"  # $, a latin-1 or UTF-8 pound, a UTF-8 euro
_CSV_AMOUNT = re.compile(rb"[-+]?" + _CURRENCY_SIGN + rb"[-+]?\d{1,3}(?:[.,' ]?\d{3})*(?:[.,]\d{1,2})?")
_CSV_DATE = re.compile(
    rb"(?:\d{1,4}[-./]\d{1,2}[-./]\d{2,4}|(?:19|20)\d{6}|\d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4})(?:[ T][\d:.]+(?: ?[-+]\d{4}|Z)?)?"
)
_DELIMITERS = (b";", b"\t", b"|", b",")  # a comma last: semicolon files write decimal commas


def csv_delimiter(data: bytes) -> bytes:
    """The delimiter of a CSV: the first of ; TAB | that is on most of the first lines, else a comma."""
    lines = data.split(b"\n")[:20]
    return next((d for d in _DELIMITERS[:3] if sum(d in line for line in lines) * 2 > len(lines)), b",")


def csv_cells(data: bytes) -> list[Span]:
    """The span of every cell's text (inside its quotes, without padding spaces)."""
    delimiter = re.escape(csv_delimiter(data))
    cell = re.compile(rb"(?<![^" + delimiter + rb'\n])[ ]*(?:"((?:[^"]|"")*)"|([^' + delimiter + rb'"\r\n]*))')
    spans = []
    for match in cell.finditer(data):
        group = 1 if match.group(1) is not None else 2
        start, end = match.span(group)
        text = data[start:end]
        spans.append((start + len(text) - len(text.lstrip()), end - len(text) + len(text.rstrip())))
    return spans


def _csv_fields(pattern: re.Pattern[bytes]) -> Callable[[bytes], list[Span]]:
    """The cells that `pattern` matches whole; a cell that reads as a date is never an amount."""

    def find(data: bytes) -> list[Span]:
        spans = [(a, b) for a, b in csv_cells(data) if b > a and pattern.fullmatch(data, a, b)]
        return spans if pattern is _CSV_DATE else [(a, b) for a, b in spans if not _CSV_DATE.fullmatch(data, a, b)]

    return find


_OFX_AMOUNT = re.compile(rb"<TRNAMT>\s*([^<\s]+)")
_OFX_DATE = re.compile(rb"<DTPOSTED>\s*([^<\s]+)")
_QIF_AMOUNT = re.compile(rb"^T([-+]?[\d.,' ]*\d)\s*$", re.MULTILINE)  # not the "TBank" of an !Account
_QIF_DATE = re.compile(rb"^D([^\r\n]+)", re.MULTILINE)
_CAMT_AMOUNT = re.compile(rb"<(?:\w+:)?Amt\b[^>]*>\s*([^<\s]+)")
_CAMT_DATE = re.compile(rb"<(?:\w+:)?BookgDt>\s*<(?:\w+:)?Dt(?:Tm)?>\s*([^<\s]+)")
_MT940_LINE = re.compile(rb"^:61:(\d{6})(?:\d{4})?R?[CD][A-Z]?(\d+,\d*)", re.MULTILINE)


def _groups(pattern: re.Pattern[bytes], group: int) -> Callable[[bytes], list[Span]]:
    return lambda data: [m.span(group) for m in pattern.finditer(data)]


FIELDS: dict[str, dict[str, Callable[[bytes], list[Span]]]] = {
    "csv": {"amount": _csv_fields(_CSV_AMOUNT), "date": _csv_fields(_CSV_DATE)},
    "ofx": {"amount": _groups(_OFX_AMOUNT, 1), "date": _groups(_OFX_DATE, 1)},
    "qif": {"amount": _groups(_QIF_AMOUNT, 1), "date": _groups(_QIF_DATE, 1)},
    "camt": {"amount": _groups(_CAMT_AMOUNT, 1), "date": _groups(_CAMT_DATE, 1)},
    "mt940": {"amount": _groups(_MT940_LINE, 2), "date": _groups(_MT940_LINE, 1)},
}


# -- the mutations ------------------------------------------------------------------------------


def mutations(
    data: bytes, fmt: str, key: str, seed: int, budget: Budget, first_row: int | None = None
) -> Iterator[Mutation]:
    """Every mutation of `data` (a file of format `fmt` known as `key`) for this seed and budget.

    `first_row` is the 0-based line of a CSV's first transaction (the parser's own reading of the
    unmutated file): the header is the last non-blank line above it, the wide row goes below it.
    """
    yield from truncate_lines(data, seeded(seed, key, "truncate-line"), budget.lines)
    yield from truncate_offsets(data, seeded(seed, key, "truncate-byte"), budget.offsets)
    yield from flips(data, seeded(seed, key, "flip"), budget.flips)
    for field in ("amount", "date"):
        spans = FIELDS[fmt][field](data)
        yield from letters(data, spans, f"letter-{field}", seeded(seed, key, field), budget.fields)
    yield from nuls(data, seeded(seed, key, "nul"), budget.nuls)
    yield from structural(data, fmt, budget, first_row)


_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def line_ends(data: bytes) -> list[int]:
    """Offsets just after each line ending (CRLF, LF or a lone CR), the end of the file left out."""
    return [m.end() for m in _LINE.finditer(data) if m.end() < len(data)]


def truncate_lines(data: bytes, rng: random.Random, most: int) -> Iterator[Mutation]:
    ends = line_ends(data)
    if len(ends) > most:
        ends = sorted(rng.sample(ends, most))
    for end in ends:
        yield Mutation("truncate-line", f"offset={end}", data[:end])


def truncate_offsets(data: bytes, rng: random.Random, count: int) -> Iterator[Mutation]:
    for end in sorted(rng.sample(range(1, len(data)), min(count, len(data) - 1))):
        yield Mutation("truncate-byte", f"offset={end}", data[:end])


def flips(data: bytes, rng: random.Random, count: int) -> Iterator[Mutation]:
    """XOR 0x80 at seeded offsets, half of them on digits (where a silent change costs money)."""
    digits = [i for i, byte in enumerate(data) if 0x30 <= byte <= 0x39]
    anywhere = rng.sample(range(len(data)), min(count - count // 2, len(data)))
    on_digits = rng.sample(digits, min(count // 2, len(digits)))
    for offset in sorted(set(anywhere + on_digits)):
        flipped = bytes([data[offset] ^ 0x80])
        yield Mutation("flip", f"offset={offset}", data[:offset] + flipped + data[offset + 1 :])


def letters(data: bytes, spans: list[Span], name: str, rng: random.Random, count: int) -> Iterator[Mutation]:
    """A letter slipped between two characters of a field ("12.34" -> "1e2.34")."""
    inner = [span for span in spans if span[1] - span[0] >= 2]
    for start, end in sorted(rng.sample(inner, min(count, len(inner)))):
        at = rng.randrange(start + 1, end)
        letter = bytes([rng.choice(LETTERS)])
        yield Mutation(name, f"offset={at},letter={letter.decode()}", data[:at] + letter + data[at:])


def nuls(data: bytes, rng: random.Random, count: int) -> Iterator[Mutation]:
    for at in sorted(rng.sample(range(len(data)), min(count, len(data)))):
        yield Mutation("nul", f"offset={at}", data[:at] + b"\x00" + data[at:])


def structural(data: bytes, fmt: str, budget: Budget, first_row: int | None) -> Iterator[Mutation]:
    """The shape attacks: repeated header, huge line and row, deep nesting, entity bombs."""
    if fmt == "csv" and first_row is not None:
        yield from duplicated_header(data, first_row)
    if budget.big:
        yield long_line(data)
        if fmt == "csv" and first_row is not None:
            yield wide_row(data, first_row)
    if fmt in ("ofx", "camt"):
        yield from deep_nesting(data, budget.nesting)
    if fmt == "camt" or (fmt == "ofx" and is_xml(data)):
        yield from entity_bombs(data, fmt)


# -- CSV shape ---------------------------------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    """Lines as the parsers count them (CRLF, LF or a lone CR), each with its line ending."""
    return _LINE.findall(data)


def header_row(lines: list[bytes], first_row: int) -> int | None:
    """The last non-blank line before the first transaction: the column names (None: headerless)."""
    if first_row >= len(lines):
        return None
    return next((i for i in range(first_row - 1, -1, -1) if lines[i].strip()), None)


def _with_newline(line: bytes) -> bytes:
    return line if line.endswith((b"\n", b"\r")) else line + b"\n"


def duplicated_header(data: bytes, first_row: int) -> Iterator[Mutation]:
    """The header line again: right after itself, half way through the rows, and as the last line."""
    lines = _lines(data)
    header = header_row(lines, first_row)
    if header is None:
        return
    copy = _with_newline(lines[header])
    middle = (header + 1 + len(lines)) // 2
    for where, at in (("after", header + 1), ("middle", middle), ("end", len(lines))):
        body = [_with_newline(line) for line in lines[:at]] if where == "end" else lines[:at]
        yield Mutation("dup-header", f"where={where},line={at + 1}", b"".join(body + [copy] + lines[at:]))


def _middle_offset(data: bytes) -> int:
    ends = line_ends(data)
    return ends[len(ends) // 2] if ends else len(data)


def long_line(data: bytes) -> Mutation:
    """A 50 MB line of letters inserted after the middle line."""
    at = _middle_offset(data)
    line = (b"long line " * (LONG_LINE_BYTES // 10))[:LONG_LINE_BYTES] + b"\n"
    return Mutation("long-line", f"offset={at}", data[:at] + line + data[at:])


def wide_row(data: bytes, first: int) -> Mutation:
    """The first transaction's cells repeated to 10^5 columns, as a row right below it."""
    lines = _lines(data)
    row = lines[first].rstrip(b"\r\n")
    delimiter = max(b",;\t|", key=row.count)
    cells = row.split(bytes([delimiter]))
    wide = bytes([delimiter]).join(cells[i % len(cells)] for i in range(WIDE_ROW_COLUMNS)) + b"\n"
    at = sum(len(line) for line in lines[: first + 1])
    return Mutation("wide-row", f"line={first + 2}", _with_newline(data[:at]) + wide + data[at:])


# -- XML and SGML shape -------------------------------------------------------------------------

_ROOT_START = re.compile(rb"<(?![?!/])[^>]*>")


def is_xml(data: bytes) -> bool:
    return b"<?xml" in data[:512]


def deep_nesting(data: bytes, depth: int) -> Iterator[Mutation]:
    """`depth` nested elements just inside the root (OFX SGML gets the same aggregates)."""
    root = _ROOT_START.search(data)
    if root is None:
        return
    nest = b"<NEST>" * depth + b"</NEST>" * depth
    yield Mutation("deep-nesting", f"depth={depth},offset={root.end()}", data[: root.end()] + nest + data[root.end() :])


BILLION_LAUGHS = (
    b'<!DOCTYPE bomb [\n<!ENTITY lol0 "lol">\n'
    + b"".join(b'<!ENTITY lol%d "%s">\n' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    + b"]>\n"
)
EXTERNAL_ENTITY = b'<!DOCTYPE bomb [\n<!ENTITY lol9 SYSTEM "file:///etc/hostname">\n]>\n'


def entity_bombs(data: bytes, fmt: str) -> Iterator[Mutation]:
    """A DOCTYPE declaring the entity before the root, and a reference to it as the first amount."""
    root = _ROOT_START.search(data)
    amounts = FIELDS[fmt]["amount"](data)
    if root is None or not amounts:
        return
    start, end = amounts[0]
    for name, doctype in (("billion-laughs", BILLION_LAUGHS), ("external-entity", EXTERNAL_ENTITY)):
        body = data[: root.start()] + doctype + data[root.start() : start] + b"&lol9;" + data[end:]
        yield Mutation(name, f"amount-offset={start}", body)
