"""The parser protocol: `identify` a file cheaply, then `parse` it whole.

A parser reads the whole file before returning anything, so a file that breaks half way
through raises and nothing from it reaches the state database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from importer.models import Statement

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class ParseOptions:
    """What the user told us about a file that the file may not say itself."""

    account: str | None = None
    profile: str | None = None
    date_format: str | None = None
    currency: str | None = None
    profile_dirs: tuple[Path, ...] = field(default_factory=tuple)
    check_balances: bool = True  # refuse files whose balances do not add up (BalanceError)


@dataclass(frozen=True)
class FileSample:
    """The first bytes of a file, read once and shown to every parser's `identify`."""

    path: Path
    head: bytes
    options: ParseOptions

    @classmethod
    def read(cls, path: Path, options: ParseOptions) -> "FileSample":
        with path.open("rb") as handle:
            return cls(path=path, head=handle.read(HEAD_BYTES), options=options)


class Parser(Protocol):
    """One statement format."""

    name: str

    def identify(self, sample: FileSample) -> bool:
        """True when this parser recognises the file; must be cheap and never raise."""
        ...

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        """Every statement in the file; raises `InputError` naming file and line on bad input."""
        ...
