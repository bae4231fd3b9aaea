"""Many workers on one PostgreSQL state: what sql_workers.py's hooks are on a shared server.

Liveness is a session advisory lock: a live run holds the lock keyed by its number on its own
store connection, taken in the transaction that inserts the run, and given back when it ends.
The server drops a session's locks when its connection ends (a SIGKILL, a lost machine: TCP
keepalive), so a run whose lock another session can take has no live owner: it is marked
`interrupted`, by the one worker that took the lock first.  We chose the lock over a heartbeat
column for runs because it needs no clock, no thread and no timeout to tune, and a live worker can
never look dead because it was busy.  (Inbox claims keep a lease and a heartbeat: a file's claim must
outlive nothing, but it is the one thing the issue asks to expire after a set time.)

Every key is two 32-bit numbers: a kind of lock and this state's schema hashed together, and the
run, batch or account.  They never meet the run lock's or the schema lock's one-number keys.

Numbers that users see (runs, batches) are the highest plus one on both engines (sqlbase.NEXT_ID).
With many writers two inserts could compute the same number, so on PostgreSQL an insert first
takes the table's numbering lock until its transaction ends; the next insert then sees it.  The
batch a file lands in the local ledger is inserted at the very end of that file's transaction,
so workers wait for each other only for a commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from importer.internals.lazy import lazy_module
from importer.store.sql_workers import AccountBusy, WorkersSql

if TYPE_CHECKING:
    import psycopg
else:
    psycopg = lazy_module("psycopg")


def _kind(name: str) -> str:
    """The first half of a lock key: what is locked, in this state's schema."""
    return f"hashtext('importer {name} ' || current_schema())"


_RUN = _kind("live run")
_BATCH = _kind("reconcile batch")
_ACCOUNT = _kind("account")
_NUMBERS = _kind("numbers")


class PgWorkersSql(WorkersSql):
    """sql_workers.py's hooks on PostgreSQL: advisory locks for owners, batches and accounts."""

    _SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    lock_wait: float = 0.0  # how long `lock_account` waits unless told: the session's --wait
    # The runs this store's session holds the owner lock of (PostgresStore.__init__ makes it):
    # a session may take its own lock again, so its runs are given back before it looks for dead ones.
    _owned: set[int]

    def clock_ms(self) -> int:
        """The server's clock: one clock for every worker, whatever machine it runs on."""
        return int(self.db.execute("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint").fetchone()[0])

    # run owners ---------------------------------------------------------------------------------

    def dead_runs(self) -> list[tuple[int, str]]:
        """The runs marked running whose owner lock this session could take (kept until
        `release_dead`, so no other worker marks the same run too)."""
        for run in list(self._owned):  # a store runs one run at a time: one still open was abandoned
            self.disown_run(run)
        return [(run, command) for run, command in super().dead_runs() if self._try(_RUN, run)]

    def release_dead(self, runs: Sequence[int]) -> None:
        for run in runs:
            self.db.execute(f"SELECT pg_advisory_unlock({_RUN}, ?)", (run,))

    def own_run(self, run_id: int) -> None:
        self.db.execute(f"SELECT pg_advisory_lock({_RUN}, ?)", (run_id,))
        self._owned.add(run_id)

    def disown_run(self, run_id: int) -> None:
        if run_id in self._owned:
            self._owned.discard(run_id)
            self.db.execute(f"SELECT pg_advisory_unlock({_RUN}, ?)", (run_id,))

    def begin_run(self, command: str) -> int:
        with self.transaction():
            self._lock_numbers()
            return int(super().begin_run(command))  # type: ignore[misc]

    # the journal ------------------------------------------------------------------------------

    def claim_batch(self, batch_id: int) -> bool:
        if not self._try(_BATCH, batch_id):
            return False  # another worker is reconciling it
        if super().claim_batch(batch_id):
            return True
        self.release_batch(batch_id)  # settled by another worker since the list was read
        return False

    def release_batch(self, batch_id: int) -> None:
        self.db.execute(f"SELECT pg_advisory_unlock({_BATCH}, ?)", (batch_id,))

    def begin_batch(self, target: str, key: str, run_id: int, external_ids: Sequence[str], done: bool = False) -> int:
        with self.transaction():
            self._lock_numbers()
            return int(super().begin_batch(target, key, run_id, external_ids, done))  # type: ignore[misc]

    def land_in_state(self, target: str, run_id: int, sha256: str, after: int, landed: int = 0) -> int:
        with self.transaction():
            self._lock_numbers()
            return int(super().land_in_state(target, run_id, sha256, after, landed))  # type: ignore[misc]

    # account locks ------------------------------------------------------------------------------

    def lock_account(self, key: str, wait: float | None = None) -> None:
        """`pg_advisory_xact_lock` on the account, under `lock_timeout`; a timeout undoes only
        this lock's savepoint, so the file's transaction stays usable for the caller to end."""
        seconds = self.lock_wait if wait is None else wait
        if seconds <= 0:  # lock_timeout 0 would mean "wait for ever"
            if not self.db.execute(f"SELECT pg_try_advisory_xact_lock({_ACCOUNT}, hashtext(?))", (key,)).fetchone()[0]:
                raise AccountBusy(key)
            return
        try:
            with self.transaction():
                self._take_within(key, seconds)
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            raise AccountBusy(key) from None

    def _take_within(self, key: str, seconds: float) -> None:
        before = self.db.execute("SELECT current_setting('lock_timeout')").fetchone()[0]
        self.db.execute("SELECT set_config('lock_timeout', ?, true)", (f"{max(1, int(seconds * 1000))}ms",))
        self.db.execute(f"SELECT pg_advisory_xact_lock({_ACCOUNT}, hashtext(?))", (key,))
        self.db.execute("SELECT set_config('lock_timeout', ?, true)", (before,))

    # helpers ------------------------------------------------------------------------------------

    def _try(self, kind: str, number: int) -> bool:
        found: Any = self.db.execute(f"SELECT pg_try_advisory_lock({kind}, ?)", (number,)).fetchone()
        return bool(found[0])

    def _lock_numbers(self) -> None:
        """Until this transaction ends, this worker alone numbers new runs and batches."""
        self.db.execute(f"SELECT pg_advisory_xact_lock({_NUMBERS}, 0)")
