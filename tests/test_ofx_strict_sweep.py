"""Damaged OFX files never give a wrong number: every sample cut, flipped and garbled, read by the parser.

Each damaged copy must give either a clean InputError naming the file, or statements whose every
transaction (date, amount as written, currency, FITID) is one of the undamaged file's.  A
TruncatedError's partial statements are held to the same rule, since --allow-partial imports them.
Whenever the fast path reads a damaged copy, it must read it as the reference does; the streaming
reader always must (the same statements, or the same error and partial statements).
The damage: a cut at every tag boundary and at 200 random bytes (seeded), 200 single bytes
XOR 0x80 (seeded), and a letter put inside the digits of every TRNAMT.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.core.errors import InputError, TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions
from importer.parsers.ofx.reader import OfxParser, fast_statements, reference_statements
from importer.parsers.ofx.text import decode
from tests.corpus import corpus_files
from tests.streamed import outcome as streamed_outcome
from tests.streamed import streamed
from tests.test_ofx_fast import outcome

SAMPLES = sorted(p for p in Path("samples/ofx").rglob("*") if p.suffix.lower() in {".ofx", ".qfx", ".qbo"})
# OFX 2.x (XML) files of the corpus, since the samples are all SGML.
XML_CORPUS = (
    "ofx/ofxtools/stmtrs.ofx",
    "ofx/asgrim-ofxparser/ofx-multiple-accounts-xml.ofx",
    "ofx/ofxparse/suncorp.ofx",
)
RANDOM_CUTS = RANDOM_FLIPS = 200

Fact = tuple[object, str, str, str | None]


def _files() -> list[Path]:
    corpus = [entry.path for entry in corpus_files("ofx") if entry.relative in XML_CORPUS]
    return SAMPLES + sorted(corpus)


def facts(statements: tuple[Statement, ...] | list[Statement]) -> list[Fact]:
    """What must never be wrong about a transaction; the amount as written, so 3.1 is not 3.10."""
    return [(t.date, str(t.amount), t.currency, t.bank_id) for s in statements for t in s.transactions]


def damaged(data: bytes, seed: str) -> Iterator[tuple[str, bytes]]:
    """(what was done, the damaged bytes) for every kind of damage in the module docstring."""
    rng = random.Random(seed)
    boundaries = {m.start() for m in re.finditer(rb"<", data)} | {m.end() for m in re.finditer(rb">", data)}
    for at in sorted(boundaries | {rng.randrange(len(data)) for _ in range(RANDOM_CUTS)}):
        yield f"cut at byte {at}", data[:at]
    for at in (rng.randrange(len(data)) for _ in range(RANDOM_FLIPS)):
        yield f"byte {at} flipped", data[:at] + bytes([data[at] ^ 0x80]) + data[at + 1 :]
    for match in re.finditer(rb"<TRNAMT>\s*[-+]?[0-9]([0-9.,]+)", data):
        at = match.start(1) + len(match.group(1)) // 2
        yield f"letter in the TRNAMT at byte {match.start()}", data[:at] + b"x" + data[at:]


def read(path: Path) -> list[Statement] | InputError:
    try:
        return OfxParser().parse(path, ParseOptions())
    except InputError as error:
        return error


@pytest.mark.parametrize("source", _files(), ids=lambda p: p.name)
def test_damaged_copies_are_refused_or_read_right(source: Path, tmp_path: Path) -> None:
    whole = read(source)
    assert not isinstance(whole, InputError), whole
    allowed = set(facts(whole))
    copy = tmp_path / source.name
    refused = 0
    for damage, data in damaged(source.read_bytes(), source.name):
        copy.write_bytes(data)
        result = read(copy)
        if isinstance(result, InputError):
            refused += 1
            assert source.name in str(result), damage
            statements: list[Statement] | tuple[Statement, ...] = (
                result.partial if isinstance(result, TruncatedError) else ()
            )
        else:
            statements = result
        wrong = [fact for fact in facts(statements) if fact not in allowed]
        assert not wrong, f"{damage}: {wrong}"
        assert_same_both_ways(copy, data, damage)
    assert refused > 0


def assert_same_both_ways(path: Path, data: bytes, damage: str) -> None:
    text = decode(data)
    fast = fast_statements(path, text, ParseOptions())
    if fast is not None:
        assert outcome(lambda: fast) == outcome(lambda: reference_statements(path, text, ParseOptions())), damage
    reference = streamed_outcome(lambda: reference_statements(path, text, ParseOptions()))
    assert streamed(path, ParseOptions()) == reference, damage


def test_every_cut_inside_a_statement_is_refused_as_truncated() -> None:
    """A cut anywhere from the first "<STMTTRN>" to the last "</OFX>" is never read as a whole
    file, by either path (the texts are read in memory: ~2,500 files would be slow to write)."""
    source = Path("samples/ofx/checking-2026-10.ofx")
    text = decode(source.read_bytes())
    for at in range(text.index("<STMTTRN>"), text.rindex("</OFX>") + 5):
        assert fast_statements(source, text[:at], ParseOptions()) is None, at
        with pytest.raises(TruncatedError):
            reference_statements(source, text[:at], ParseOptions())
