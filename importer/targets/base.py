"""The target protocol: every ability a target can have, and how a target declares its own.

A target receives batches of categorised transactions that carry external ids, and answers per
record: accepted (with the remote id), duplicate (it already held that external id) or rejected
(with the reason).  The upload journal (importer/run/journal.py) records each batch as pending before
`send`, and the accepted and duplicate ids once the target answers, so a later run never sends
them again and a run killed mid-batch is reconciled first.

Every target can `send` (create, batched) and `close`.  The other abilities are optional, and a
target names the ones it has in `abilities`:

    PLAN      `plan(txns)`: the exact requests a dry run would make, as text, secrets redacted
    PREPARE   `prepare(txns)`: resolve (or create) the service's accounts and categories first,
              so one missing name stops a file before anything is sent
    UPDATE    `update(txns)`: change records the target holds to the values given
    DELETE    `delete(remote_ids)`: remove records, for `importer undo`
    LOOKUP    `lookup(txns)`: which of `txns` the target holds, found by the external-id marker
              its uploader writes into each record (the crash protocol and the precheck use it)
    IN_STATE  `write_in_state(db, batch)`: land a batch inside a transaction of the state database the
              caller holds, so the journal records it in that same transaction (the local ledger)

Crash safety rests on `send(batch, idempotency_key)` with a key that is deterministic for the
batch's content: a target whose API honours idempotency keys (`idempotent = True`) passes it on,
so re-sending after a crash cannot create duplicates; any other one is asked to `lookup` what
landed before a batch is sent again, and one that can do neither says so in its module doc.

Why a base class with a declared set, not a Protocol per ability: the callers ask one question,
"can this target X?", and ask it of the declared set (`Ability.DELETE in target.abilities`),
never of the object's attributes.  The base class declares every ability's method once, so mypy
checks each call and each implementation's signature against that one declaration, and a call to
an ability a target does not have raises the same clear UploadError ("wallet-v1 has no API to
delete records; remove them in the app.") wherever it comes from.  Per-ability Protocols with
type guards would make mypy insist on the check before each call, but the guard would still rest
on the declared set, and a target that got it wrong would fail with an AttributeError instead of a
sentence.  tests/uploaders/test_abilities.py holds every REGISTRY entry to its declaration: a
declared ability is implemented and works against the target's sandbox; an undeclared one raises.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from importer.core.errors import UploadError
from importer.core.models import Outcome, Transaction, UploadResult

if TYPE_CHECKING:  # annotations only: the store and the config import nothing from here either
    from importer.config.settings import TargetSettings
    from importer.store.base import Store


class Ability(enum.Enum):
    """An optional ability of a target (see the module doc for the method each one names)."""

    PLAN = "plan"
    PREPARE = "prepare"
    UPDATE = "update"
    DELETE = "delete"
    LOOKUP = "lookup"
    IN_STATE = "in_state"


# What a user reads when a target is asked for an ability it does not have, and what to do.
_CANNOT: dict[Ability, str] = {
    Ability.PLAN: "{name} cannot show the requests a dry run would make.",
    Ability.PREPARE: "{name} has no accounts or categories to map before sending.",
    Ability.UPDATE: "{name} has no API to change records it holds; change them in the app.",
    Ability.DELETE: "{name} has no API to delete records; remove them in the app.",
    Ability.LOOKUP: "{name} cannot find the records we created on it; check the app before sending them again.",
    Ability.IN_STATE: "{name} does not write into the state database; its batches go through the upload journal.",
}


class Target(ABC):
    """Somewhere transactions are landed: the local ledger or a budgeting service."""

    name: ClassVar[str]
    idempotent: ClassVar[bool] = False  # honours the idempotency key `send` is given
    abilities: ClassVar[frozenset[Ability]] = frozenset()
    batch_size: int
    # How long after a run was killed a request it had sent may still land at the service: a
    # lookup made sooner can miss records that are only still being stored.  The journal trusts a
    # lookup of a killed run's batch only once this has passed (importer/run/journal.py).
    in_flight_grace: float = 30.0

    def __init__(self, state: Store | None, run_id: int = 0, settings: TargetSettings | None = None) -> None:  # noqa: B027  (the constructor every target is made with)
        """How REGISTRY makes every target: the state it records into (None where nothing is
        stored, as in `importer targets check`), the run, and its configuration."""

    @abstractmethod
    def send(self, batch: Sequence[Transaction], idempotency_key: str) -> list[UploadResult]:
        """Land `batch`; one result per transaction, in order."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def plan(self, txns: Sequence[Transaction]) -> list[str]:
        """PLAN: the requests `send` would make for `txns`, as text; nothing is sent or created."""
        raise self.cannot(Ability.PLAN)

    def prepare(self, txns: Iterable[Transaction], *, dry_run: bool = False) -> None:
        """PREPARE: resolve every account and category `txns` use; create or report the missing
        ones (with `dry_run`, note what would be created and create nothing)."""
        raise self.cannot(Ability.PREPARE)

    def update(self, txns: Sequence[Transaction]) -> list[UploadResult]:
        """UPDATE: give the records the target holds for `txns` their values; one result per
        transaction, in order: accepted (changed) or rejected (not held, or refused)."""
        raise self.cannot(Ability.UPDATE)

    def delete(self, remote_ids: Sequence[str]) -> None:
        """DELETE: remove these records (for undo); an id no longer there is not an error."""
        raise self.cannot(Ability.DELETE)

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        """LOOKUP: external_id → remote id, for those of `txns` the target already holds."""
        raise self.cannot(Ability.LOOKUP)

    def write_in_state(self, batch: Sequence[Transaction]) -> list[UploadResult]:
        """IN_STATE: `send` inside the store transaction the caller holds (it joins it, committing
        nothing), so the journal's record of the batch commits with the batch."""
        raise self.cannot(Ability.IN_STATE)

    def cannot(self, ability: Ability) -> UploadError:
        """The error for a call to `ability`, which this target does not have."""
        return UploadError(self.name, "-", _CANNOT[ability].format(name=self.name))


def not_held(target: str, txn: Transaction) -> UploadResult:
    """The `update` result for a record the target does not hold: there is nothing to change."""
    reason = f"{target} does not hold this record, so there is nothing to update; send it instead."
    return UploadResult(external_id=txn.external_id or "", outcome=Outcome.REJECTED, reason=reason)
