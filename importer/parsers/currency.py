"""The currency a statement's transactions carry: given by the file or by the user, never invented.

QIF never states a currency and a CSV export often does not.  Writing XXX (ISO 4217's "no
currency") or the importer author's USD would put amounts into the books in a currency nobody
chose, so every parser that finds none refuses the file with the same sentence, built here.
`options.currency` comes from --currency or from `currency:` in importer.yaml.
"""

from __future__ import annotations

from pathlib import Path

from importer.core.currencies import is_currency
from importer.core.errors import ParseError

MISSING = (
    "the file does not say its currency: pass --currency CODE, or set `currency:` in importer.yaml "
    "(for every file that names none) or in its bank profile."
)


def missing_currency(path: Path, line: int | None = None) -> ParseError:
    """The error for a file that names no currency when the user gave none either."""
    return ParseError(path, MISSING, line=line)


def given_currency(path: Path, code: str | None, line: int | None = None) -> str:
    """`code` (the file's or the user's) upper-cased when it is ISO 4217; else a ParseError."""
    if not code or not code.strip():
        raise missing_currency(path, line)
    upper = code.strip().upper()
    if not is_currency(upper):
        raise ParseError(
            path, "the currency is not an ISO 4217 code.", line=line, expected="a code such as EUR", found=code
        )
    return upper
