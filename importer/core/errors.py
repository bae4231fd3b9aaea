"""One exception tree for everything the importer reports to a user.

    ImporterError                  anything the CLI turns into a message and an exit code
    ├── InputError                 a statement file we cannot read (exit 1, other files go on)
    │   ├── UnknownFormatError     no parser claims the file
    │   ├── AmbiguousFormatError   more than one parser claims it
    │   ├── ParseError             a record is not what the format says it must be
    │   │   └── TruncatedError     the file ends before its format allows: a cut-off download
    │   ├── AmbiguousDateError     a date column reads two ways; the user must say which
    │   └── BalanceError           balances do not add up: a lost or doubled transaction
    ├── ConfigError                a config, profile or rule file is wrong (exit 2)
    ├── StateError                 the state database cannot be used
    ├── LockedError                another run holds the state database (lock.py; exit 3)
    └── UploadError                a target refused or failed a batch (exit 1)

Every error names where it happened (file and line, or target and batch), what was expected
and what was found, so the message alone tells the user what to fix.  Foreign exceptions
(csv, pandas, sqlite3, httpx) are translated into this tree at the boundary where they occur.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importer.core.models import Statement


class ImporterError(Exception):
    """Base of every error the importer reports to its user."""

    exit_code = 1


class InputError(ImporterError):
    """A statement file that cannot be read; nothing from it is stored."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        line: int | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.expected = expected
        self.found = found
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.path}" + (f", line {self.line}" if self.line is not None else "")
        text = f"{where}: {self.reason}"
        if self.expected is not None:
            text += f" Expected {self.expected}"
            text += f", found {self.found!r}." if self.found is not None else "."
        return text


class UnknownFormatError(InputError):
    """No registered parser recognises the file."""


class AmbiguousFormatError(InputError):
    """Two or more parsers claim the same file; the user must choose."""


class ParseError(InputError):
    """A record inside a recognised file breaks the format's rules."""


class TruncatedError(ParseError):
    """The file stops where its format says more must follow (a statement that never closes, a
    row cut short, a quote never closed): most often a download that was cut off.

    It is refused like any other unreadable file.  `partial` holds the statements the parser
    could build from the records that were complete, for `--allow-partial`, which imports them
    with a warning; it is empty when the parser cannot tell which records were complete.
    """

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        line: int | None = None,
        expected: str | None = None,
        found: str | None = None,
        partial: Sequence[Statement] = (),
    ) -> None:
        self.partial = tuple(partial)
        super().__init__(path, message, line=line, expected=expected, found=found)


class AmbiguousDateError(InputError):
    """Every date in the column fits two formats that disagree; we refuse to guess."""


class BalanceError(InputError):
    """Opening balance + transactions != closing balance, or a running-balance chain breaks.

    It means a transaction was lost or doubled, in the file or by our reading of it, so the file
    is refused; `--no-balance-check` imports it anyway.
    """


class ConfigError(ImporterError):
    """A configuration, profile or rule file is invalid."""

    exit_code = 2

    def __init__(
        self, message: str, *, path: Path | str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        where = ""
        if self.path is not None:
            where = f"{self.path}" + (f", line {line}" if line is not None else "")
            where += (f", column {column}" if line is not None and column is not None else "") + ": "
        super().__init__(where + message)


class StateError(ImporterError):
    """The state database is unusable (locked, corrupt, newer schema)."""

    exit_code = 2


class UploadError(ImporterError):
    """A target rejected or failed a batch; the batch stays pending for the next run."""

    def __init__(
        self, target: str, batch: str, message: str, *, status: int | None = None, body: str | None = None
    ) -> None:
        self.target = target
        self.batch = batch
        self.status = status
        self.body = body
        detail = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"target {target}, batch {batch}{detail}: {message}")
