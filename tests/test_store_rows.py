"""Storing a batch by column (importer/store/rows.py `batch_columns`) against its reference, the
row of each of the batch's transactions (`as_stored`), on every sample file as its parser streams it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.batch import TxBatch
from importer.parsers import ParseOptions, identify
from importer.parsers.base import StatementFile
from importer.parsers.stream import Rows
from importer.rules import load_rules
from importer.store.rows import TXN_COLUMNS, as_stored, batch_columns
from importer.store.sqlite import State
from tests.golden import ROOT

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
