"""A parser's streamed outcome (`stream`, then `collect`), in the form tests/test_ofx_fast.py compares readings in.

Rows come out of the stream as columns and become models again through `TxBatch.row`, which sets
every field where the readers' `trusted()` models set some: so a streamed reading is compared on
what a model says (its repr, to the Decimal exponent, and its JSON), not on its fields-set.  A
refusal is compared word for word, and for a cut-off file also on what --allow-partial keeps: the
statements `collect` makes of the events before the error, against the reference's `partial`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from importer.core.errors import ImporterError, TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions
from importer.parsers.base import Parser, StatementFile
from importer.parsers.ofx.reader import OfxParser
from importer.parsers.stream import Event, collect


def said(statements: Iterable[Statement]) -> list[object]:
    return [
        (repr(s.model_copy(update={"transactions": ()})), [(repr(t), t.model_dump_json()) for t in s.transactions])
        for s in statements
    ]


def outcome(read: Callable[[], list[Statement]]) -> object:
    """The statements `read` gives, or its error with what --allow-partial would keep."""
    try:
        return said(read())
    except TruncatedError as error:
        return (type(error).__name__, str(error), said(error.partial))
    except (ImporterError, ValueError) as error:
        return (type(error).__name__, str(error))


def streamed(path: Path, options: ParseOptions, parser: Parser | None = None) -> object:
    """The outcome of `parser.stream` (OFX's by default) on the file `path`, in the form of `outcome`."""
    events: list[Event] = []
    try:
        with StatementFile(path, options) as source:
            events.extend((parser or OfxParser()).stream(source, options))
    except TruncatedError as error:
        return (type(error).__name__, str(error), said(collect(events)))
    except (ImporterError, ValueError) as error:
        return (type(error).__name__, str(error))
    return said(collect(events))


def as_file(text: str, name: str = "generated.ofx") -> Path:
    """`text` written (UTF-8) to a new file named `name`, for a reader that reads files."""
    path = Path(tempfile.mkdtemp(prefix="ofx-stream-")) / name
    path.write_text(text, encoding="utf-8", newline="")
    return path
