"""Statement formats.  REGISTRY holds one line per format; `identify` picks exactly one.

Adding a format is one module with a class following `base.Parser` plus one line here.
"""

from __future__ import annotations

from pathlib import Path

from importer.core.errors import AmbiguousFormatError, UnknownFormatError
from importer.core.models import Statement
from importer.internals.gcpause import paused_gc
from importer.parsers.base import FileSample, ParseOptions, Parser, read_statement
from importer.parsers.camt.reader import CamtParser
from importer.parsers.csv.reader import CsvParser
from importer.parsers.mt940.reader import Mt940Parser
from importer.parsers.ofx.reader import OfxParser
from importer.parsers.qif import QifParser

REGISTRY: dict[str, Parser] = {
    "ofx": OfxParser(),
    "csv": CsvParser(),
    "camt": CamtParser(),
    "mt940": Mt940Parser(),
    "qif": QifParser(),
}


def identify(path: Path, options: ParseOptions) -> Parser:
    """The one parser that claims `path`; an error when none or several do."""
    sample = _read_sample(path, options)
    claims = [parser for parser in REGISTRY.values() if parser.identify(sample)]
    if not claims:
        raise UnknownFormatError(
            path,
            "no parser recognises this file. Known formats: "
            + ", ".join(sorted(REGISTRY))
            + ". For a CSV from a bank we have no profile for, pass --profile NAME.",
        )
    if len(claims) > 1:
        names = " and ".join(parser.name for parser in claims)
        raise AmbiguousFormatError(path, f"both {names} claim this file; name one with --profile.")
    return claims[0]


def parse_file(path: Path, options: ParseOptions) -> list[Statement]:
    """Identify and parse `path` into its statements (one per account in the file)."""
    with paused_gc():  # see importer/internals/gcpause.py
        return identify(path, options).parse(path, options)


def _read_sample(path: Path, options: ParseOptions) -> FileSample:
    return FileSample.read(path, options)  # refuses what is not a regular file of a bounded size


__all__ = ["REGISTRY", "FileSample", "ParseOptions", "Parser", "identify", "parse_file", "read_statement"]
