"""Many workers on one state: inbox claims, run owners and account locks, for both engines.

Several watchers (on one machine or several) may import from one inbox into one PostgreSQL
state.  Three things keep every file imported and archived exactly once, and every dedupe
decision made by one worker at a time:

- **claims**: before importing an inbox file a worker takes its row in `claims`, keyed by the
  file's content hash, with a lease (`lease_until`, milliseconds of the database's clock, so the
  workers' own clocks never matter).  A heartbeat renews the lease while the worker works; a worker
  that dies stops renewing and, once the lease has passed, any other may take the file over.  A
  claim marked `done` (the file was filed away) may be taken again: the same export dropped
  again later is imported again, as one worker does (it adds nothing);
- **run owners**: a run still marked `running` may be a live worker's.  Only a dead owner's run is
  marked `interrupted`, and only a dead owner's pending upload batches are reconciled, each by
  the one worker that claimed it (`claim_batch`);
- **account locks**: a file's import locks the account its statement resolves to, until the
  file's transaction ends (`lock_account`), so two workers import different accounts at once and
  the same account one after the other.

On SQLite one writer holds the whole-state file lock (importer/run/lock.py) for a whole run, so
these are the same statements without the locking: a run still `running` is a dead one, an
account needs no lock of its own, and a claim is taken by its one writer.  PostgreSQL's
overrides (importer/store/postgres_workers.py) prove liveness with session advisory locks, which
the server releases when the owner's connection ends, even by SIGKILL.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from enum import Enum
from typing import ClassVar

from importer.store.rows import now_iso
from importer.store.sqlbase import SqlBase, marks


class Claim(Enum):
    """What asking for an inbox file's claim gave."""

    TAKEN = "taken"  # this worker imports it now
    FILED = "filed"  # taken, but a worker filed this content away before: it may be a leftover copy
    BUSY = "busy"  # another worker's lease is running: leave the file to it


class AccountBusy(Exception):
    """Another worker held the account for the whole wait (importer/run turns it into LockedError)."""

    def __init__(self, key: str, name: str | None = None) -> None:
        """`name`: the account as users know it, when the one who asked for the lock knew it."""
        super().__init__(key)
        self.key = key
        self.name = name if name is not None else key


_TAKE_NEW = (
    "INSERT INTO claims (key, name, worker, status, lease_until, claimed_at) "
    "VALUES (:key, :name, :worker, 'working', :until, :at) ON CONFLICT DO NOTHING"
)
# The claim's row, skipping (PostgreSQL) a row another worker is taking right now instead of
# waiting for it: that worker has the file.
_CLAIM_ROW = "SELECT status, lease_until, worker FROM claims WHERE key = ?{lock}"
_TAKE_OVER = (
    "UPDATE claims SET name = :name, worker = :worker, status = 'working', lease_until = :until, claimed_at = :at "
    "WHERE key = :key"
)
_RENEW = "UPDATE claims SET lease_until = ? WHERE worker = ? AND status = 'working' AND key IN ({})"
_OWNED_RUNNING = "SELECT id, command FROM runs WHERE status = 'running'"
# A pending batch is reconciled only when no live run owns it: its run ended, or was interrupted.
_ORPHANS = (
    "SELECT b.id, b.key, b.external_ids, b.created_at FROM batches b WHERE b.target = ? AND b.status = 'pending' AND NOT EXISTS "
    "(SELECT 1 FROM runs r WHERE r.id = b.run_id AND r.status = 'running' AND r.id <> ?) ORDER BY b.id"
)


def worker_name() -> str:
    """This process, as `claims.worker` and `runs.owner` name it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class WorkersSql(SqlBase):
    """Claims, run owners and account locks (see the module doc); PostgreSQL overrides the hooks."""

    _SKIP_LOCKED: ClassVar[str] = ""  # SQLite's one writer never meets a row another is taking

    # inbox claims -----------------------------------------------------------------------------

    def claim_file(self, key: str, name: str, worker: str, lease: float) -> Claim:
        """Take the claim on the inbox file whose content hash is `key` for `lease` seconds."""
        with self.transaction():
            now = self.clock_ms()
            given = {"key": key, "name": name, "worker": worker, "until": now + int(lease * 1000), "at": now_iso()}
            if self.db.execute(_TAKE_NEW, given).rowcount == 1:
                return Claim.TAKEN
            row = self.db.execute(_CLAIM_ROW.format(lock=self._SKIP_LOCKED), (key,)).fetchone()
            if row is None or not (row[0] == "done" or row[1] < now or row[2] == worker):
                return Claim.BUSY  # another worker's lease runs (or it is taking the file now)
            self.db.execute(_TAKE_OVER, given)
        return Claim.FILED if row[0] == "done" else Claim.TAKEN

    def renew_claims(self, keys: Sequence[str], worker: str, lease: float) -> None:
        """The heartbeat: `worker`'s claims on `keys` last `lease` seconds from now."""
        if keys:
            with self.transaction():
                until = self.clock_ms() + int(lease * 1000)
                self.db.execute(_RENEW.format(marks(len(keys))), (until, worker, *keys))

    def end_claim(self, key: str, worker: str, filed: bool) -> None:
        """`worker` is done with `key`: filed away (`filed`), or given back for anyone to take now."""
        status, until = ("done", 0) if filed else ("working", 0)
        with self.transaction():
            self.db.execute(
                "UPDATE claims SET status = ?, lease_until = ? WHERE key = ? AND worker = ?",
                (status, until, key, worker),
            )

    def clock_ms(self) -> int:
        """Now, in milliseconds, by the clock every worker of this state shares."""
        return int(time.time() * 1000)

    # run owners -------------------------------------------------------------------------------

    def dead_runs(self) -> list[tuple[int, str]]:
        """(id, command) of the runs marked running whose owner is gone.  Under SQLite's
        whole-state lock that is every one: its holder is the only live run."""
        return [(int(run), str(command)) for run, command in self.db.execute(_OWNED_RUNNING).fetchall()]

    def release_dead(self, runs: Sequence[int]) -> None:
        """Let go of the dead runs `dead_runs` found (PostgreSQL holds their locks while it marks them)."""

    def own_run(self, run_id: int) -> None:
        """Hold run `run_id`'s owner lock for as long as this store lives (called in its insert's
        transaction, so no other worker ever sees the run without its owner)."""

    def disown_run(self, run_id: int) -> None:
        """Give run `run_id`'s owner lock back: it has ended."""

    # the journal with many workers ------------------------------------------------------------

    def orphan_batches(self, target: str, run_id: int) -> list[tuple[int, str, tuple[str, ...], str]]:
        """`pending_batches(target)` that no live run other than `run_id` owns, oldest first,
        each with the time it was journalled (ISO 8601, UTC)."""
        rows = self.db.execute(_ORPHANS, (target, run_id)).fetchall()
        return [(int(batch), key, tuple(ids.split("\n")) if ids else (), str(at)) for batch, key, ids, at in rows]

    def claim_batch(self, batch_id: int) -> bool:
        """Take pending batch `batch_id` to reconcile it; False when another worker has it or has
        settled it meanwhile.  Give it back with `release_batch`."""
        found = self.db.execute("SELECT status FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return found is not None and found[0] == "pending"

    def release_batch(self, batch_id: int) -> None:
        """Give back a batch `claim_batch` took."""

    # account locks ----------------------------------------------------------------------------

    def lock_account(self, key: str, wait: float | None = None) -> None:
        """Hold account `key` until the caller's transaction ends, waiting up to `wait` seconds
        (None: the wait the store was opened with), else raise `AccountBusy`.  Nothing to do on
        SQLite: the whole-state lock already makes every run the only writer."""
