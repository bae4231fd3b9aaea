"""Statement formats.  FORMATS holds one line per format; `identify` picks exactly one.

Adding a format is one module with a class following `base.Parser`, its claim (a cheap test of
the file's first bytes, in claims.py), and one line here.

Each line names its parser's module rather than importing it: `identify` runs every format's
claim first, then imports only the parser that claimed the file (importer/internals/lazy.py), so a
20-row CSV import does not pay for the OFX, camt, MT940 and QIF readers (tests/test_startup_imports.py
pins that).  REGISTRY is the same table as parser objects, each built on its first lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from importer.core.errors import AmbiguousFormatError, UnknownFormatError
from importer.core.models import Statement
from importer.internals.gcpause import paused_gc
from importer.internals.lazy import imported
from importer.parsers.base import FileSample, ParseOptions, Parser, read_statement


@dataclass(frozen=True)
class Format:
    """Where a format's claim and parser live, as "package.module:name", imported on first use."""

    claim: str  # a function FileSample -> bool: cheap, never raises
    parser: str  # a class following base.Parser

    def claims(self, sample: FileSample) -> bool:
        check: Callable[[FileSample], bool] = imported(self.claim)
        return check(sample)


FORMATS: dict[str, Format] = {
    "ofx": Format("importer.parsers.claims:ofx", "importer.parsers.ofx.reader:OfxParser"),
    "csv": Format("importer.parsers.csv.identify:claims", "importer.parsers.csv.reader:CsvParser"),
    "camt": Format("importer.parsers.claims:camt", "importer.parsers.camt.reader:CamtParser"),
    "mt940": Format("importer.parsers.claims:mt940", "importer.parsers.mt940.reader:Mt940Parser"),
    "qif": Format("importer.parsers.claims:qif", "importer.parsers.qif:QifParser"),
}


class _Parsers(Mapping[str, Parser]):
    """FORMATS as parser objects: one per format, built (its module imported) on first lookup, then
    the same object every time (so a test may patch it)."""

    def __init__(self, formats: Mapping[str, Format]) -> None:
        self._formats = formats
        self._built: dict[str, Parser] = {}

    def __getitem__(self, name: str) -> Parser:
        if name not in self._built:
            self._built[name] = imported(self._formats[name].parser)()
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats)

    def __len__(self) -> int:
        return len(self._formats)


REGISTRY: Mapping[str, Parser] = _Parsers(FORMATS)


def identify(path: Path, options: ParseOptions) -> Parser:
    """The one parser that claims `path`; an error when none or several do."""
    sample = _read_sample(path, options)
    claims = [name for name, known in FORMATS.items() if known.claims(sample)]
    if not claims:
        raise UnknownFormatError(
            path,
            "no parser recognises this file. Known formats: "
            + ", ".join(sorted(FORMATS))
            + ". For a CSV from a bank we have no profile for, pass --profile NAME.",
        )
    if len(claims) > 1:
        names = " and ".join(claims)
        raise AmbiguousFormatError(path, f"both {names} claim this file; name one with --profile.")
    return REGISTRY[claims[0]]


def parse_file(path: Path, options: ParseOptions) -> list[Statement]:
    """Identify and parse `path` into its statements (one per account in the file)."""
    with paused_gc():  # see importer/internals/gcpause.py
        return identify(path, options).parse(path, options)


def _read_sample(path: Path, options: ParseOptions) -> FileSample:
    return FileSample.read(path, options)  # refuses what is not a regular file of a bounded size


__all__ = [
    "FORMATS",
    "REGISTRY",
    "FileSample",
    "Format",
    "ParseOptions",
    "Parser",
    "identify",
    "parse_file",
    "read_statement",
]
