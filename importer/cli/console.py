"""The console a command's summary is printed on: rich's on a terminal, plain lines elsewhere.

Off a terminal (a pipe, cron, a test) the summary is plain lines (importer/reports/summary.py),
which rich prints as they are but for a few rewrites.  Importing rich.console for them was a tenth
of a small import's start-up (issue 16), so `PlainConsole` writes a line itself when rich would
print it unchanged, and hands anything else to rich, which stays the reference: a table, text
with markup or highlighting, wrapped text, and text rich rewrites (tabs expanded, the control
codes it strips, `:emoji:` codes).  tests/test_cli_console.py checks the two print the same.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from importer.internals.lazy import lazy_module

if TYPE_CHECKING:
    from rich import console as rich_console

    from importer.reports.summary import Printer
else:
    rich_console = lazy_module("rich.console")

# What rich changes in plain text: tabs, the control codes it strips (BEL, BS, VT, FF, CR), and
# a `:name:` that may be an emoji code (a colon, no whitespace, a colon).
_REWRITTEN = re.compile(r"[\t\x07\x08\x0b\x0c\r]|:\S*:")


def stdout_console() -> Printer:
    """rich's Console for stdout when rich would take it for a terminal, else a `PlainConsole`."""
    return rich_console.Console() if _maybe_terminal() else PlainConsole()


def _maybe_terminal() -> bool:
    """Whether rich might take stdout for a terminal: a TTY, or its environment variables that say
    so (TTY_COMPATIBLE=1, a non-empty FORCE_COLOR); when in doubt, rich decides."""
    if os.environ.get("TTY_COMPATIBLE") == "1" or os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(sys.stdout, "isatty", None)
    return isatty is None or bool(isatty())


class PlainConsole:
    """A console that is not a terminal: `print` as rich's Console prints to one."""

    is_terminal = False

    def __init__(self, file: TextIO | None = None) -> None:
        self._file = file  # None: sys.stdout when printing (as rich does; CliRunner swaps it)

    def print(
        self, text: Any, /, *, highlight: bool | None = None, markup: bool | None = None, soft_wrap: bool | None = None
    ) -> None:
        if verbatim(text, highlight, markup, soft_wrap):
            (self._file or sys.stdout).write(f"{text}\n")
        else:
            console = rich_console.Console(file=self._file, force_terminal=False)
            console.print(text, highlight=highlight, markup=markup, soft_wrap=soft_wrap)


def verbatim(text: Any, highlight: bool | None, markup: bool | None, soft_wrap: bool | None) -> bool:
    """Whether rich would print `text` as it is, off a terminal, with these options."""
    plain = highlight is False and markup is False and soft_wrap is True
    return plain and isinstance(text, str) and _REWRITTEN.search(text) is None
