"""The embedded default target: a ledger table inside the state database.

A batch is written in one store transaction and the ledger is keyed by external id, so a run
killed at any point leaves each transaction in the ledger exactly once or not at all; a batch
sent again after such a kill answers "duplicate" for what already landed.  Because the ledger
lives in the state database, the upload journal writes a batch, its record and what was accepted
in that same transaction (`in_state`): `send` inside the journal's `Store.transaction()` joins it,
with nothing pending in between.
"""

from __future__ import annotations

from collections.abc import Sequence

from importer.config.settings import TargetSettings
from importer.core.models import Outcome, Transaction, UploadResult
from importer.store.base import Store


class LocalLedger:
    """Stores transactions in the ledger of the state database."""

    name = "local"
    batch_size = 5000
    idempotent = True  # keyed by external id: a batch sent twice lands once
    in_state = True  # writes into the state database: see the module doc

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

    def delete(self, remote_ids: Sequence[str]) -> None:
        self.state.delete_from_ledger(remote_ids)

    def close(self) -> None:
        """Nothing to release: the state owns the connection."""
