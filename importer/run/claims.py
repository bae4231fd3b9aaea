"""Which watcher imports which inbox file, when several share one PostgreSQL state.

    worker A: take(f) -> TAKEN ... import f ... file f away -> end(f, filed=True)
    worker B: take(f) -> BUSY (A's lease runs)          -> leaves f to A; it leaves the inbox
    A killed: its lease (`--lease`, `lease:`) passes     -> B: take(f) -> TAKEN, imports f

A claim is a row in the state (importer/store/sql_workers.py) keyed by the file's content, so
two workers that see the same file (one inbox on a network file system, or the same export
dropped into two inboxes) never import it at the same time, and once it is filed away a copy
still seen in a shared inbox (the move raced the other worker's listing) is only removed.

While a worker holds claims, a heartbeat thread renews their lease every third of it.  It
writes through a connection of its own: the import's connection is inside the file's
transaction, whose writes nobody sees before it commits.  A worker that dies stops renewing;
the lease runs out and another worker takes the file over.  Importing a file twice adds
nothing (external ids), so a worker that was only slow, not dead, loses nothing either.

A file another worker holds is asked about again only after a delay that doubles from `POLL`
up to a quarter of the lease (the loop looks every 0.2 s), and its content key is kept per
(path, size, mtime_ns): polling a held file neither re-reads it nor queries the state each tick.

SQLite states are one machine's, with one writer at a time (importer/run/lock.py): the
watcher does without claims there, as before.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from importer.store.base import Store
from importer.store.sql_workers import Claim, worker_name

LEASE = 60.0  # seconds a claim lasts without its heartbeat (`--lease`, `lease:`)
POLL = 0.5  # seconds before a file another worker holds is first asked about again (then doubling)
Signature = tuple[int, int]  # (size, mtime_ns): a file rewritten since it was hashed has another


class Claimer:
    """One worker's claims on inbox files, renewed by a heartbeat while `running()`."""

    def __init__(
        self,
        store: Store,
        lease: float = LEASE,
        worker: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store  # a connection of its own (see the module doc)
        self.lease = lease
        self.worker = worker or worker_name()
        self.clock = clock
        self.held: dict[Path, str] = {}  # claimed path -> its content key
        self.keys: dict[Path, tuple[Signature, str]] = {}  # inbox path -> its content key, as of a signature
        self.waits: dict[Path, tuple[float, float]] = {}  # path held elsewhere -> (ask again at, delay)
        self._guard = threading.Lock()  # the heartbeat and the loop share the connection

    def take(self, path: Path) -> Claim | None:
        """Claim `path` (TAKEN and FILED: it is this worker's now); None when it has gone.

        BUSY without asking the state while a file held elsewhere waits out its delay."""
        wait = self.waits.get(path)
        if wait is not None and self.clock() < wait[0]:
            return Claim.BUSY
        key = self.key(path)
        if key is None:
            self.forget(path)
            return None
        with self._guard:
            claim = self.store.claim_file(key, path.name, self.worker, self.lease)
        if claim is Claim.BUSY:
            self._back_off(path, wait)
        else:
            self.waits.pop(path, None)
            self.held[path] = key
        return claim

    def key(self, path: Path) -> str | None:
        """`content_key(path)`, hashed again only when the file's size or mtime changed."""
        signature = _signature(path)
        known = self.keys.get(path)
        if signature is not None and known is not None and known[0] == signature:
            return known[1]
        key = content_key(path)
        if key is None or signature is None:
            self.keys.pop(path, None)
            return None
        self.keys[path] = (signature, key)
        return key

    def _back_off(self, path: Path, wait: tuple[float, float] | None) -> None:
        # The holder files it away within its lease, or dies and the lease runs out: asking more
        # often than a quarter of the lease would learn nothing sooner.
        delay = POLL if wait is None else min(wait[1] * 2, max(self.lease / 4, POLL))
        self.waits[path] = (self.clock() + delay, delay)

    def forget(self, path: Path) -> None:
        """Forget what was kept about `path` (it left the inbox, or this worker is done with it)."""
        self.keys.pop(path, None)
        self.waits.pop(path, None)

    def end(self, path: Path, filed: bool) -> None:
        """Done with `path`: filed away (`filed`), else given back for any worker to take now."""
        if filed:
            self.forget(path)
        key = self.held.pop(path, None)
        if key is not None:
            with self._guard:
                self.store.end_claim(key, self.worker, filed)

    def give_back(self, paths: Sequence[Path]) -> None:
        for path in paths:
            self.end(path, filed=False)

    def renew(self) -> None:
        """The heartbeat's beat: every claim held lasts a whole lease from now."""
        with self._guard:
            self.store.renew_claims(list(self.held.values()), self.worker, self.lease)

    @contextmanager
    def running(self) -> Iterator[Claimer]:
        """The heartbeat runs inside; at the end, claims still held are given back."""
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(stop,), name="claims-heartbeat", daemon=True)
        beat.start()
        try:
            yield self
        finally:
            stop.set()
            beat.join()
            self.give_back(list(self.held))

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(self.lease / 3):
            try:
                self.renew()
            except Exception:  # a lost connection: the loop's next store call says so
                # A missed beat only lets the lease run out: another worker may then import the
                # file again, which adds nothing.  A thread's traceback would tell the user nothing.
                continue


def _signature(path: Path) -> Signature | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def content_key(path: Path) -> str | None:
    """The claim's key: the file's SHA-256 (None when it has gone)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as source:
            for piece in iter(lambda: source.read(1 << 20), b""):
                digest.update(piece)
    except OSError:
        return None
    return digest.hexdigest()
