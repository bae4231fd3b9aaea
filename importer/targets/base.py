"""The target protocol every uploader follows.

A target receives batches of categorised transactions that carry external ids, and answers per
record: accepted (with the remote id), duplicate (it already held that external id) or rejected
(with the reason).  The upload journal (importer/run/journal.py) records each batch as pending before
`send`, and the accepted and duplicate ids once the target answers, so a later run never sends
them again and a run killed mid-batch is reconciled first.

Crash safety rests on three promises a target makes:

* `send(batch, idempotency_key)`: the key is deterministic for the batch's content; a target whose
  API honours idempotency keys (`idempotent = True`) passes it on, so re-sending after a crash
  cannot create duplicates.
* `lookup(txns)`: for a target without idempotency keys, which of `txns` the service already
  holds (found by the external-id marker the uploader writes into each record), so a batch that
  may have landed before a crash is checked before it is sent again.
* `delete(remote_ids)`: removes records for `importer undo`, where the API allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from importer.core.models import Transaction, UploadResult


class Target(Protocol):
    """Somewhere transactions are landed: the local ledger or a budgeting service."""

    name: str
    batch_size: int
    idempotent: bool

    def send(self, batch: Sequence[Transaction], idempotency_key: str) -> list[UploadResult]:
        """Land `batch`; one result per transaction, in order."""
        ...

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        """external_id → remote id, for those of `txns` the target already holds."""
        ...

    def delete(self, remote_ids: Sequence[str]) -> None:
        """Remove records (for undo); raises UploadError where the service cannot delete."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
