"""The four statement formats claim their own files and nothing else: no CSV, and not each other's."""

from __future__ import annotations

import pytest

from importer.parsers import REGISTRY, FileSample, ParseOptions
from tests.corpus import CorpusFile, corpus_files

MINE = ("ofx", "qif", "camt", "mt940")


def _claims(entry: CorpusFile) -> set[str]:
    sample = FileSample.read(entry.path, ParseOptions())
    return {name for name in MINE if REGISTRY[name].identify(sample)}


def test_no_csv_file_is_claimed() -> None:
    files = corpus_files("csv")
    if not files:
        pytest.skip("conformance corpus not found")
    assert {e.relative: _claims(e) for e in files if _claims(e)} == {}


def test_a_statement_file_is_claimed_by_its_own_format_at_most() -> None:
    files = [e for fmt in MINE for e in corpus_files(fmt)]
    if not files:
        pytest.skip("conformance corpus not found")
    assert {e.relative: _claims(e) for e in files if not _claims(e) <= {e.format}} == {}
