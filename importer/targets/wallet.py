"""BudgetBakers Wallet REST, the current API (API-CONTRACTS.md section 1B).

`POST /v1/api/records` takes up to 50 records; the answer is a batch envelope (200 all created,
207 mixed, 400 all refused) with a result per `inputIndex`.  Amounts are signed (negative =
expense).  No idempotency key and no external id: the marker is appended to `note`, and
`lookup` lists records by date range (always explicit bounds: without them the API shows only
the last 3 months).  The token bucket is hourly; 409 means an initial sync is running: retried.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from importer.config.secrets import Secret
from importer.core.models import Transaction, UploadResult
from importer.internals.lazy import lazy_module
from importer.targets.base import Ability
from importer.targets.http import Request
from importer.targets.remote import (
    MARKER_RE,
    RemoteTarget,
    ServiceOptions,
    accepted,
    by_name_and_id,
    chunks,
    marker,
    rejected,
)

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

API = "/v1/api"


class Options(ServiceOptions):
    category_parent: str = "Others"  # the system category new categories are created under
    account_type: str = "CurrentAccount"


class Wallet(RemoteTarget):
    name = "wallet"
    default_url = "https://rest.budgetbakers.com/wallet"
    default_batch = 500
    bulk = True
    chunk_size = 50
    windows: ClassVar[dict[str, float]] = {"": 3600.0}
    token_bucket = True  # "Rate limit: token bucket" (API-CONTRACTS.md 1B)
    retry_statuses = frozenset({409, 429, 500, 502, 503, 504})
    rejectable = frozenset({400, 404, 422})  # a 409 here is the initial sync, not the record
    ok_statuses = frozenset({200, 207, 400})  # 400 carries the per-record envelope too
    abilities = RemoteTarget.abilities | {Ability.DELETE}
    Options = Options
    multi_currency: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.multi_currency = set()
        super().__init__(*args, **kwargs)

    def prepare(self, txns: Iterable[Transaction], *, dry_run: bool = False) -> None:
        txns = list(txns)
        self.multi_currency.update(_multi_currency_accounts([RemoteTarget.account_key(self, t) for t in txns], txns))
        super().prepare(txns, dry_run=dry_run)

    def account_key(self, txn: Transaction) -> str:
        # A Wallet account holds one currency, so a statement in several (Revolut, Wise) lands in
        # one account per currency: "<account> (<CUR>)".
        name = super().account_key(txn)
        return f"{name} ({txn.currency})" if name in self.multi_currency else name

    def auth_headers(self, token: Secret) -> dict[str, str]:
        return {"Authorization": f"Bearer {token.reveal()}"}

    def list_names(self, kind: str) -> dict[Hashable, str]:
        key = "accounts" if kind == "account" else "categories"
        return by_name_and_id(self.pages(f"{API}/{key}", key, {}))

    def pages(self, path: str, key: str, params: dict[str, str] | list[tuple[str, str]]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            query = [
                *(params.items() if isinstance(params, dict) else params),
                ("limit", "200"),
                ("offset", str(offset)),
            ]
            body = self.http.call(Request("GET", path, params=query)).json()  # type: ignore[arg-type]
            rows += body.get(key, [])
            offset = body.get("nextOffset")
        return rows

    def create_name(self, kind: str, key: Hashable) -> str:
        if kind == "account":
            body = {
                "name": str(key),
                "accountType": self.options.account_type,
                "currencyCode": self.currencies.get(str(key), "EUR"),
                "initialBalance": 0,
            }
            return str(
                self.http.call(Request("POST", f"{API}/accounts", body=body, safe=False)).json()["account"]["id"]
            )
        parent = self.names["category"].get(self.options.category_parent, self.options.category_parent)
        body = {"name": str(key), "parentId": parent}
        return str(
            self.http.call(Request("POST", f"{API}/categories/custom", body=body, safe=False)).json()["category"]["id"]
        )

    def requests(self, batch: Sequence[Transaction]) -> list[Request]:
        return [
            Request(
                "POST", f"{API}/records", params={"returnData": "false"}, body=[self.item(t) for t in c], safe=False
            )
            for c in chunks(batch, self.chunk_size)
        ]

    def item(self, txn: Transaction) -> dict[str, object]:
        item: dict[str, object] = {
            "accountId": self.account_id(txn),
            "amount": {"value": txn.amount, "currencyCode": txn.currency},
            "recordDate": f"{txn.date.isoformat()}T12:00:00Z",
            "note": f"{txn.description[:230]} [{marker(txn)}]",
        }
        if txn.payee:
            item["counterParty"] = txn.payee[:255]
        if (category := self.category_id(txn)) is not None:
            item["categoryId"] = category
        return item

    def results(self, chunk: Sequence[Transaction], response: httpx.Response) -> list[UploadResult]:
        by_index = {r["inputIndex"]: r for r in response.json().get("results", [])}
        out = []
        for index, txn in enumerate(chunk):
            result = by_index.get(index, {"error": "no result for this record in the answer"})
            if result.get("success"):
                out.append(accepted(txn, str(result["id"])))
            else:
                out.append(rejected(txn, f"{result.get('error')} (fields: {', '.join(result.get('fields', []))})"))
        return out

    def remote_markers(self, txns: Sequence[Transaction]) -> dict[str, str]:
        dates = sorted(t.date for t in txns)
        params = [("recordDate", f"gte.{dates[0]}"), ("recordDate", f"lte.{dates[-1]}"), ("note", "contains.imp:")]
        found = {}
        for record in self.pages(f"{API}/records", "records", params):
            if (match := MARKER_RE.search(record.get("note") or "")) is not None:
                found[match.group(0)] = str(record["id"])
        return found

    def delete(self, remote_ids: Sequence[str]) -> None:
        for chunk in chunks(list(remote_ids), 10):
            self.http.call(Request("DELETE", f"{API}/records", body={"ids": list(chunk)}))


def _multi_currency_accounts(names: Iterable[str], txns: Sequence[Transaction]) -> set[str]:
    currencies: dict[str, set[str]] = {}
    for name, txn in zip(names, txns):
        currencies.setdefault(name, set()).add(txn.currency)
    return {name for name, seen in currencies.items() if len(seen) > 1}
