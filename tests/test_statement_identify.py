"""The four statement formats claim their own files and nothing else: no CSV, and not each other's."""

from __future__ import annotations

import pytest

from importer.parsers import REGISTRY, FileSample, ParseOptions
from tests.corpus import CorpusFile, corpus_params

MINE = ("ofx", "qif", "camt", "mt940")


def _claims(entry: CorpusFile) -> set[str]:
    sample = FileSample.read(entry.path, ParseOptions())
    return {name for name in MINE if REGISTRY[name].identify(sample)}


@pytest.mark.parametrize("entry", corpus_params("csv"))
def test_no_csv_file_is_claimed(entry: CorpusFile) -> None:
    assert _claims(entry) == set()


@pytest.mark.parametrize("entry", [p for fmt in MINE for p in corpus_params(fmt)])
def test_a_statement_file_is_claimed_by_its_own_format_at_most(entry: CorpusFile) -> None:
    assert _claims(entry) <= {entry.format}
