"""CSV bank exports: a bank profile when one matches, else a layout detected from the file.

Cells are read as strings and only then turned into Decimal and date, column by column (the
date format and the decimal mark are decided from the whole column, or from the first MiB when
streamed), so no value passes through float, nothing is guessed from one cell, and a bad cell
is reported with its line.  `stream` is the one-pass reader (streaming.py); `parse` reads the
file whole (whole.py) and is the reference the stream is tested against.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from importer.core.models import Statement
from importer.parsers.base import FileSample, ParseOptions, StatementFile
from importer.parsers.csv.identify import claims
from importer.parsers.csv.streaming import stream_csv
from importer.parsers.csv.whole import build_statement, parse_whole
from importer.parsers.stream import Event


class CsvParser:
    """Delimited text: a known bank layout, or one detected from headers and content."""

    name = "csv"

    def identify(self, sample: FileSample) -> bool:
        return claims(sample)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        return parse_whole(path, options)

    def stream(self, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        return stream_csv(source, options)


__all__ = ["CsvParser", "build_statement"]
