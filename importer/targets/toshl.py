"""Toshl (API-CONTRACTS.md section 4).

One `POST /entries` per record (201, the new id in `Location`), amounts signed (negative =
expense), the external id stored in `extra` (returned verbatim on reads).  `lookup` lists
entries over the batch's dates (`from`/`to` are required, pages start at 0, `Link` says when
there is a next one) and matches `extra.ext_id`.  Every entry needs a category.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from importer.config.secrets import Secret
from importer.core.models import Transaction, UploadResult
from importer.internals.lazy import lazy_module
from importer.targets.base import Ability
from importer.targets.http import Request
from importer.targets.remote import RemoteTarget, ServiceOptions, accepted

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")


class Options(ServiceOptions):
    default_category: str = "Other"  # an entry must have a category


class Toshl(RemoteTarget):
    name = "toshl"
    default_url = "https://api.toshl.com"
    default_batch = 500
    windows: ClassVar[dict[str, float]] = {"": 60.0}
    abilities = RemoteTarget.abilities | {Ability.DELETE}
    Options = Options

    def auth_headers(self, token: Secret) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{token.reveal()}:".encode()).decode()}

    def pages(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page: int | None = 0
        while page is not None:
            response = self.http.call(Request("GET", path, params={**params, "per_page": "500", "page": str(page)}))
            body = response.json()
            rows += body if isinstance(body, list) else [body]  # a lone item may come back bare
            page = page + 1 if "next" in response.links else None
        return rows

    def list_names(self, kind: str) -> dict[Hashable, str]:
        rows = self.pages("/accounts" if kind == "account" else "/categories", {})
        return {k: str(r["id"]) for r in rows for k in (r["name"], str(r["id"]))}

    def create_name(self, kind: str, key: Hashable) -> str:
        if kind == "account":
            body: dict[str, Any] = {"name": str(key), "currency": {"code": self.currencies.get(str(key), "EUR")}}
        else:
            body = {"name": str(key), "type": "expense", "extra": {"importer": "importer"}}
        response = self.http.call(
            Request("POST", "/accounts" if kind == "account" else "/categories", body=body, safe=False)
        )
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def category_key(self, txn: Transaction) -> Hashable | None:
        return super().category_key(txn) or self.options.default_category

    def requests(self, batch: Sequence[Transaction]) -> list[Request]:
        return [Request("POST", "/entries", body=self.item(t), safe=False) for t in batch]

    def item(self, txn: Transaction) -> dict[str, Any]:
        return {
            "amount": txn.amount,
            "currency": {"code": txn.currency},
            "date": txn.date.isoformat(),
            "desc": txn.description[:255],
            "account": self.account_id(txn),
            "category": self.category_id(txn),
            "extra": {"importer": "importer", "ext_id": txn.external_id, "v": 1},
        }

    def results(self, chunk: Sequence[Transaction], response: httpx.Response) -> list[UploadResult]:
        return [accepted(chunk[0], response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])]

    def lookup_prepared(self, txns: Sequence[Transaction]) -> dict[str, str]:
        if not txns:
            return {}
        dates = sorted(t.date for t in txns)
        params = {
            "from": dates[0].isoformat(),
            "to": dates[-1].isoformat(),
            "accounts": ",".join(sorted({self.account_id(t) for t in txns})),
        }
        wanted = {t.external_id for t in txns}
        rows = self.pages("/entries", params)
        return {r["extra"]["ext_id"]: str(r["id"]) for r in rows if (r.get("extra") or {}).get("ext_id") in wanted}

    def delete(self, remote_ids: Sequence[str]) -> None:
        for remote in remote_ids:
            self.http.call(Request("DELETE", f"/entries/{remote}"))
