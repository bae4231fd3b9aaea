"""The upload journal: what was about to be sent is written down before it is sent.

A run can die between any two instructions (a kill, a power cut, a lost connection), and the
worst moment is after a target has landed a batch but before we have recorded that it did.  So:

1. before a batch is sent, it is stored as *pending* with its deterministic idempotency key
   (`batch_key`) and its content (the external ids, in order, in the batch's own row);
2. after the target confirms, one store transaction marks it *done* (keeping how many were
   confirmed, not the ids: a batch is one row, not one row per transaction) and records the
   accepted ids with their remote ids, so a later run never sends them again;
3. the next run first *reconciles* every pending batch of its target whose run is over (with many
   workers on one state, a live worker's batch is its own; each orphan is claimed by one worker:
   importer/store/sql_workers.py), before sending anything
   new: a target that honours idempotency keys gets the batch again under the same key (it lands
   once); any other target is asked which records it already holds (`Target.lookup`, by the
   external-id marker its uploader writes), those are marked accepted, and only the rest is sent.

A lookup right after a kill can miss records that are on their way: the killed run may have
written a request the service has read but not yet stored, and nothing can tell that request from
one that never arrived.  So a lookup that misses records of a killed run's batch is trusted only
once the target's in-flight grace (`Target.in_flight_grace`, the `in_flight_grace` setting, by
default the target's timeout) has passed since the killed run could last have sent anything; until
then the run waits and looks again.  That moment is bounded by when this run asked for the
batches of runs that are over (each was dead by then: this run holds the state, or found the dead
run's lock free) and by the batch's journalling plus `LONGEST_SEND`, so a batch of a run killed long
ago costs no wait.

A target that writes into the state database itself (it declares `Ability.IN_STATE`, as the local
ledger does) needs none of this: its batch, the batch's record and the accepted ids are written in
one SQLite transaction, so there is no moment at which it has landed without our knowing.  (The
local ledger's records are the stored rows themselves, marked landed: `Store.land_in_state` lands
a whole file's new rows that way with one statement in the file's own transaction.)  A target
that can neither honour keys nor `lookup` (no `Ability.LOOKUP`) has its pending batches sent again.

A batch the target refused outright (an HTTP 4xx answer: nothing landed) is marked *failed*; its
transactions stay unsent and go out with the next run that imports them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from importer.core.errors import UploadError
from importer.core.models import Outcome, Transaction, UploadResult
from importer.internals.crash import crash_point
from importer.store.base import Store
from importer.targets.base import Ability, Target

# HTTP answers that say the request was refused as a whole; any other failure may have landed.
_RETRYABLE = {408, 409, 425, 429}

# How long after its journalling a batch's requests may still be sent, every retry and
# rate-limit pause included: HTTP targets give up after `retries` attempts of `timeout` seconds
# (6 of 30 s by default), far within this.
LONGEST_SEND = 3600.0


@dataclass
class Reconciliation:
    """What reconciling the pending batches of one target did."""

    batches: int = 0
    resent: int = 0
    found: int = 0
    sent: int = 0
    waited: float = 0.0  # seconds spent letting a killed run's requests land before looking again
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PendingBatch:
    id: int
    key: str
    external_ids: tuple[str, ...]
    journalled: str  # ISO 8601, UTC, to the second

    def last_send_bound(self) -> float:
        """The latest moment (epoch seconds) its run can have been sending it."""
        return dt.datetime.fromisoformat(self.journalled).timestamp() + 1 + LONGEST_SEND


class Journal:
    """Journalled sending to one target for one run."""

    def __init__(self, state: Store, target: Target, run_id: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self.state = state
        self.target = target
        self.run_id = run_id
        self.sleep = sleep
        self.asked = time.time()  # when `reconcile` asked for the batches of runs that are over

    # sending --------------------------------------------------------------------------------

    def send(self, batch: Sequence[Transaction], key: str) -> list[UploadResult]:
        """Send one batch under `key`, journalled; raises UploadError (the batch stays recorded)."""
        if Ability.IN_STATE in self.target.abilities:
            return self._write_in_state(batch, key)
        batch_id = self._begin(key, [t.external_id or "" for t in batch])
        return self._send_recorded(batch_id, batch, key)

    def _write_in_state(self, batch: Sequence[Transaction], key: str) -> list[UploadResult]:
        """Land, record and confirm a batch of a target inside the state database, atomically."""
        crash_point("upload.pending")
        with self.state.transaction():
            self.state.begin_batch(self.target.name, key, self.run_id, [t.external_id or "" for t in batch], done=True)
            results = self.target.write_in_state(batch)  # joins this transaction (see Store.transaction)
            self.state.mark_accepted(self.target.name, results, self.run_id)
        crash_point("upload.sent")
        crash_point("upload.done")
        return results

    def _send_recorded(self, batch_id: int, batch: Sequence[Transaction], key: str) -> list[UploadResult]:
        crash_point("upload.pending")
        try:
            results = self.target.send(batch, key)
        except UploadError as exc:
            self._fail(batch_id, exc)
            raise
        crash_point("upload.sent")
        self._complete(batch_id, results)
        crash_point("upload.done")
        return results

    def _begin(self, key: str, external_ids: Sequence[str]) -> int:
        return self.state.begin_batch(self.target.name, key, self.run_id, external_ids)

    def _complete(self, batch_id: int, results: Sequence[UploadResult]) -> None:
        """Mark done, store remote ids and the accepted records, all in one transaction."""
        self.state.finish_batch(self.target.name, batch_id, results, self.run_id, "done")

    def _fail(self, batch_id: int, exc: UploadError) -> None:
        refused = exc.status is not None and 400 <= exc.status < 500 and exc.status not in _RETRYABLE
        self.state.fail_batch(batch_id, "failed" if refused else "pending", str(exc))

    # reconciling ----------------------------------------------------------------------------

    def pending(self) -> list[PendingBatch]:
        """This target's batches that were sent (or about to be) without a confirmation, by runs
        that are over: a live worker's pending batch is its own to finish."""
        return [PendingBatch(*row) for row in self.state.orphan_batches(self.target.name, self.run_id)]

    def reconcile(self) -> Reconciliation:
        """Settle every pending batch of this target that no live run owns, each claimed first
        (another worker reconciling it meanwhile is skipped); stops at the first one that cannot
        be settled."""
        outcome = Reconciliation()
        # Every run whose batches this finds was over by now: this run holds the state (SQLite),
        # or the dead run's lock was free (PostgreSQL), so it sent nothing after this moment.
        self.asked = time.time()
        for batch in self.pending():
            if not self.state.claim_batch(batch.id):
                continue  # another worker has it, or has just settled it
            try:
                self._reconcile_claimed(batch, outcome)
            except UploadError as exc:
                outcome.errors.append(f"pending batch {batch.id} could not be reconciled: {exc}")
                break
            finally:
                self.state.release_batch(batch.id)
            outcome.batches += 1
        return outcome

    def _reconcile_claimed(self, batch: PendingBatch, outcome: Reconciliation) -> None:
        crash_point("reconcile")
        self._reconcile_one(batch, outcome)

    def _reconcile_one(self, batch: PendingBatch, outcome: Reconciliation) -> None:
        txns = self._stored(batch.external_ids)
        if not txns:
            self._complete(batch.id, [])
            return

        if self.target.idempotent:
            # Same content, same key: a service that saw the key answers with its first result.
            # (Content shrinks only if some records were confirmed another way; then it is a new batch.)
            same = len(txns) == len(batch.external_ids)
            self._send_recorded(batch.id, txns, batch.key if same else batch_key(self.target.name, txns))
            outcome.resent += len(txns)
            return
        found = self._held(txns)
        rest = [t for t in txns if t.external_id not in found]
        if rest and Ability.LOOKUP in self.target.abilities and (wait := self._in_flight(batch)) > 0:
            self.sleep(wait)  # let what the killed run had sent land, then ask again
            outcome.waited += wait
            found |= self._held(rest)
            rest = [t for t in txns if t.external_id not in found]
        new_id = self._settle(batch.id, found, rest)
        outcome.found += len(found)
        if new_id is not None:
            self._send_recorded(new_id, rest, batch_key(self.target.name, rest))
            outcome.sent += len(rest)

    def _held(self, txns: Sequence[Transaction]) -> dict[str, str]:
        """Those of `txns` the target holds (external id → remote id); none if it cannot look up."""
        if Ability.LOOKUP not in self.target.abilities:
            return {}
        wanted = {t.external_id for t in txns}
        return {ext: rid for ext, rid in self.target.lookup(txns).items() if ext in wanted}

    def _in_flight(self, batch: PendingBatch) -> float:
        """Seconds until a request `batch`'s killed run sent can no longer be on its way."""
        last_send = min(self.asked, batch.last_send_bound())
        return max(0.0, last_send + self.target.in_flight_grace - time.time())

    def _settle(self, batch_id: int, found: dict[str, str], rest: Sequence[Transaction]) -> int | None:
        """Record what the target holds, close the batch, and journal the rest as a new batch.

        One transaction, so the records not found are never out of the journal.
        """

        results = [
            UploadResult(external_id=ext, outcome=Outcome.DUPLICATE, remote_id=rid) for ext, rid in found.items()
        ]
        with self.state.transaction():
            self._complete(batch_id, results)
            if not rest:
                return None
            return self._begin(batch_key(self.target.name, rest), [t.external_id or "" for t in rest])

    def _stored(self, external_ids: Sequence[str]) -> list[Transaction]:
        """The stored transactions of a batch, in batch order, leaving out any the target already took."""
        accepted = self.state.accepted_ids(self.target.name, external_ids)
        wanted = [ext for ext in external_ids if ext not in accepted]
        found = self.state.transactions_by_id(wanted)
        return [found[ext] for ext in wanted if ext in found]


def batch_key(target: str, batch: Sequence[Transaction]) -> str:
    """A deterministic idempotency key: the same records to the same target give the same key."""
    digest = hashlib.sha256(target.encode())
    for txn in batch:
        digest.update(b"\0" + (txn.external_id or "").encode())
    return digest.hexdigest()[:32]
