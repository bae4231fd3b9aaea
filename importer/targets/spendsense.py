"""SpendSense, self-hosted Django (API-CONTRACTS.md section 5); DRF dialect, Bearer as an option.

Creates are GETs with query parameters (`/api/v1/transactions/create/?account=&category=
&amount=&type=`): a positive amount with `type=spent|earn`, at most two decimals (checked here
first: the DRF version answers a bad amount with a 500, which is therefore not retried).  The
create returns no id and the API cannot store a date, a description or a marker, so nothing on
the server tells our records apart: the local state is the only guard against re-sending, and
`lookup` finds nothing.  When a create's answer is lost, the records created since the run
started are counted per (type, amount, category, account) against the creates confirmed so far;
a surplus means the lost one landed.  What nothing can guard: a process killed in the middle of a
batch leaves that batch's landed records unrecorded, and a re-run sends them again (hence the
small default batch).
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from importer.config.secrets import Secret
from importer.core.errors import UploadError
from importer.core.models import Transaction, UploadResult
from importer.internals.lazy import lazy_module
from importer.targets.base import Ability
from importer.targets.http import Request, Uncertain
from importer.targets.remote import RemoteTarget, ServiceOptions, accepted, rejected

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

API = "/api/v1"
Key = tuple[str, str, str, str]


class Options(ServiceOptions):
    dialect: Literal["drf", "bearer"] = "drf"
    default_spent: str = "other"  # category value for uncategorised money out
    default_earn: str = "returning"  # and money in
    icon: str = "\U0001f4cc"  # new categories need a single emoji
    precheck: bool = False  # nothing on the server can be matched


class SpendSense(RemoteTarget):
    name = "spendsense"
    default_url = "http://localhost:8000"
    default_batch = 50  # state records a batch when it returns: small batches bound what a crash can double
    retry_statuses = frozenset({429, 502, 503, 504})  # a DRF 500 is a validation failure in disguise
    rejectable = frozenset({400, 404, 500})
    abilities = frozenset({Ability.PLAN, Ability.PREPARE})  # no delete, and nothing to look up by
    Options = Options

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.started = dt.datetime.now(dt.UTC)
        self.confirmed: collections.Counter[Key] = collections.Counter()

    def auth_headers(self, token: Secret) -> dict[str, str]:
        return {"Authorization": f"{'Token' if self.options.dialect == 'drf' else 'Bearer'} {token.reveal()}"}

    def list_names(self, kind: str) -> dict[Hashable, str]:
        if kind == "account":
            path = f"{API}/accounts/" if self.options.dialect == "drf" else f"{API}/accounts/get/"
            response = self.http.call(Request("GET", path), ok=frozenset({200, 401}))
            rows = response.json().get("accounts", []) if response.status_code == 200 else []
            return {r.get("name") or r.get("account"): r.get("name") or r.get("account") for r in rows}
        path = f"{API}/categories/" if self.options.dialect == "drf" else f"{API}/categories/get/"
        response = self.http.call(Request("GET", path), ok=frozenset({200, 404}))
        rows = response.json().get("categories", []) if response.status_code == 200 else []
        return {(r["value"], r["type"]): r["value"] for r in rows}

    def create_name(self, kind: str, key: Hashable) -> str:
        if kind == "account":
            self.http.call(Request("GET", f"{API}/accounts/create/", params={"account": str(key)}, safe=False))
            return str(key)
        value, kind_ = str(key[0]), str(key[1])  # type: ignore[index]  # (value, spent|earn)
        self.http.call(
            Request(
                "GET",
                f"{API}/categories/create/",
                params={"name": value, "icon": self.options.icon, "type": kind_},
                safe=False,
            )
        )
        return value.lower()

    def category_key(self, txn: Transaction) -> Hashable | None:
        kind = "spent" if txn.amount < 0 else "earn"
        name = super().category_key(txn)
        default = self.options.default_spent if kind == "spent" else self.options.default_earn
        return (str(name).lower() if name else default, kind)

    def requests(self, batch: Sequence[Transaction]) -> list[Request]:
        return [Request("GET", f"{API}/transactions/create/", params=self.params(t), safe=False) for t in batch]

    def params(self, txn: Transaction) -> dict[str, str]:
        kind = "spent" if txn.amount < 0 else "earn"
        return {
            "account": self.account_id(txn),
            "category": str(self.category_id(txn)),
            "amount": f"{abs(txn.amount):.2f}",
            "type": kind,
        }

    def results(self, chunk: Sequence[Transaction], response: httpx.Response) -> list[UploadResult]:
        self.confirmed[self.key(chunk[0])] += 1
        return [accepted(chunk[0], None)]

    def key(self, txn: Transaction) -> Key:
        p = self.params(txn)
        return p["type"], p["amount"], p["category"], p["account"]

    def create(self, todo: Sequence[Transaction], batch: str) -> list[UploadResult]:
        results: dict[int, UploadResult] = {}
        pending = [(i, t) for i, t in enumerate(todo) if not self._refused(i, t, results)]
        for _ in range(4):
            outcomes = list(self.pool.map(lambda item: self._attempt(item[1], batch), pending))
            results.update((i, r) for (i, _), r in zip(pending, outcomes) if r is not None)
            pending = [p for p, r in zip(pending, outcomes) if r is None]
            if not pending:
                break
            pending = self._reconcile(pending, results)
        results.update(
            (i, rejected(t, "the answer was lost repeatedly; check the app before re-running")) for i, t in pending
        )
        return [results[i] for i in range(len(todo))]

    def _refused(self, index: int, txn: Transaction, results: dict[int, UploadResult]) -> bool:
        amount = abs(txn.amount)
        if amount == 0 or amount != round(amount, 2) or amount >= Decimal("1e8"):
            results[index] = rejected(
                txn, f"SpendSense takes positive amounts below 100,000,000 with at most 2 decimals, not {txn.amount}"
            )
            return True
        return False

    def _attempt(self, txn: Transaction, batch: str) -> UploadResult | None:
        try:
            return self._create_once([txn], batch)[0]
        except Uncertain:
            return None

    def _reconcile(
        self, pending: list[tuple[int, Transaction]], results: dict[int, UploadResult]
    ) -> list[tuple[int, Transaction]]:
        """Mark lost creates that the server shows as landed; return those still to send."""
        surplus = self._server_counts() - self.confirmed
        still = []
        for index, txn in pending:
            key = self.key(txn)
            if surplus[key] > 0:
                surplus[key] -= 1
                self.confirmed[key] += 1
                results[index] = accepted(txn, None)
            else:
                still.append((index, txn))
        return still

    def _server_counts(self) -> collections.Counter[Key]:
        params = {
            "from": self.started.isoformat(timespec="microseconds").replace("+00:00", ""),
            "to": (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat().replace("+00:00", ""),
        }
        try:
            response = self.http.call(Request("GET", f"{API}/transactions/", params=params), ok=frozenset({200, 404}))
        except UploadError:
            return collections.Counter()
        rows = response.json().get("transactions", []) if response.status_code == 200 else []
        return collections.Counter((r["type"], str(r["amount"]), r["category"], r["account"]) for r in rows)

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        # Not declared (see the module doc): the journal re-sends a pending batch instead.
        raise self.cannot(Ability.LOOKUP)
