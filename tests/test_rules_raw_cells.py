"""Rules on `raw.<column>` read a CSV batch's lazy cells a column at a time (columns.py
`CellColumns`), and get what the rows' dicts hold: the same cells, the same chains as the reference."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.generate import write_chase_csv
from importer.core.batch import CellColumns, TxBatch
from importer.parsers import ParseOptions
from importer.parsers.base import StatementFile
from importer.parsers.csv import streaming
from importer.parsers.csv.reader import CsvParser
from importer.parsers.stream import Rows
from importer.rules import load_rules
from importer.rules.columns import BatchColumns
from importer.rules.rows import Rows as RowViews


@pytest.fixture
def lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TxBatch:
    """The rows of a generated Chase export after its prefix (shrunk to 4 KiB), as lazy cells."""
    monkeypatch.setattr(streaming, "PREFIX_BYTES", 4096)
    path, options = write_chase_csv(tmp_path / "chase.csv", 400), ParseOptions()
    with StatementFile(path, options) as source:
        batches = [e.batch for e in CsvParser().stream(source, options) if isinstance(e, Rows)]
    # The prefix's rows and the rows after it: both held as lazy cells; the second is the larger.
    assert all(isinstance(batch.raw, streaming.RawCells) for batch in batches) and len(batches) == 2
    batch = batches[-1]
    return replace(batch, account="chase-checking")


def test_a_column_of_lazy_cells_is_what_each_rows_dict_holds(lazy: TxBatch) -> None:
    raw = lazy.raw
    assert isinstance(raw, streaming.RawCells) and isinstance(raw, CellColumns) and len(raw) > 300
    assert raw.column("Type") == [row.get("Type") for row in raw]
    assert set(raw.column("Type") or ()) == {"DEBIT_CARD"} and set(raw.column("Details") or ()) == {"DEBIT", "CREDIT"}
    assert raw[2:70].column("Type") == [row["Type"] for row in raw[2:70]] == (raw.column("Type") or [])[2:70]
    assert raw[1::3].column("Details") == [row["Details"] for row in raw[1::3]]
    assert raw.column("No such column") is None
    assert not isinstance([{"Type": "ACH_CREDIT"}], CellColumns)  # a list of dicts is read row by row


def test_the_batch_matcher_reads_the_same_raw_column_either_way(lazy: TxBatch) -> None:
    as_dicts = replace(lazy, raw=list(lazy.raw or ()))
    columns, reference = BatchColumns(lazy, RowViews(lazy)), BatchColumns(as_dicts, RowViews(as_dicts))
    assert columns.raw("raw.Type") == reference.raw("raw.Type")
    assert columns.raw("raw.Nope") == reference.raw("raw.Nope") == [None] * len(lazy)
    rules = load_rules(sorted(Path("rules").glob("*.yaml")), "USD")
    out, skips = rules.apply_batch(lazy)
    applied = rules.apply_all(list(lazy.transactions()))
    assert [t.rule_id for t in applied.kept] == [r for r, skip in zip(out.column("rule_id"), skips) if not skip]
    assert [t.category for t in applied.kept] == [c for c, skip in zip(out.column("category"), skips) if not skip]


def test_a_raw_test_left_open_reads_only_the_rows_it_runs_on(lazy: TxBatch) -> None:
    columns, whole = BatchColumns(lazy, RowViews(lazy)), BatchColumns(lazy, RowViews(lazy))
    rows = [0, 5, 17, len(lazy) - 1]
    assert columns.text_at("raw.Details", rows) == [whole.text("raw.Details")[i] for i in rows]
    assert columns.text_at("raw.Nope", rows) == ["", "", "", ""]
    assert not any(key.startswith(("raw.", "text:raw.")) for key in columns.read)  # no column read whole
    assert columns.text_at("description", rows) == [lazy.description[i] for i in rows]
