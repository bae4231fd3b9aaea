"""The csv module's read of a small table against pandas' (importer/parsers/csv/detect.py).

`read_grid_plain` must give exactly the cells, the rows and the blank rows dropped that pandas'
C parser (`read_grid_pandas`, the reference) gives, or refuse the table so that pandas reads it;
and a file read either way must come out the same: the layout decided (profile, columns, header,
delimiter, evidence, the rows' lines) and every parsed value, or the same error.  Checked on every
sample CSV and every corpus CSV (IMPORTER_CORPUS).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.core.errors import ImporterError
from importer.parsers.base import ParseOptions
from importer.parsers.csv import detect as csv_detect
from importer.parsers.csv.detect import Grid, Layout, detect, locate_table, read_grid_pandas, read_grid_plain
from importer.parsers.csv.reader import CsvParser
from importer.parsers.csv.table import Table, scan
from tests.corpus import corpus_files
from tests.golden import ROOT, sample_files

CSVS = [p for p in sample_files() if p.suffix.lower() in (".csv", ".txt", ".tsv")] + [
    f.path for f in corpus_files("csv")
]


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _grids(path: Path) -> tuple[Grid | None, Grid | str] | None:
    """(the csv module's grid or None when it leaves the table to pandas, pandas' grid or its error);
    None when the file has no table to read."""
    try:
        _, _, text, records, table = locate_table(path, ParseOptions())
    except ImporterError:
        return None
    start, stop = csv_detect._table_span(text.text, table, records)
    plain = read_grid_plain(text.text[start:stop], table)
    try:
        return plain, read_grid_pandas(path, text.text, table, records)
    except ImporterError as exc:
        return plain, str(exc)


def test_the_csv_module_reads_every_table_as_pandas_does_or_leaves_it_to_pandas() -> None:
    assert len(CSVS) > 30
    plain_read, left_to_pandas = [], []
    for path in CSVS:
        grids = _grids(path)
        if grids is None:
            continue
        plain, reference = grids
        if plain is None:
            left_to_pandas.append(_name(path))
            continue
        assert plain == reference, path
        plain_read.append(_name(path))
    # Every shipped sample is read without pandas; only damaged corpus files fall back to it.
    assert not [name for name in left_to_pandas if name.startswith("samples/")]
    assert len(plain_read) > 30 and len(left_to_pandas) * 10 < len(plain_read), left_to_pandas


def _decided(path: Path) -> tuple[object, ...] | str:
    """What detect decides for `path` and every value the whole-file reader reads, or the error."""
    try:
        layout = detect(path, ParseOptions())
        decisions = _layout(layout)
        return (*decisions, CsvParser().parse(path, ParseOptions()))
    except ImporterError as exc:
        return f"{type(exc).__name__}: {exc}"


def _layout(layout: Layout) -> tuple[object, ...]:
    table: Table = layout.table
    return (
        layout.profile.model_dump(),
        layout.named,
        table,
        layout.grid,
        layout.lines,
        layout.evidence,
        layout.guessed,
        layout.preamble_account,
    )


@pytest.mark.parametrize("path", CSVS, ids=_name)
def test_a_file_read_without_pandas_decides_and_reads_exactly_as_with_it(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _decided(path)
    monkeypatch.setattr(csv_detect, "PLAIN_CHARS", -1)  # every table to pandas, as before
    assert _decided(path) == plain


_CELLS = st.sampled_from(["", "a", "12.50", '"q, "" d"', '"two\nlines"', " x ", '"', 'a"b', '"a"b', "\r", "é"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_CELLS, min_size=0, max_size=5), min_size=1, max_size=8), st.booleans())
def test_generated_tables_read_as_pandas_reads_them_or_go_to_pandas(rows: list[list[str]], trailing: bool) -> None:
    """Short, long and blank rows, quotes open, doubled or stray, line ends inside and outside quotes."""
    text = "".join(",".join(row) + "\n" for row in rows)
    try:
        records = scan(Path("generated.csv"), text, ",")
    except ImporterError:
        return  # refused before any cell is read, by either reader
    table = Table(",", 3, None, None, 0, len(records.lines), 0, 0, trailing)
    plain = read_grid_plain(text, table)
    try:
        reference: Grid | str = read_grid_pandas(Path("generated.csv"), text, table, records)
    except ImporterError as exc:
        reference = str(exc)
    assert plain is None or plain == reference
