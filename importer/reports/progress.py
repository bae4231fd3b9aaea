"""Progress for long parses and uploads: on stderr, only on a terminal, gone when done.

stdout stays for data and reports, so a bar never mixes into `--json` output or a pipe, and
cron (no terminal) sees no bar at all.  `run_display` draws what the pipeline tells its observer
(importer/run/pipeline.py `RunObserver`: stages and upload batches): the pipeline itself draws nothing.
rich's progress bar is imported only when there is a terminal to draw it on (importer/internals/lazy.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from importer.internals.lazy import lazy_module
from importer.reports.summary import Uploaded

if TYPE_CHECKING:
    from rich import console as rich_console
    from rich import progress as rich_progress
    from rich.console import Console
    from rich.progress import Progress
else:
    rich_console = lazy_module("rich.console")
    rich_progress = lazy_module("rich.progress")


class RunDisplay(Protocol):
    """What a run's observer tells the screen: the file and stage being worked on, upload batches."""

    def stage(self, path: Path, stage: str, rows: int) -> None: ...

    def uploaded(self, path: Path, progress: Uploaded) -> None: ...

    def file_done(self, path: Path) -> None: ...


class Silent:
    """No terminal (cron, a pipe, `--json`): nothing to draw."""

    def stage(self, path: Path, stage: str, rows: int) -> None:
        pass

    def uploaded(self, path: Path, progress: Uploaded) -> None:
        pass

    def file_done(self, path: Path) -> None:
        pass


class Live:
    """Two lines on stderr: the files (how many done, which one is being worked on, since when),
    and the current file's stage with its rows and, while uploading, batches, rate and ETA."""

    def __init__(self, bar: Progress, files: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.bar, self.files, self.clock = bar, files, clock
        self.done = 0
        self.started = clock()
        self.file_task = bar.add_task(self._count(), total=files, detail="")
        self.stage_task = bar.add_task("", total=None, detail="", visible=False)

    def _count(self) -> str:
        return f"file {min(self.done + 1, self.files)}/{self.files}"

    def stage(self, path: Path, stage: str, rows: int) -> None:
        self.started = self.clock()
        self.bar.update(self.file_task, description=self._count(), detail=f"{path.name} ({_size(path)})")
        rows_text = f"{rows:,} rows" if rows else "rows not known until it is read"
        self.bar.reset(self.stage_task, total=None, description=stage, detail=rows_text, visible=True)

    def uploaded(self, path: Path, progress: Uploaded) -> None:
        elapsed = max(self.clock() - self.started, 1e-6)
        rate = progress.rows / elapsed
        left = (progress.of_rows - progress.rows) / rate if rate else None
        detail = (
            f"{progress.rows:,}/{progress.of_rows:,} rows · batch {progress.batches}/{progress.of_batches}"
            f" · {rate:,.0f} rows/s · ETA {_clock(left)}"
        )
        self.bar.update(self.stage_task, total=max(progress.of_rows, 1), completed=progress.rows, detail=detail)

    def file_done(self, path: Path) -> None:
        self.done += 1
        self.bar.update(self.file_task, completed=self.done, detail=f"{path.name} done")
        self.bar.update(self.stage_task, visible=False)


def _size(path: Path) -> str:
    try:
        size = float(path.stat().st_size)
    except OSError:
        return "size unknown"
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:,.0f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"


def _clock(seconds: float | None) -> str:
    """`seconds` as h:mm:ss (`-:--:--` when there is no rate yet)."""
    if seconds is None:
        return "-:--:--"
    whole = int(seconds + 0.5)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@contextmanager
def run_display(files: int, *, console: Console | None = None) -> Iterator[RunDisplay]:
    """The display of a run over `files` files on `console` (default: stderr), only on a terminal."""
    show = console.is_terminal if console is not None else sys.stderr.isatty()
    if not show or files < 1:
        yield Silent()
        return
    bar = rich_progress.Progress(
        rich_progress.TextColumn("{task.description:<12}"),
        rich_progress.BarColumn(bar_width=28),
        rich_progress.TimeElapsedColumn(),
        rich_progress.TextColumn("{task.fields[detail]}"),
        console=console or rich_console.Console(stderr=True),
        transient=True,
        refresh_per_second=4,
    )
    with bar:
        yield Live(bar, files)
