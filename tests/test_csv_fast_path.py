"""The columnar CSV reader reads (or refuses) every sample and corpus CSV exactly as the row-wise
reader before it did (tests/csv_before.py): same statement, same fields set, same text of every
value, same evidence, same error and line.

Errors are compared in the old wording: the new messages also name the column and say what an
amount cell may hold ("an amount cell in column 'Amount' is not a number.").  No sample or corpus
file reads differently under the strict amount cells, so no input is excluded here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from importer.core.errors import ImporterError
from importer.core.models import Statement
from importer.parsers import ParseOptions
from importer.parsers.csv import reader as fast
from importer.parsers.csv.detect import detect
from tests import csv_before as before
from tests.corpus import corpus_files

SAMPLES = sorted(Path("samples").rglob("*.csv"))
CORPUS = [entry.path for entry in corpus_files("csv")]
OPTIONS = (ParseOptions(), ParseOptions(check_balances=False))


def _read(build: Any, path: Path, options: ParseOptions) -> tuple[object, list[str], dict[str, str]]:
    try:
        layout = detect(path, options)
    except ImporterError as exc:
        return ("refused at detect", type(exc), str(exc)), [], {}
    try:
        return build(path, layout, options), layout.evidence, layout.found
    except ImporterError as exc:
        return (type(exc), _old_wording(str(exc)), exc.line), layout.evidence, layout.found  # type: ignore[attr-defined]


def _old_wording(message: str) -> str:
    """`message` as the reader before named no column and said less of what an amount may be."""
    message = re.sub(r"(cell) in column '[^']*'", r"\1", message).replace("a balance cell", "an amount cell")
    return message.replace("one amount with decimal mark", "an amount with decimal mark").replace(
        ", at most one sign and a currency only before or after it", ""
    )


def _same_statement(a: Statement, b: Statement) -> None:
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()  # Decimal("-0") == 0: compare the text too
    for x, y in zip(a.transactions, b.transactions):
        assert list(x.__dict__) == list(y.__dict__)
        assert x.model_fields_set == y.model_fields_set and x.source.model_fields_set == y.source.model_fields_set
        assert list(x.raw.items()) == list(y.raw.items())


@pytest.mark.parametrize("path", SAMPLES + CORPUS, ids=str)
def test_fast_reader_equals_the_row_wise_reader(path: Path) -> None:
    for options in OPTIONS:
        new, new_evidence, new_found = _read(fast.build_statement, path, options)
        old, old_evidence, old_found = _read(before.build_statement, path, options)
        if isinstance(old, Statement):
            assert isinstance(new, Statement), new
            _same_statement(new, old)
        else:
            assert new == old
        assert (new_evidence, new_found) == (old_evidence, old_found)
        if isinstance(old, Statement):
            break  # the relaxed options only change what happens to files that are refused
