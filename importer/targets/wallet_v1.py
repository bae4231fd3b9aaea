"""BudgetBakers Wallet REST v1, the seed API (API-CONTRACTS.md section 1A).

Records go in bulk (`POST /user/:uid/records`, one request per batch) with a positive amount and
a `record_type`; the answer lists `error_objects` (the item that failed, the failed property and
why) and `created_object_ids` for the rest, in input order.  There is no external-id field: the
marker rides at the end of `note`, and `lookup` lists each account's records to find it.  The
rate limit counts objects (10,000 a minute), so each request costs its number of records.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from importer.config.secrets import Secret
from importer.core.models import Transaction, UploadResult
from importer.internals.lazy import lazy_module
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


class Options(ServiceOptions):
    user_id: str
    payment_type: str = "debit_card"
    default_category: str = "Others"  # a record must have a category


class WalletV1(RemoteTarget):
    name = "wallet-v1"
    default_url = "https://www.walletapp.net/api/v1"
    default_batch = 1000
    bulk = True
    can_create = frozenset({"account"})  # the API has no category create
    abilities = RemoteTarget.abilities  # the v1 API can neither change nor delete a record
    windows: ClassVar[dict[str, float]] = {"": 60.0}
    Options = Options

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listed: dict[str, dict[str, str]] = {}  # account id → marker → record id, listed this run
        self.created: dict[str, str] = {}  # marker → record id, for the records this run created

    # Records per request.  Smaller than a batch, so a batch's requests overlap (this side builds
    # the next while the server stores the last) and a request fits the per-record budget's last
    # few hundred units at a window's edge instead of waiting a whole window for 1,000 to free up.
    chunk_size = 250

    def auth_headers(self, token: Secret) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"auth:{token.reveal()}".encode()).decode()}

    @property
    def user(self) -> str:
        return f"/user/{self.options.user_id}"

    def list_names(self, kind: str) -> dict[Hashable, str]:
        path = f"{self.user}/accounts" if kind == "account" else f"{self.user}/categories"
        return by_name_and_id(self.http.call(Request("GET", path)).json())

    def create_name(self, kind: str, key: Hashable) -> str:
        account_id = str(uuid.uuid4())
        self.http.call(Request("POST", f"{self.user}/account/{account_id}", body={"name": str(key), "init_amount": 0}))
        return account_id

    def category_key(self, txn: Transaction) -> Hashable | None:
        return super().category_key(txn) or self.options.default_category

    def requests(self, batch: Sequence[Transaction]) -> list[Request]:
        bodies = [[self.item(t) for t in chunk] for chunk in chunks(batch, self.chunk_size)]
        return [Request("POST", f"{self.user}/records", body=body, cost=len(body), safe=False) for body in bodies]

    def item(self, txn: Transaction) -> dict[str, object]:
        return {
            "account_id": self.account_id(txn),
            "category_id": self.category_id(txn),
            "currency_code": txn.currency,
            "amount": abs(txn.amount),
            "record_type": "expense" if txn.amount < 0 else "income",
            "payment_type": self.options.payment_type,
            "record_date": f"{txn.date.isoformat()}T00:00:00Z",
            "note": f"{txn.description} ~~{marker(txn)}",
        }

    def results(self, chunk: Sequence[Transaction], response: httpx.Response) -> list[UploadResult]:
        body = response.json()
        failed = {_marker_of(e.get("record", {}).get("note")): e for e in body.get("error_objects", [])}
        ids = iter(body.get("created_object_ids", []))
        out = []
        for txn in chunk:
            mark = marker(txn)
            error = failed.get(mark)
            if error is None:
                remote = str(next(ids))
                self.created[mark] = remote
                out.append(accepted(txn, remote))
            else:
                out.append(rejected(txn, f"{error.get('failed_property')}: {error.get('description')}"))
        return out

    def remote_markers(self, txns: Sequence[Transaction]) -> dict[str, str]:
        found: dict[str, str] = {}
        for account in sorted({self.account_id(t) for t in txns}):
            found.update(self.account_markers(account))
        return found

    def account_markers(self, account: str) -> dict[str, str]:
        found = {}
        for record in self.http.call(Request("GET", f"{self.user}/account/{account}/records")).json():
            if (mark := _marker_of(record.get("note"))) is not None:
                found[mark] = str(record["id"])
        return found

    def known(self, batch: Sequence[Transaction]) -> dict[str, str]:
        """Like `lookup`, but each account is listed once per run (the API has no date filter on
        account records, so listing per batch would grow with the account), and the records
        this run creates are remembered as they land.  Lost answers are still checked afresh."""
        found: dict[str, str] = {}
        for txn in batch:
            account, mark = self.account_id(txn), marker(txn)
            if account not in self.listed:
                self.listed[account] = self.account_markers(account)
            if remote := self.listed[account].get(mark) or self.created.get(mark):
                found[txn.external_id or ""] = remote
        return found


def _marker_of(note: object) -> str | None:
    match = MARKER_RE.search(note) if isinstance(note, str) else None
    return match.group(0) if match else None
