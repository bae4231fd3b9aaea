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

SQLite states are one machine's, with one writer at a time (importer/run/lock.py): the
watcher does without claims there, as before.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from importer.store.base import Store
from importer.store.sql_workers import Claim, worker_name

LEASE = 60.0  # seconds a claim lasts without its heartbeat (`--lease`, `lease:`)


class Claimer:
    """One worker's claims on inbox files, renewed by a heartbeat while `running()`."""

    def __init__(self, store: Store, lease: float = LEASE, worker: str | None = None) -> None:
        self.store = store  # a connection of its own (see the module doc)
        self.lease = lease
        self.worker = worker or worker_name()
        self.held: dict[Path, str] = {}  # claimed path -> its content key
        self._guard = threading.Lock()  # the heartbeat and the loop share the connection

    def take(self, path: Path) -> Claim | None:
        """Claim `path` (TAKEN and FILED: it is this worker's now); None when it has gone."""
        key = content_key(path)
        if key is None:
            return None
        with self._guard:
            claim = self.store.claim_file(key, path.name, self.worker, self.lease)
        if claim is not Claim.BUSY:
            self.held[path] = key
        return claim

    def end(self, path: Path, filed: bool) -> None:
        """Done with `path`: filed away (`filed`), else given back for any worker to take now."""
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
