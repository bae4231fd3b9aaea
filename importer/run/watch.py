"""The inbox loop: import each statement file dropped into a folder, then file it away.

    inbox/chase-2026-10.csv  --settled-->  import (pipeline, committed to SQLite)
        --ok-->      archive/YYYY-MM/chase-2026-10.csv     (YYYY-MM: the month it was imported)
        --failed-->  failed/chase-2026-10.csv + failed/chase-2026-10.csv.error.txt (what to fix)

Several watchers may share one PostgreSQL state (and one inbox, or each its own): each settled
file is claimed first (importer/run/claims.py), a few at a time, so exactly one worker imports and
files it away, and a claimed file another worker holds is left to it.

Why it is safe to kill at any moment: a file leaves the inbox only after the pipeline has
committed its transactions, and importing a file again adds nothing (external ids), so a file
caught mid-import is simply imported again at the next start.  Moves never overwrite: a name
already taken gets a `-1`, `-2`, ... suffix, and a file byte-identical to one already filed
there (a move interrupted between link and unlink, or the same export dropped twice) only
leaves the inbox.

A file is imported once it has "settled": its size and modification time unchanged for
`settle` seconds, so a download still being written is never read half way.  Events only say
"look at this path"; the loop stats files itself, so the event source is a plain iterable of
path batches (`watchfiles` in production, a list in tests), and an empty batch is a clock tick.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from importer.config.paths import private_folder, write_private
from importer.reports.summary import FileReport
from importer.run.claims import Claimer
from importer.run.lock import LockedError
from importer.store.sql_workers import Claim

# Names browsers and sync tools give files still being written; they are renamed when complete.
_PARTIAL_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".temp", "~")
CHUNK = 50  # files imported per pipeline run, so a huge drop is filed away as it goes
CLAIM_CHUNK = 4  # files claimed per pipeline run among workers: few, so the others get the rest

Importer = Callable[[Sequence[Path]], list[FileReport]]


@dataclass(frozen=True)
class Folders:
    inbox: Path
    archive: Path
    failed: Path

    def create(self) -> list[Path]:
        """Create the missing folders (readable by the user only); return the ones created."""
        missing = [folder for folder in (self.inbox, self.archive, self.failed) if not folder.is_dir()]
        for folder in missing:
            private_folder(folder)
        return missing


@dataclass(frozen=True)
class Filed:
    """Where one inbox file went."""

    source: Path
    destination: Path | None  # None: not moved (see `copy_removed`)
    error: str | None = None
    copy_removed: bool = False  # identical to a file already filed there, so only removed from the inbox
    report: FileReport | None = None  # what importing it did (parsed, new, duplicate rows)


@dataclass
class Inbox:
    """Pending inbox files and what to do with them once they settle."""

    folders: Folders
    importer: Importer
    settle: float = 2.0
    clock: Callable[[], float] = time.monotonic
    today: Callable[[], dt.date] = dt.date.today
    pending: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)
    claims: Claimer | None = None  # many watchers on one state: each file claimed first (claims.py)

    def scan(self) -> None:
        """Note every file in the inbox now (those that arrived while nobody watched)."""
        self.note(sorted(self.folders.inbox.iterdir()))

    def note(self, paths: Iterable[Path]) -> None:
        """Paths an event named; only candidate files directly in the inbox are kept."""
        for path in paths:
            path = self._in_inbox(path)
            if path not in self.pending and is_candidate(path, self.folders.inbox):
                signature = _signature(path)
                if signature is not None:
                    self.pending[path] = (signature, self.clock())

    def _in_inbox(self, path: Path) -> Path:
        # Observers may name a file by its real path (macOS: /private/var/...); key it by the
        # inbox path so one file is never pending under two names.
        inbox = self.folders.inbox
        if path.parent != inbox and path.parent.resolve() == inbox.resolve():
            return inbox / path.name
        return path

    def ready(self) -> list[Path]:
        """Pending files unchanged for `settle` seconds; forgets files that went away."""
        now, ready = self.clock(), []
        for path, (seen, since) in list(self.pending.items()):
            signature = _signature(path)
            if signature is None:
                del self.pending[path]
                if self.claims is not None:
                    self.claims.forget(path)  # its key and poll delay: a watcher must not grow per file
            elif signature != seen:
                self.pending[path] = (signature, now)
            elif now - since >= self.settle:
                ready.append(path)
        return sorted(ready)

    def step(self) -> list[Filed]:
        """Import and file away every settled file, in chunks."""
        filed: list[Filed] = []
        ready = self.ready()
        if self.claims is not None:
            return self._step_claimed(ready, self.claims)
        for start in range(0, len(ready), CHUNK):
            try:
                filed.extend(self.process(ready[start : start + CHUNK]))
            except LockedError:
                break  # another run holds the state: these files stay pending for the next tick
        return filed

    def _step_claimed(self, ready: list[Path], claims: Claimer) -> list[Filed]:
        """`step` among workers: claim a few files, import and file them away, claim the next few.

        Few at a time, so the other workers get the rest; a file another worker holds stays
        pending (its worker files it away, or dies and its lease runs out)."""
        filed: list[Filed] = []
        while ready:
            taken, removed, ready = self._claim(ready, claims)
            filed += removed
            if not taken:
                break
            try:
                filed += self._process_claimed(taken, claims)
            except LockedError:
                break  # another worker holds an account: the files stay pending, given back
        return filed

    def _claim(self, ready: list[Path], claims: Claimer) -> tuple[list[Path], list[Filed], list[Path]]:
        """(files claimed, copies of files already filed away, files not yet asked for)."""
        taken: list[Path] = []
        removed: list[Filed] = []
        for index, path in enumerate(ready):
            if len(taken) == CLAIM_CHUNK:
                return taken, removed, ready[index:]
            claim = claims.take(path)
            if claim is None or (claim is not Claim.BUSY and not path.exists()):
                self._forget(path, claims, claim)  # gone: another worker filed it away
            elif claim is Claim.FILED and self._already_filed(path):
                removed.append(self._remove_copy(path, claims))
            elif claim is not Claim.BUSY:
                taken.append(path)
        return taken, removed, []

    def _forget(self, path: Path, claims: Claimer, claim: Claim | None) -> None:
        """`path` left the inbox: read by this worker just before another filed it away."""
        self.pending.pop(path, None)
        claims.forget(path)
        if claim is not None:
            claims.end(path, filed=claim is Claim.FILED)

    def _process_claimed(self, taken: list[Path], claims: Claimer) -> list[Filed]:
        """`process` under claims: each file's claim ends filed away, or is given back."""
        try:
            filed = self.process(taken)
        finally:
            claims.give_back([path for path in taken if path in self.pending])
        for one in filed:
            claims.end(one.source, filed=one.destination is not None or one.copy_removed)
        return filed

    def _already_filed(self, path: Path) -> bool:
        """Whether this month's archive holds a byte-identical copy of `path` (the claim says its
        content was filed away: this is a leftover copy, or the same export dropped again)."""
        month = self.folders.archive / self.today().strftime("%Y-%m")
        try:
            return any(filecmp.cmp(path, twin, shallow=False) for twin in _same_named(month, path.name))
        except OSError:
            return False  # gone meanwhile: the import finds that out and says so

    def _remove_copy(self, path: Path, claims: Claimer) -> Filed:
        self.pending.pop(path, None)
        path.unlink(missing_ok=True)
        claims.end(path, filed=True)
        return Filed(path, None, copy_removed=True)

    def process(self, files: Sequence[Path]) -> list[Filed]:
        """Import `files` (the pipeline commits before returning), then move each one.

        A file rewritten while it was being imported stays pending: what would be filed is not
        what was imported, so it is imported again once it settles.
        """
        before = {path: _signature(path) for path in files}
        reports = {Path(r.path): r for r in self.importer(files)}
        filed = []
        for path in files:
            now = _signature(path)
            if now is not None and now != before[path]:
                self.pending[path] = (now, self.clock())
                continue
            self.pending.pop(path, None)
            try:
                filed.append(self.file_away(path, reports.get(path)))
            except OSError as exc:
                # Stored but not movable (a full disk, a read-only archive): report it and leave the
                # file in the inbox; the next rescan imports it again (adding nothing) and retries.
                filed.append(
                    Filed(path, None, f"imported, but could not be filed away: {exc}", report=reports.get(path))
                )
        return filed

    def file_away(self, path: Path, report: FileReport | None) -> Filed:
        error = "the importer did not report on this file." if report is None else _failure(report)
        if not path.exists():
            return Filed(path, None, "the file was removed from the inbox before it could be filed.")
        if error is None:
            destination = move_once(path, self.folders.archive / self.today().strftime("%Y-%m"))
        else:
            destination = move_once(path, self.folders.failed)
            if destination is not None:
                write_error_note(destination, error, self.folders.inbox)
        return Filed(path, destination, error, copy_removed=destination is None, report=report)


def is_candidate(path: Path, inbox: Path) -> bool:
    """A visible, complete-looking file directly inside `inbox`."""
    name = path.name
    if path.parent != inbox or name.startswith(".") or name.lower().endswith(_PARTIAL_SUFFIXES):
        return False
    return path.is_file()


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _failure(report: FileReport) -> str | None:
    if report.error:
        return report.error
    return f"{report.failed} transaction(s) failed to import." if report.failed else None


def move_once(path: Path, folder: Path) -> Path | None:
    """Move `path` into `folder` under a free name; None when an identical file is already there."""
    private_folder(folder)
    if any(filecmp.cmp(path, twin, shallow=False) for twin in _same_named(folder, path.name)):
        path.unlink()
        return None
    for candidate in _free_names(folder, path.name):
        try:
            _link_or_copy(path, candidate)
        except FileExistsError:
            continue  # taken since we looked: try the next name, never overwrite
        path.unlink()
        return candidate
    raise AssertionError("unreachable: _free_names is endless")


def _same_named(folder: Path, name: str) -> Iterator[Path]:
    """`name` and its numbered variants already in `folder`, with the same size on disk."""
    for candidate in _free_names(folder, name, taken=True):
        if not candidate.exists():
            return
        yield candidate


def _free_names(folder: Path, name: str, taken: bool = False) -> Iterator[Path]:
    """folder/name, folder/stem-1.ext, folder/stem-2.ext, ... (only free ones unless `taken`)."""
    stem, suffix = os.path.splitext(name)
    number = 0
    while True:
        candidate = folder / (name if number == 0 else f"{stem}-{number}{suffix}")
        if taken or not candidate.exists():
            yield candidate
        number += 1


def _link_or_copy(path: Path, destination: Path) -> None:
    """Put `path`'s bytes at `destination` atomically, failing with FileExistsError if it exists."""
    try:
        os.link(path, destination)  # same filesystem: atomic, and refuses an existing name
    except FileExistsError:
        raise  # a name taken: the caller tries the next one (never the copy below, which would overwrite)
    except OSError:
        staging = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
        shutil.copy2(path, staging)
        try:
            os.link(staging, destination)
        finally:
            staging.unlink()


def write_error_note(filed: Path, error: str, inbox: Path) -> Path:
    """`<file>.error.txt` beside a failed file: what went wrong and how to retry (0600: it quotes the file)."""
    note = filed.with_name(filed.name + ".error.txt")
    steps = "".join(f"  - {step}\n" for step in watch_advice(error))
    write_private(
        note,
        f"importer could not import {filed.name}:\n\n    {error}\n\nWhat to do:\n{steps}"
        f"Then move {filed.name} back into {inbox} and it will be imported.\n",
    )
    return note


# The command-line options error messages suggest, and what a watcher (which takes no options
# per file) is told instead: the importer.yaml key that says the same for the file's source.
_WATCH_ADVICE = (
    (
        "--currency",
        "Say its currency: `currency: CODE` (ISO 4217, e.g. USD) on the source whose `path:` "
        "matches this file in importer.yaml, or at the top level of importer.yaml for every such file.",
    ),
    ("--account", "Say its account: `account: NAME` on the source whose `path:` matches this file in importer.yaml."),
    (
        "--profile",
        "Say its bank layout: `profile: NAME` on the source whose `path:` matches this file in "
        "importer.yaml (`importer detect FILE` suggests one).",
    ),
    (
        "--date-format",
        "Say its date format: `date_format: FMT` (e.g. %d/%m/%Y) on the source whose `path:` "
        "matches this file in importer.yaml.",
    ),
    (
        "--allow-partial",
        "Download it again in full; or, to import its complete part, set `allow_partial: true` "
        "on the source whose `path:` matches this file in importer.yaml.",
    ),
    (
        "--no-balance-check",
        "Check it against your bank; to import it although its balances do not add up, "
        "import it once by hand: `importer run FILE --no-balance-check`.",
    ),
)
_GENERIC = "If the file is damaged or cut off, download it again; otherwise fix the cause above in importer.yaml."


def watch_advice(error: str) -> list[str]:
    """What to do about `error` in watch mode: config keys for the options it names, never bare flags."""
    steps = [advice for flag, advice in _WATCH_ADVICE if flag in error]
    return steps or [_GENERIC]


RESCAN = 60.0  # seconds between full looks at the inbox, for events the OS dropped


def watch_loop(
    inbox: Inbox, events: Iterable[Iterable[Path]], on_filed: Callable[[Filed], None], rescan: float = RESCAN
) -> None:
    """Import what is in the inbox, then each batch of events, until the events end.

    The inbox is also rescanned every `rescan` seconds: an observer can drop events (inotify
    queue overflow, network folders), and a file nobody was told about must not wait forever.
    """
    inbox.scan()
    for filed in inbox.step():
        on_filed(filed)
    scanned: float | None = None  # scan again at the first batch: files dropped before the observer started
    for batch in events:
        inbox.note(batch)
        if scanned is None or inbox.clock() - scanned >= rescan:
            inbox.scan()
            scanned = inbox.clock()
        for filed in inbox.step():
            on_filed(filed)


def drain(inbox: Inbox, on_filed: Callable[[Filed], None], sleep: Callable[[float], None] = time.sleep) -> None:
    """`--once`: import everything in the inbox now, waiting only for files still settling."""
    inbox.scan()
    while inbox.pending:
        for filed in inbox.step():
            on_filed(filed)
        if inbox.pending:
            sleep(min(0.2, max(inbox.settle, 0.01)))


def folder_events(folder: Path, stop: threading.Event, tick: float = 0.5) -> Iterator[list[Path]]:
    """Batches of paths changed in `folder` from the OS (inotify, FSEvents, ...); [] every `tick`."""
    from watchfiles import Change, watch

    for changes in watch(
        folder,
        stop_event=stop,
        rust_timeout=int(tick * 1000),
        yield_on_timeout=True,
        recursive=False,
        debounce=200,
        raise_interrupt=False,
    ):
        yield [Path(p) for change, p in changes if change != Change.deleted]
