"""Storing a batch by column (importer/store/rows.py `batch_columns`) against its reference, the
row of each of the batch's transactions (`as_stored`), on every sample file as its parser streams it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.core.batch import TxBatch
from importer.core.errors import ImporterError
from importer.parsers import ParseOptions, identify
from importer.parsers.base import StatementFile
from importer.parsers.csv.streaming import RawCells
from importer.parsers.stream import Rows
from importer.rules import load_rules
from importer.store.rows import TXN_COLUMNS, as_stored, batch_columns, encoded_rows, raw_text
from importer.store.sqlite import State
from tests.corpus import corpus_files
from tests.golden import ROOT, sample_files

SAMPLES = sorted(p for p in (ROOT / "samples").rglob("*") if p.is_file() and not p.name.endswith((".md", ".yaml")))
RULES = load_rules([ROOT / "rules"])


def streamed(path: Path) -> list[TxBatch]:
    """The file's batches as the import sees them: streamed, named and categorised."""
    options = ParseOptions(account="Checking", currency="EUR")
    with StatementFile(path, options) as source:
        events = list(identify(path, options).stream(source, options))
    batches = [event.batch for event in events if isinstance(event, Rows)]
    return [RULES.apply_batch(_named(b))[0] for b in batches]


def _named(batch: TxBatch) -> TxBatch:
    return replace(batch, external_id=[f"v2:{batch.path[-8:]}:{batch.first_index + i}" for i in range(len(batch))])


def by_row(batch: TxBatch, rows: list[int], path: str | None, columns: list[str] | None) -> list[tuple[object, ...]]:
    return list(zip(*batch_columns(batch, rows, path, columns)))


def reference(batch: TxBatch, rows: list[int], file_path: str, columns: list[str] | None) -> list[tuple[object, ...]]:
    return [as_stored(batch.row(i), file_path, columns) for i in rows]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_a_batch_by_column_is_each_row_as_stored(path: Path) -> None:
    batches = streamed(path)
    assert batches, f"{path} gave no rows"
    for batch in batches:
        columns = list(batch.column("raw")[0]) or None
        every, some = list(range(len(batch))), list(range(0, len(batch), 2))
        assert by_row(batch, every, None, columns) == reference(batch, every, batch.path, columns)
        assert by_row(batch, some, None, columns) == reference(batch, some, batch.path, columns)
        # Rows of a copy of the file elsewhere keep their own path; cells named otherwise, whole.
        assert by_row(batch, some, batch.path, ["other"]) == reference(batch, some, "elsewhere.csv", ["other"])


def test_a_csv_row_stores_its_cells_by_column_with_the_repeated_texts_as_numbers() -> None:
    batch = streamed(ROOT / "samples" / "csv" / "chase" / "chase-checking-2026-10.csv")[0]
    columns = list(batch.column("raw")[0])
    row = by_row(batch, [0], None, columns)[0]
    assert columns == ["Details", "Posting Date", "Description", "Amount", "Type", "Balance", "Check or Slip #"]
    assert row[TXN_COLUMNS.split(", ").index("raw")] == '["DEBIT","10/30/2026",0,1,"DEBIT_CARD",2,""]'


def test_equal_amounts_written_differently_keep_their_own_text(tmp_path: Path) -> None:
    """Decimal("5.0") == Decimal("5.00"): a text worked out once per distinct value would store one
    of them with the other's digits."""
    txn = streamed(ROOT / "samples" / "csv" / "chase" / "chase-checking-2026-10.csv")[0].row(0)
    txns = [
        txn.model_copy(update={"amount": Decimal(a), "external_id": f"v2:{n}"}) for n, a in enumerate(("5.0", "5.00"))
    ]
    batch = TxBatch.of(txns)
    assert [str(a) for a in batch.amount] == ["5.0", "5.00"] and batch.amount[0] == batch.amount[1]
    with State(tmp_path / "state.sqlite") as state:
        state.store_batch(batch, [0, 1], state.begin_run("run"), "f" * 64)
        assert state.db.execute("SELECT amount FROM transactions ORDER BY rowid").fetchall() == [("5.0",), ("5.00",)]


# A raw cells column by column (csv/streaming.py `RawCells`, what the CSV reader's batches after the
# first hold) is encoded without a dict per row: checked against the rows' dicts on every sample
# and corpus CSV, each batch's cells given as columns.
CSVS = [p for p in sample_files() if p.suffix.lower() in (".csv", ".txt", ".tsv")] + [
    f.path for f in corpus_files("csv")
]


def as_cell_columns(batch: TxBatch) -> TxBatch:
    """`batch` with its raw cells held as `RawCells`, as the CSV reader holds a batch after its first."""
    raws = list(batch.column("raw"))
    names = list(raws[0])
    assert all(list(raw) == names for raw in raws), "a CSV file's rows all have its columns"
    columns = [[raw[name] for raw in raws] for name in names]
    return replace(batch, raw=RawCells(names, columns, range(len(raws))))


def csv_batches(path: Path) -> list[TxBatch]:
    try:
        return streamed(path)
    except ImporterError as exc:  # a corpus file the reader refuses (its own tests pin why)
        pytest.skip(f"not read: {exc}")


@pytest.mark.parametrize("path", CSVS, ids=lambda p: p.name)
def test_cells_held_as_columns_store_as_each_row_as_stored(path: Path) -> None:
    for batch in csv_batches(path):
        columns = list(batch.column("raw")[0]) or None
        by_column = as_cell_columns(batch)
        every, some = list(range(len(batch))), list(range(len(batch) - 1, -1, -2))
        assert by_row(by_column, every, None, columns) == reference(batch, every, batch.path, columns)
        assert by_row(by_column, some, None, columns) == reference(batch, some, batch.path, columns)
        assert by_row(by_column, some, batch.path, ["other"]) == reference(batch, some, "elsewhere.csv", ["other"])


# Cells drawn mostly from a row's own stored texts, so that columns equal to one of them in every
# row, in some rows, to several of them at once, and to none, all occur.
_TEXTS = st.sampled_from(["12.50", "-3", "Shop", "", 'say "hi"', "ü\n\\"])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda rows: st.tuples(
            st.lists(st.lists(_TEXTS, min_size=rows, max_size=rows), min_size=1, max_size=5),
            st.lists(st.tuples(_TEXTS, _TEXTS, st.one_of(st.none(), _TEXTS)), min_size=rows, max_size=rows),
        )
    )
)
def test_encoding_cells_by_column_equals_raw_text_of_each_row(
    case: tuple[list[list[str]], list[tuple[str, str, str | None]]],
) -> None:
    cell_columns, stored_rows = case
    names = [f"c{k}" for k in range(len(cell_columns))]
    stored = tuple(list(column) for column in zip(*stored_rows))
    expected = [raw_text(dict(zip(names, row)), names, texts) for row, texts in zip(zip(*cell_columns), stored_rows)]
    assert encoded_rows(cell_columns, stored) == expected  # type: ignore[arg-type]


def test_a_row_of_cells_held_as_columns_is_its_dict() -> None:
    raw = RawCells(["a", "b"], [["1", "2", "3"], ["x", "y", "z"]], range(3))
    assert raw.names == ["a", "b"]
    assert raw.cell_columns([2, 0]) == [["3", "1"], ["z", "x"]]
    assert raw[1:].cell_columns([1]) == [["3"], ["z"]]
    assert raw[::2].cell_columns(range(2)) == [["1", "3"], ["x", "z"]]
    assert raw.cell_columns(range(3)) == [["1", "2", "3"], ["x", "y", "z"]]


def test_rows_taken_from_a_csv_batch_keep_their_cells_as_columns_and_store_the_same() -> None:
    # A batch without the rows a skip rule dropped (TxBatch.take) keeps the reader's columns, so
    # the store still encodes by column; the rows stored equal those of the whole batch, taken.
    [batch] = map(as_cell_columns, streamed(ROOT / "samples" / "csv" / "chase" / "chase-checking-2026-10.csv"))
    columns = list(batch.column("raw")[0])
    kept = [len(batch) - 1, 0, 3]
    taken = batch.take(kept)
    assert isinstance(taken.raw, RawCells) and list(taken.raw) == [batch.raw[i] for i in kept]  # type: ignore[index]
    assert by_row(taken, [0, 1, 2], None, columns) == by_row(batch, kept, None, columns)
    assert by_row(taken, [0, 1, 2], None, columns) == reference(batch, kept, batch.path, columns)
    assert taken.raw.column("Details") == [batch.raw[i]["Details"] for i in kept]  # type: ignore[index]
