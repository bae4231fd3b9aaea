"""The reader thread delivers exactly the stream, in order, raises where the stream raised, and
stops the reader when the consumer stops early."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.core.errors import ParseError
from importer.parsers import ParseOptions, identify
from importer.parsers.base import StatementFile
from importer.parsers.stream import collect
from importer.run.readahead import read_ahead


def counting(n: int, fail_at: int | None = None, finished: list[str] | None = None) -> Iterator[int]:
    try:
        for i in range(n):
            if i == fail_at:
                raise ParseError(Path("x.csv"), "bad cell", line=i)
            yield i
    finally:
        if finished is not None:
            finished.append("closed")


def test_every_item_arrives_in_order() -> None:
    assert list(read_ahead(counting(1000), depth=3)) == list(range(1000))


def test_an_error_is_raised_after_the_items_before_it() -> None:
    got: list[int] = []
    with pytest.raises(ParseError, match="bad cell"):
        for item in read_ahead(counting(100, fail_at=42)):
            got.append(item)
    assert got == list(range(42))


def test_a_consumer_that_stops_early_stops_the_reader() -> None:
    finished: list[str] = []
    threads_before = threading.active_count()
    for item in read_ahead(counting(10**9, finished=finished), depth=2):
        if item == 5:
            break
    assert finished == ["closed"]  # the source generator was closed, not left running
    assert threading.active_count() == threads_before


def test_a_statement_read_ahead_is_the_statement_read_in_one_thread() -> None:
    path = Path("samples/ofx/checking-2026-10.ofx")
    options = ParseOptions()
    parser = identify(path, options)
    with StatementFile(path, options) as source:
        ahead = collect(read_ahead(parser.stream(source, options)))
    assert ahead == parser.parse(path, options)
