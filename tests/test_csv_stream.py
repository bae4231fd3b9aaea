"""The one-pass CSV reader (importer/parsers/csv/streaming.py) against the whole-file reference.

Every sample and corpus CSV is streamed with a prefix of a few KiB, so that the rows after it go
through the batch path, and must give the statement `parse` gives, or the same error.  Generated
Chase exports of several batches show that rows come out before the file is fully read, and that
a bad cell, a broken balance or a cut-off end far from the prefix is reported at its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.generate import write_chase_csv
from importer.core.errors import BalanceError, ImporterError, ParseError, TruncatedError
from importer.core.models import Statement
from importer.parsers.base import ParseOptions, StatementFile
from importer.parsers.csv import streaming
from importer.parsers.csv.reader import CsvParser
from importer.parsers.stream import Rows, StatementEnd, StatementHead, collect
from tests.corpus import CorpusFile, corpus_params

SAMPLES = sorted(p for p in (Path(__file__).parent.parent / "samples" / "csv").rglob("*") if p.is_file())
# Files a 4 KiB prefix reads otherwise than the whole file (with the real 1 MiB prefix they are
# read whole, so the stream gives exactly `parse`'s result), each with the reason.
SMALL_PREFIX_DIFFERS = {
    # Two faults: no currency anywhere, and an empty amount after the first 4 KiB.  Whole, the
    # amount column is checked before the currency; streamed, the prefix's rows meet the missing
    # currency first.  Both are refusals naming the file.
    "csv/bank2ynab/test_delimiter_tab.csv": "another of its two faults is reported first",
    "csv/bank2ynab/test_row_format_default.csv": "another of its two faults is reported first",
}
# Files refused as a whole whose first 4 KiB look like another table (a ragged row further down,
# or text that is no statement): the stream refuses them too, for the layout its prefix shows.
for _name in (
    "bank2ynab/test_headers.csv",
    "ofxstatement-dutch/icscards.txt",
    "ofxstatement-dutch/icscards_big.txt",
    "ofxstatement-dutch/icscards_equal_transactions.txt",
    "ofxstatement-dutch/icscards_error.txt",
    "ofxstatement-russian/sberbank_visa.txt",
):
    SMALL_PREFIX_DIFFERS["csv/" + _name] = "refused whole, refused for another reason on its first 4 KiB"


def _streamed(path: Path, options: ParseOptions | None = None) -> list[Statement]:
    options = options or ParseOptions()
    with StatementFile(path, options) as source:
        return collect(CsvParser().stream(source, options))


def _outcome(read: object, path: Path) -> object:
    try:
        return read(path, ParseOptions())  # type: ignore[operator]
    except ImporterError as exc:
        return f"{type(exc).__name__}: {exc}"


def _same_as_parse(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "PREFIX_BYTES", 4096)
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 1000)  # pieces that cut lines and quoted fields
    expected = _outcome(CsvParser().parse, path)
    got = _outcome(lambda p, o: _streamed(p, o), path)
    assert got == expected


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_sample_streams_to_the_statement_parse_reads(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _same_as_parse(path, monkeypatch)


@pytest.mark.parametrize("entry", corpus_params("csv"))
def test_every_corpus_csv_streams_to_the_statement_parse_reads(
    entry: CorpusFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    if entry.relative not in SMALL_PREFIX_DIFFERS:
        _same_as_parse(entry.path, monkeypatch)
        return
    # With the real prefix such a small file is read whole: the very same refusal.
    assert isinstance(_outcome(CsvParser().parse, entry.path), str)
    assert _outcome(lambda p, o: _streamed(p, o), entry.path) == _outcome(CsvParser().parse, entry.path)
    monkeypatch.setattr(streaming, "PREFIX_BYTES", 4096)
    assert isinstance(_outcome(lambda p, o: _streamed(p, o), entry.path), str)  # refused on 4 KiB too


@pytest.fixture(scope="module")
def chase(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chase export of 50,000 rows (about 4.3 MB): three batches, most of it after the prefix."""
    return write_chase_csv(tmp_path_factory.mktemp("stream") / "chase-50000.csv", 50_000)


def test_rows_come_out_in_batches_before_the_file_is_read(chase: Path) -> None:
    options, seen = ParseOptions(), []
    with StatementFile(chase, options) as source:
        for event in CsvParser().stream(source, options):
            seen.append((type(event), source.bytes_read, len(event.batch) if isinstance(event, Rows) else 0))
    rows = [(read, count) for kind, read, count in seen if kind is Rows]
    assert seen[0][0] is StatementHead and seen[-1][0] is StatementEnd
    assert len(rows) >= 3 and sum(count for _, count in rows) == 50_000
    assert rows[0][1] <= 20_000 and rows[0][0] < chase.stat().st_size // 2
    assert source.sha256() == __import__("hashlib").sha256(chase.read_bytes()).hexdigest()


def test_a_generated_file_streams_to_the_statement_parse_reads(chase: Path) -> None:
    assert _streamed(chase) == CsvParser().parse(chase, ParseOptions())


def _with_line(path: Path, tmp_path: Path, number: int, change: object) -> Path:
    """A copy of `path` whose line `number` (1-based) is `change(line)`."""
    lines = path.read_text().split("\n")
    lines[number - 1] = change(lines[number - 1])  # type: ignore[operator]
    copy = tmp_path / path.name
    copy.write_text("\n".join(lines))
    return copy


def _cell(line: str, index: int, value: str) -> str:
    """`line` of the Chase layout (…,Amount,Type,Balance,Check,<empty>) with cell `index` (from the
    end) set to `value`; the description before them may hold commas, so split from the right."""
    cells = line.rsplit(",", 5)
    cells[index] = value
    return ",".join(cells)


def _errors(path: Path) -> tuple[ImporterError, ImporterError]:
    with pytest.raises(ImporterError) as streamed:
        _streamed(path)
    with pytest.raises(ImporterError) as whole:
        CsvParser().parse(path, ParseOptions())
    return streamed.value, whole.value


def test_a_bad_amount_far_after_the_prefix_is_an_error_at_its_line(chase: Path, tmp_path: Path) -> None:
    bad = _with_line(chase, tmp_path, 40_001, lambda line: _cell(line, -5, "-1.2.3"))
    streamed, whole = _errors(bad)
    assert isinstance(streamed, ParseError) and streamed.line == 40_001
    assert str(streamed) == str(whole) and "is not a number" in str(streamed)


def test_a_balance_broken_far_after_the_prefix_is_an_error_at_its_line(chase: Path, tmp_path: Path) -> None:
    broken = _with_line(chase, tmp_path, 30_000, lambda line: _cell(line, -3, "1.00"))
    streamed, whole = _errors(broken)
    assert isinstance(streamed, BalanceError) and streamed.line in (29_999, 30_000, 30_001)
    assert str(streamed) == str(whole)


def test_a_large_file_cut_mid_row_is_refused_with_the_complete_rows_counted(chase: Path, tmp_path: Path) -> None:
    data = chase.read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 100) + 12])  # the last row's first 11 bytes
    streamed, whole = _errors(cut)
    assert isinstance(streamed, TruncatedError) and str(streamed) == str(whole)
    assert "the 49998 complete rows" in str(streamed)


def test_a_footer_after_many_batches_is_left_out(chase: Path, tmp_path: Path) -> None:
    footed = tmp_path / "footed.csv"
    footed.write_text(chase.read_text() + "\nTotal,50000 rows\n")
    statements = _streamed(footed)
    assert len(statements[0].transactions) == 50_000
    assert statements == CsvParser().parse(footed, ParseOptions())


def test_a_blank_amount_far_after_the_prefix_is_an_error_at_its_line(chase: Path, tmp_path: Path) -> None:
    """The amount column of a batch is read in one pass only when every cell is a plain number; a
    blank one (with no balance beside it, so it is no opening-balance line) takes the slow path."""
    blank = _with_line(chase, tmp_path, 45_001, lambda line: _cell(_cell(line, -5, "  "), -3, ""))
    streamed, whole = _errors(blank)
    assert isinstance(streamed, ParseError) and streamed.line == 45_001
    assert str(streamed) == str(whole) and "the amount cell is empty" in str(streamed)


def test_odd_rows_after_the_prefix_read_as_parse_reads_them(chase: Path, tmp_path: Path) -> None:
    """Each step's checks in C have their slow path: a blank line, an amount that is not a plain
    number (" -12.50" reads as -12.50), a description holding a line end (lines shift by one)."""
    lines = chase.read_text().split("\n")
    lines[25_000] = _cell(lines[25_000], -5, " " + lines[25_000].rsplit(",", 5)[-5])
    lines[30_000] = lines[30_000].replace(" ", "\nSECOND LINE ", 1)
    lines.insert(35_000, "")
    odd = tmp_path / "odd.csv"
    odd.write_text("\n".join(lines))
    statement = _streamed(odd)
    assert statement == CsvParser().parse(odd, ParseOptions())
    rows = statement[0].transactions
    assert len(rows) == 50_000 and "\nSECOND LINE " in rows[29_999].description
    assert rows[29_999].source.line == 30_001 and rows[30_000].source.line == 30_003 and rows[-1].source.line == 50_003


def test_raw_cells_give_each_row_its_cells_by_name_in_any_slice() -> None:
    names = ["Date", "Description", "Amount"]
    columns = [["10/01/2026", "10/02/2026", "10/03/2026"], ["COFFEE", "RENT", "SHOP"], ["-3.10", "-900.00", "-12"]]
    raw = streaming.RawCells(names, columns, range(3))
    expected = [dict(zip(names, row)) for row in zip(*columns)]
    assert list(raw) == expected
    assert raw[-1] == {"Date": "10/03/2026", "Description": "SHOP", "Amount": "-12"}
    assert list(raw[1:]) == expected[1:]
    assert list(raw[::2]) == [expected[0], expected[2]]
    assert list(raw[::-1]) == expected[::-1]
    assert list(streaming.RawCells([], [], range(2))) == [{}, {}]
