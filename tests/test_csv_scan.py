"""The single-line fast path of `scan` gives exactly the record-wise scan's Records."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.parsers.csv import table as csv_table
from importer.parsers.csv.table import scan, scan_records

CELL = st.sampled_from(["", "a", "1,50", '"x, y"', '""', '"multi\nline"', " ", '"q""uote"', "12.00", 'a"b'])
LINE = st.lists(CELL, min_size=0, max_size=5).map(",".join)
TEXT = st.lists(LINE, min_size=1, max_size=40).map("\n".join).flatmap(lambda t: st.sampled_from([t, t + "\n"]))


@pytest.mark.parametrize("sniff", [2, 5, 400])
def test_fast_scan_equals_the_record_wise_scan(sniff: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Few head and tail records, so generated tables have records in neither.
    monkeypatch.setattr(csv_table, "SNIFF_RECORDS", sniff)
    monkeypatch.setattr(csv_table, "TAIL_RECORDS", 3)
    _same_scan()


@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def _same_scan(text: str) -> None:
    try:
        expected = scan_records(Path("t.csv"), text, ",")
    except Exception as exc:  # the fast path must refuse alike
        with pytest.raises(type(exc)):
            scan(Path("t.csv"), text, ",")
        return
    assert scan(Path("t.csv"), text, ",") == expected
