"""Progress bars for long parses and uploads: on stderr, only on a terminal, gone when done.

stdout stays for data and reports, so a bar never mixes into `--json` output or a pipe, and
cron (no terminal) sees no bar at all.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class Advance(Protocol):
    def __call__(self, label: str = "") -> None: ...


def _noop(label: str = "") -> None:
    """No terminal: nothing to draw."""


@contextmanager
def progress(total: int, description: str, *, console: Console | None = None) -> Iterator[Advance]:
    """A bar of `total` steps on `console` (default: stderr); yields `advance(label)` to call after each step."""
    show = console.is_terminal if console is not None else sys.stderr.isatty()
    if not show or total < 2:
        yield _noop
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        TextColumn("{task.fields[label]}"), console=console or Console(stderr=True), transient=True,
    )  # fmt: skip
    with bar:
        task = bar.add_task(description, total=total, label="")

        def advance(label: str = "") -> None:
            bar.update(task, advance=1, label=label)

        yield advance
