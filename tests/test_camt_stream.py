"""The camt parser's stream gives what its parse gives, on the sample and every corpus file: the
same statements, or the same refusal (and for a cut-off file the same complete statements)."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.parsers import REGISTRY, ParseOptions
from tests.corpus import CorpusFile, corpus_params
from tests.streamed import outcome, streamed

PARSER = REGISTRY["camt"]
OPTIONS = ParseOptions(currency="EUR")  # QIF states no currency; the others' own currency wins


def same(path: Path) -> None:
    assert streamed(path, OPTIONS, PARSER) == outcome(lambda: PARSER.parse(path, OPTIONS))


@pytest.mark.parametrize("path", sorted(p for p in Path("samples/camt").iterdir() if p.is_file()), ids=str)
def test_sample_streams_as_it_parses(path: Path) -> None:
    same(path)
    assert isinstance(outcome(lambda: PARSER.parse(path, OPTIONS)), list)


@pytest.mark.parametrize("entry", corpus_params("camt"))
def test_corpus_file_streams_as_it_parses(entry: CorpusFile) -> None:
    same(entry.path)
