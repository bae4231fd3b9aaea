"""duitmyself v1 (API-CONTRACTS.md section 2).

Each transaction is upserted by `externalId` (`POST /v1/transactions/upsert`) with a
deterministic `Idempotency-Key` (sha256 of the external id and the exact body), so a retry after
a timeout replays the stored answer instead of writing twice: the only target whose creates are
safe to repeat by contract.  Expenses are POSITIVE here, income negative.  An upsert answering
`updated` means the server already held the record: reported as a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from importer.config.secrets import Secret
from importer.core.jsonmoney import dumps
from importer.core.models import Outcome, Transaction, UploadResult
from importer.internals.lazy import lazy_module
from importer.targets.base import Ability, not_held
from importer.targets.http import Request
from importer.targets.remote import RemoteTarget, ServiceOptions, accepted, by_name_and_id, duplicate

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

TXNS = "/v1/transactions"


class Duitmyself(RemoteTarget):
    name = "duitmyself"
    default_url = "https://api.duitmyself.app"
    default_batch = 200
    idempotent = True
    windows: ClassVar[dict[str, float]] = {"-Minute": 60.0, "-Day": 86400.0}
    abilities = RemoteTarget.abilities | {Ability.UPDATE, Ability.DELETE}
    Options = ServiceOptions

    def auth_headers(self, token: Secret) -> dict[str, str]:
        return {"Authorization": f"Bearer {token.reveal()}"}

    def pages(self, path: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor: str | None = ""
        while cursor is not None:
            body = self.http.call(
                Request("GET", path, params={"limit": "500", **({"cursor": cursor} if cursor else {})})
            ).json()
            rows += body.get("data", [])
            cursor = body.get("nextCursor") if body.get("hasMore") else None
        return rows

    def list_names(self, kind: str) -> dict[Hashable, str]:
        return by_name_and_id(self.pages("/v1/accounts" if kind == "account" else "/v1/categories"))

    def create_name(self, kind: str, key: Hashable) -> str:
        if kind == "account":
            request = self.write(
                "/v1/accounts", {"name": str(key), "type": "bank", "currency": self.currencies.get(str(key), "MYR")}
            )
        else:
            request = self.write("/v1/categories/upsert", {"externalId": f"importer:{key}", "name": str(key)})
        return str(self.http.call(request).json()["data"]["id"])

    def write(self, path: str, body: dict[str, Any]) -> Request:
        """A POST whose Idempotency-Key is derived from its exact bytes, so a retry replays it."""
        key = hashlib.sha256(path.encode() + b"\0" + dumps(body)).hexdigest()
        return Request("POST", path, body=body, headers={"Idempotency-Key": key}, safe=True)

    def requests(self, batch: Sequence[Transaction]) -> list[Request]:
        return [self.write(f"{TXNS}/upsert", self.item(t)) for t in batch]

    def item(self, txn: Transaction) -> dict[str, Any]:
        item: dict[str, Any] = {
            "externalId": txn.external_id,
            "accountId": self.account_id(txn),
            "amount": -txn.amount,
            "date": txn.date.isoformat(),
            "note": txn.description,
        }
        if txn.payee:
            item["payeeName"] = txn.payee
        if (category := self.category_id(txn)) is not None:
            item["categoryId"] = category
        return item

    def results(self, chunk: Sequence[Transaction], response: httpx.Response) -> list[UploadResult]:
        body = response.json()
        (txn,) = chunk
        remote = str(body["data"]["id"])
        return [accepted(txn, remote) if body.get("operation") == "created" else duplicate(txn, remote)]

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        wanted = {t.external_id for t in txns}
        return {r["externalId"]: str(r["id"]) for r in self.pages(TXNS) if r.get("externalId") in wanted}

    def update(self, txns: Sequence[Transaction]) -> list[UploadResult]:
        """The same upsert as `send`, for the records the service holds only: it would create the
        rest, and a record it lacks is sent, not updated."""
        held = self.lookup(txns)
        self.prepare(txns)
        written = {r.external_id: r for r in self.create([t for t in txns if t.external_id in held], "update")}
        return [_changed(written[t.external_id]) if t.external_id in held else not_held(self.name, t) for t in txns]

    def delete(self, remote_ids: Sequence[str]) -> None:
        for remote in remote_ids:
            self.http.call(Request("DELETE", f"{TXNS}/{remote}"))


def _changed(result: UploadResult) -> UploadResult:
    """An upsert's answer as an update's: "updated" (or the replay of an identical earlier write)
    means the record now holds these values."""
    if result.outcome is Outcome.REJECTED:
        return result
    return UploadResult(external_id=result.external_id, outcome=Outcome.ACCEPTED, remote_id=result.remote_id)
