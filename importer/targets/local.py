"""The embedded default target: the ledger inside the state database.

The ledger is the stored transactions the local target holds (the `ledger` view), not a copy: a
transaction is written once, and landing it marks its stored row (importer/store/sqlite_stream.py;
`Store.land_in_state` lands a whole file's new rows with one statement).  A batch is landed in one
store transaction and keyed by external id, so a run killed at any point leaves each transaction
in the ledger exactly once or not at all; a batch sent again after such a kill answers "duplicate"
for what already landed.  Because the ledger
lives in the state database, it declares `Ability.IN_STATE`: the upload journal writes a batch,
its record and what was accepted in that same transaction (`write_in_state` joins the journal's
`Store.transaction()`), with nothing pending in between.  Otherwise it is a target like the others:
`undo` removes its records through `delete`.
"""

from __future__ import annotations

from collections.abc import Sequence

from importer.config.settings import TargetSettings
from importer.core.models import Outcome, Transaction, UploadResult
from importer.store.base import LEDGER_TARGET, Store
from importer.targets.base import Ability, Target, not_held


class LocalLedger(Target):
    """Stores transactions in the ledger of the state database."""

    name = LEDGER_TARGET  # the store answers "what does local hold" from the rows it marked
    batch_size = 5000
    idempotent = True  # keyed by external id: a batch sent twice lands once
    abilities = frozenset({Ability.IN_STATE, Ability.LOOKUP, Ability.UPDATE, Ability.DELETE})

    def __init__(self, state: Store, run_id: int = 0, settings: TargetSettings | None = None) -> None:
        self.state = state
        self.run_id = run_id

    def send(self, batch: Sequence[Transaction], idempotency_key: str = "") -> list[UploadResult]:
        """Land `batch` in one transaction (the caller's, when it holds one)."""
        # One lookup for the batch instead of one per record: what was already in the ledger (or
        # earlier in this batch) answers "duplicate", as the keyed insert leaves it in place.
        with self.state.transaction():
            fresh = self._fresh(batch)
            self.state.add_to_ledger(batch, self.run_id)
        return [
            UploadResult(external_id=t.external_id or "", outcome=outcome, remote_id=t.external_id)
            for t, outcome in zip(batch, fresh)
        ]

    def write_in_state(self, batch: Sequence[Transaction]) -> list[UploadResult]:
        """`send` inside the store transaction the caller holds (it joins it, committing nothing)."""
        return self.send(batch)

    def _fresh(self, batch: Sequence[Transaction]) -> list[Outcome]:
        """Per record: ACCEPTED if inserting it will add a row, DUPLICATE if its id is already there."""
        held = set(self.lookup(batch))
        outcomes: list[Outcome] = []
        for txn in batch:
            ext = txn.external_id
            outcomes.append(Outcome.DUPLICATE if ext is not None and ext in held else Outcome.ACCEPTED)
            if ext is not None:  # a key can repeat only when there is one: a record without an id never does
                held.add(ext)
        return outcomes

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        """external id → itself, for the records of `txns` already in the ledger."""
        return {ext: ext for ext in self.state.ledger_ids(t.external_id for t in txns if t.external_id)}

    def update(self, txns: Sequence[Transaction]) -> list[UploadResult]:
        """Replace the ledger's record of each of `txns` it holds; the others are not held."""
        held = self.lookup(txns)
        self.state.update_in_ledger([t for t in txns if t.external_id in held])
        return [_updated(t) if t.external_id in held else not_held(self.name, t) for t in txns]

    def delete(self, remote_ids: Sequence[str]) -> None:
        self.state.delete_from_ledger(remote_ids)

    def close(self) -> None:
        """Nothing to release: the state owns the connection."""


def _updated(txn: Transaction) -> UploadResult:
    return UploadResult(external_id=txn.external_id or "", outcome=Outcome.ACCEPTED, remote_id=txn.external_id)
