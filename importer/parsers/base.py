"""The parser protocol: `identify` a file cheaply, then `stream` it (or `parse` it whole).

`stream` reads the file through a `StatementFile` and yields its statements as events
(importer/parsers/stream.py): heads, batches of rows, ends.  The pipeline stages the batches and
commits them only once the stream has ended, so a file that breaks half way through raises and
nothing from it reaches the state database.  The `StatementFile` hashes every byte the parser
reads, so the file's recorded sha256 is of the bytes that were parsed, read once.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from importer.core.errors import InputError
from importer.core.models import Statement

if TYPE_CHECKING:  # only for annotations: stream.py imports nothing from here at run time either
    from importer.parsers.stream import Event

HEAD_BYTES = 64 * 1024
# The largest statement read by default.  A bank export is kilobytes to a few hundred
# megabytes; a read without a bound turns a symlink to /dev/zero into a MemoryError.
MAX_STATEMENT_BYTES = 1 << 30


@dataclass(frozen=True)
class ParseOptions:
    """What the user told us about a file that the file may not say itself."""

    account: str | None = None
    profile: str | None = None
    date_format: str | None = None
    currency: str | None = None  # --currency or the source's: wins over what a profile assumes
    # The configured default (`currency:` in importer.yaml, $IMPORTER_CURRENCY): only for a file
    # that says nothing itself, neither in its cells, its header, nor its bank profile.
    default_currency: str | None = None
    profile_dirs: tuple[Path, ...] = field(default_factory=tuple)
    check_balances: bool = True  # refuse files whose balances do not add up (BalanceError)
    allow_partial: bool = False  # import what was complete of a cut-off file (TruncatedError.partial)
    max_bytes: int = MAX_STATEMENT_BYTES  # a larger file is refused before it is read


@dataclass(frozen=True)
class FileSample:
    """The first bytes of a file, read once and shown to every parser's `identify`."""

    path: Path
    head: bytes
    options: ParseOptions

    @classmethod
    def read(cls, path: Path, options: ParseOptions) -> FileSample:
        return cls(path=path, head=read_statement(path, options, limit=HEAD_BYTES), options=options)


def read_statement(path: Path, options: ParseOptions, limit: int | None = None) -> bytes:
    """The bytes of the statement file `path` (its first `limit` bytes when given).

    Every parser reads its file through here, so every format gets the same refusals: a path
    that is not a regular file (a FIFO would block the run forever, a device never ends) and a
    file larger than `options.max_bytes`.
    """
    _checked_size(path, options)
    want = options.max_bytes + 1 if limit is None else min(limit, options.max_bytes + 1)
    try:
        with path.open("rb") as handle:
            data = handle.read(want)
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}.") from None
    if limit is None and len(data) > options.max_bytes:  # it grew after the size was taken
        raise InputError(
            path, f"grew past {options.max_bytes:,} bytes while it was read; import it once it is complete."
        )
    return data


class StatementFile:
    """A statement file open for one pass: the bytes read are hashed as they are read.

    The same refusals as `read_statement` (not a regular file, larger than `max_bytes`), checked
    before the first byte is read; `sha256()` is the digest of everything read so far, which is
    the whole file once a parser has reached its end.
    """

    def __init__(self, path: Path, options: ParseOptions) -> None:
        self.path = path
        self.size = _checked_size(path, options)
        self._limit = options.max_bytes
        self._hash = hashlib.sha256()
        self._read = 0
        try:
            self._handle: IO[bytes] = path.open("rb")
        except OSError as exc:
            raise InputError(path, f"cannot be read: {exc.strerror}.") from None

    def __enter__(self) -> StatementFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def read(self, size: int = -1) -> bytes:
        """Up to `size` more bytes (the rest when -1); b"" at the end."""
        try:
            data = self._handle.read(size if size >= 0 else self._limit + 1 - self._read)
        except OSError as exc:
            raise InputError(self.path, f"cannot be read: {exc.strerror}.") from None
        self._count(data)
        return data

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The rest of the file in pieces of `size` bytes."""
        while data := self.read(size):
            yield data

    def sha256(self) -> str:
        return self._hash.hexdigest()

    @property
    def bytes_read(self) -> int:
        return self._read

    def _count(self, data: bytes) -> None:
        self._read += len(data)
        if self._read > self._limit:  # it grew after the size was taken
            raise InputError(
                self.path, f"grew past {self._limit:,} bytes while it was read; import it once it is complete."
            )
        self._hash.update(data)


def _checked_size(path: Path, options: ParseOptions) -> int:
    size = _regular_file_size(path)
    if size > options.max_bytes:
        raise InputError(
            path,
            f"is {size:,} bytes, more than the largest statement allowed ({options.max_bytes:,} bytes). "
            "If it really is one statement, raise max_statement_bytes in importer.yaml.",
        )
    return size


def _regular_file_size(path: Path) -> int:
    """The size of `path` (symlinks followed); an `InputError` unless it is a regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, "the file does not exist.") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, "is a folder, not a statement file.")
    if not stat.S_ISREG(info.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise InputError(path, f"is {kind}, not a regular file; save the statement to a file and import that.")
    return info.st_size


class Parser(Protocol):
    """One statement format."""

    name: str

    def identify(self, sample: FileSample) -> bool:
        """True when this parser recognises the file; must be cheap and never raise."""
        ...

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        """Every statement in the file; raises `InputError` naming file and line on bad input."""
        ...

    def stream(self, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        """The file's statements as events (heads, row batches, ends), reading `source` once.

        Raises as `parse` does, from inside the iteration; the events before the error are the
        complete records (what `--allow-partial` keeps)."""
        ...
