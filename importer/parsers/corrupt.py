"""What a damaged statement file makes Python raise, turned into a ParseError naming the file.

Parsers check what they know a format allows and raise ParseError with line and text.  A file
that is damaged in a way nobody foresaw (a cut in a multi-byte character, a field so short that
an index runs past its end, a currency code pydantic refuses, nesting deep enough to exhaust the
stack) still reaches some standard-library error; the user must get a sentence about the file,
never a traceback.  Each text parser runs its whole `parse` inside `corrupt_file_errors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import InvalidOperation
from pathlib import Path

from pydantic import ValidationError

from importer.core.errors import ImporterError, ParseError

_FOREIGN = (UnicodeError, ValueError, IndexError, KeyError, RecursionError, InvalidOperation, ArithmeticError)


@contextmanager
def corrupt_file_errors(path: Path, kind: str) -> Iterator[None]:
    """Re-raise what a corrupt `kind` file (e.g. "QIF") can cause as a ParseError naming `path`."""
    try:
        yield
    except ImporterError:
        raise
    except _FOREIGN as exc:
        raise ParseError(
            path,
            f"cannot be read as {kind}: {describe(exc)}. The file is damaged or is not a {kind} file; "
            "download it again from the bank.",
        ) from None


def describe(exc: BaseException) -> str:
    """A one-line account of `exc` without Python internals (pydantic lists its first problem)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid value')}" if where else str(first.get("msg", "invalid value"))
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, UnicodeError):
        return "it holds bytes that are not text"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
