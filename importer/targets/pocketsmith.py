"""PocketSmith v2 (API-CONTRACTS.md section 3, pocketsmith-openapi.json).

One `POST /transaction_accounts/{id}/transactions` per record, sent with bounded concurrency;
amounts signed (negative = debit).  No external id and no idempotency key: the marker goes at
the end of `note` (which the API's `search` covers), and `lookup` lists the account's
transactions over the batch's dates, following the `Link` header, before anything is created.
Transaction accounts cannot be created through the API; categories can.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from importer.config.secrets import Secret
from importer.core.models import Transaction, UploadResult
from importer.internals.lazy import lazy_module
from importer.targets.base import Ability
from importer.targets.http import Request
from importer.targets.remote import MARKER_RE, RemoteTarget, ServiceOptions, accepted, marker

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")


class Options(ServiceOptions):
    user_id: int | None = None  # found with GET /me when not given
    default_account: str | None = None  # transaction account for statements whose account is not mapped


class PocketSmith(RemoteTarget):
    name = "pocketsmith"
    default_url = "https://api.pocketsmith.com/v2"
    default_batch = 500
    can_create = frozenset({"category"})
    rejectable = frozenset({400, 403, 404, 422})
    abilities = RemoteTarget.abilities | {Ability.DELETE}
    Options = Options
    _user: int | None = None

    def auth_headers(self, token: Secret) -> dict[str, str]:
        return {"X-Developer-Key": token.reveal()}

    @property
    def user(self) -> int:
        if self._user is None:
            self._user = self.options.user_id or int(self.http.call(Request("GET", "/me")).json()["id"])
        return self._user

    def account_key(self, txn: Transaction) -> str:
        name = txn.target_account or txn.account
        return self.settings.accounts.get(name) or self.options.default_account or name

    def list_names(self, kind: str) -> dict[Hashable, str]:
        if kind == "account":
            rows = self.http.call(Request("GET", f"/users/{self.user}/transaction_accounts")).json()
            return {k: str(r["id"]) for r in rows for k in (r["name"], str(r["id"]))}
        tree = self.http.call(Request("GET", f"/users/{self.user}/categories")).json()
        return {k: str(c["id"]) for c in _flatten(tree) for k in (c["title"], str(c["id"]))}

    def create_name(self, kind: str, key: Hashable) -> str:
        category = self.http.call(
            Request("POST", f"/users/{self.user}/categories", body={"title": str(key)}, safe=False)
        ).json()
        return str(category["id"])

    def requests(self, batch: Sequence[Transaction]) -> list[Request]:
        return [
            Request("POST", f"/transaction_accounts/{self.account_id(t)}/transactions", body=self.item(t), safe=False)
            for t in batch
        ]

    def item(self, txn: Transaction) -> dict[str, Any]:
        item: dict[str, Any] = {
            "payee": txn.payee or txn.description,
            "amount": txn.amount,
            "date": txn.date.isoformat(),
            "note": f"{txn.notes or txn.description} [{marker(txn)}]",
        }
        if txn.memo:
            item["memo"] = txn.memo
        if (category := self.category_id(txn)) is not None:
            # the API takes a number; a dry run's placeholder for a category to create stays text
            item["category_id"] = int(category) if category.isdigit() else category
        return item

    def results(self, chunk: Sequence[Transaction], response: httpx.Response) -> list[UploadResult]:
        return [accepted(chunk[0], str(response.json()["id"]))]

    def remote_markers(self, txns: Sequence[Transaction]) -> dict[str, str]:
        dates = sorted(t.date for t in txns)
        found: dict[str, str] = {}
        for account in sorted({self.account_id(t) for t in txns}):
            params = {"start_date": dates[0].isoformat(), "end_date": dates[-1].isoformat(), "per_page": "1000"}
            page: int | None = 1
            while page is not None:
                response = self.http.call(
                    Request(
                        "GET", f"/transaction_accounts/{account}/transactions", params={**params, "page": str(page)}
                    )
                )
                for row in response.json():
                    if (match := MARKER_RE.search(row.get("note") or "")) is not None:
                        found[match.group(0)] = str(row["id"])
                page = page + 1 if "next" in response.links else None
        return found

    def delete(self, remote_ids: Sequence[str]) -> None:
        for remote in remote_ids:
            self.http.call(Request("DELETE", f"/transactions/{remote}"))


def _flatten(tree: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [node for c in tree for node in (c, *_flatten(c.get("children") or []))]
