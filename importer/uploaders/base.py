"""The target protocol every uploader follows.

A target receives batches of categorised transactions that carry external ids, and answers per
record: accepted (with the remote id), duplicate (it already held that external id) or rejected
(with the reason).  The pipeline records accepted and duplicate ids in the state database, so a
later run never sends them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from importer.models import Transaction, UploadResult


class Target(Protocol):
    """Somewhere transactions are landed: the local ledger or a budgeting service."""

    name: str
    batch_size: int

    def send(self, batch: Sequence[Transaction]) -> list[UploadResult]:
        """Land `batch`; one result per transaction, in order."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
