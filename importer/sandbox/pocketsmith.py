"""Fake of the PocketSmith API v2 (API-CONTRACTS.md section 3, pocketsmith-openapi.json).

`X-Developer-Key` (or Bearer) auth, 401 `{"error"}` otherwise; one transaction per POST into a
transaction account, 422 on validation, 201 with the full Transaction, **no dedup**; lists page
with `page` (from 1) and `per_page` (10..1000, default 30) and send `Per-Page`, `Total` and an
RFC 5988 `Link` header; `search` covers payee, note, labels, category title, amount and date.
No rate limit is documented, so none is enforced (use the faults for 429/503-like trouble).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from importer.sandbox.common import DateIndex, Fake, Limits, MoneyJSON, body_json, json_error

TOKEN = "ps-sandbox-4c0d7f1ab8e29d35a6b1"
USER_ID = 1001
ACCOUNTS = [(2001, "Checking", "usd"), (2002, "Giro", "eur"), (2003, "Savings", "usd")]


class PocketSmithFake(Fake):
    def __init__(self, limits: Limits) -> None:
        super().__init__("pocketsmith", json_error, limits, fault_status=503)
        self.reset()
        for method, path, handler in [
            ("GET", "/me", self.me),
            ("GET", "/users/{uid}/transaction_accounts", self.accounts_list),
            ("GET", "/users/{uid}/categories", self.categories_list),
            ("POST", "/users/{uid}/categories", self.category_create),
            ("POST", "/transaction_accounts/{aid}/transactions", self.transaction_create),
            ("GET", "/transaction_accounts/{aid}/transactions", self.transactions_list),
            ("DELETE", "/transactions/{tid}", self.transaction_delete),
        ]:
            self.app.add_api_route(path, handler, methods=[method])  # type: ignore[arg-type]

    def reset(self) -> None:
        self.accounts = {a: {"id": a, "name": n, "currency_code": c, "type": "bank"} for a, n, c in ACCOUNTS}
        self.categories: dict[int, dict[str, Any]] = {}
        self.next_id = 5000
        self.by_date = DateIndex()

    def gate(self, request: Request, uid: str | None = None) -> Response | None:
        key = request.headers.get("x-developer-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if key != TOKEN:
            return json_error(401, "You must be authenticated to access this resource.")
        if uid is not None and uid != str(USER_ID):
            return json_error(403, "You are not allowed to access this user.")
        return None

    def new_int(self) -> int:
        self.next_id += 1
        return self.next_id

    async def me(self, request: Request) -> Response:
        return self.gate(request) or MoneyJSON(
            {"id": USER_ID, "login": "sandbox", "name": "Sandbox", "email": "sandbox@example.com"}
        )

    async def accounts_list(self, request: Request, uid: str) -> Response:
        return self.gate(request, uid) or MoneyJSON(list(self.accounts.values()))

    async def categories_list(self, request: Request, uid: str) -> Response:
        if refused := self.gate(request, uid):
            return refused
        tree = [
            dict(c, children=[k for k in self.categories.values() if k["parent_id"] == c["id"]])
            for c in self.categories.values()
            if c["parent_id"] is None
        ]
        return MoneyJSON(tree)

    async def category_create(self, request: Request, uid: str) -> Response:
        if refused := self.gate(request, uid):
            return refused
        body = await body_json(request)
        if not isinstance(body, dict) or not body.get("title"):
            return json_error(422, "Title can't be blank")
        category = {"id": self.new_int(), "title": body["title"], "parent_id": body.get("parent_id"), "children": []}
        self.categories[category["id"]] = category
        return MoneyJSON(category, status_code=201)

    async def transaction_create(self, request: Request, aid: str) -> Response:
        if refused := self.gate(request):
            return refused
        account = self.accounts.get(int(aid)) if aid.isdigit() else None
        if account is None:
            return json_error(404, "Transaction account not found")
        body = await body_json(request)
        if (problem := self.invalid(body)) is not None:
            return json_error(422, problem)
        labels = body.get("labels") or []
        labels = [x.strip() for x in labels.split(",") if x.strip()] if isinstance(labels, str) else list(labels)
        category = self.categories.get(body["category_id"]) if body.get("category_id") else None
        now = dt.datetime.now(dt.UTC).isoformat()
        txn = {
            "id": self.new_int(),
            "payee": body["payee"],
            "original_payee": body["payee"],
            "date": body["date"],
            "amount": body["amount"],
            "type": "debit" if body["amount"] < 0 else "credit",
            "is_transfer": bool(body.get("is_transfer")),
            "category": category,
            "note": body.get("note"),
            "memo": body.get("memo"),
            "cheque_number": body.get("cheque_number"),
            "labels": labels,
            "transaction_account": {"id": account["id"], "name": account["name"]},
            "status": "posted",
            "needs_review": bool(body.get("needs_review")),
            "created_at": now,
            "updated_at": now,
        }
        self.records[str(txn["id"])] = txn
        self.by_date.add(str(txn["date"]), str(txn["id"]))
        return MoneyJSON(txn, status_code=201)

    def invalid(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "The body must be a JSON object"
        for field in ("payee", "amount", "date"):
            if body.get(field) in (None, ""):
                return f"{field.capitalize()} can't be blank"
        if not isinstance(body["amount"], (int, Decimal)):
            return "Amount is not a number"
        try:
            dt.date.fromisoformat(str(body["date"]))
        except ValueError:
            return "Date is invalid"
        if body.get("category_id") and body["category_id"] not in self.categories:
            return "Category is invalid"
        return None

    async def transactions_list(self, request: Request, aid: str) -> Response:
        if refused := self.gate(request):
            return refused
        q = request.query_params
        if ("start_date" in q) != ("end_date" in q):
            return json_error(400, "start_date and end_date must be given together")
        try:
            page, per_page = int(q.get("page", "1")), int(q.get("per_page", "30"))
        except ValueError:
            return json_error(400, "page and per_page must be numbers")
        if page < 1 or not 10 <= per_page <= 1000:
            return json_error(400, "per_page must be between 10 and 1000 and page at least 1")
        if "start_date" in q:  # only the dates in range are read; `_wanted` still checks each row
            candidates = [
                self.records[i] for i in self.by_date.between(q["start_date"], q["end_date"]) if i in self.records
            ]
        else:
            candidates = list(self.records.values())
        rows = [t for t in candidates if str(t["transaction_account"]["id"]) == aid and _wanted(t, q)]
        return self.paged(request, rows, page, per_page)

    def paged(self, request: Request, rows: list[dict[str, Any]], page: int, per_page: int) -> Response:
        last = max(1, -(-len(rows) // per_page))
        response = MoneyJSON(rows[(page - 1) * per_page : page * per_page])
        links = {
            "first": 1,
            "last": last,
            **({"next": page + 1} if page < last else {}),
            **({"prev": page - 1} if page > 1 else {}),
        }
        response.headers["Link"] = ", ".join(
            f'<{request.url.include_query_params(page=n)}>; rel="{rel}"' for rel, n in links.items()
        )
        response.headers["Per-Page"], response.headers["Total"] = str(per_page), str(len(rows))
        return response

    async def transaction_delete(self, request: Request, tid: str) -> Response:
        if refused := self.gate(request):
            return refused
        if self.records.pop(tid, None) is None:
            return json_error(404, "Transaction not found")
        return Response(status_code=204)


def _wanted(txn: dict[str, Any], q: Any) -> bool:
    if "start_date" in q and not q["start_date"] <= txn["date"] <= q["end_date"]:
        return False
    if "search" in q:
        title = (txn["category"] or {}).get("title", "")
        haystack = " ".join(
            [txn["payee"], txn["note"] or "", ",".join(txn["labels"]), title, str(txn["amount"]), txn["date"]]
        )
        return q["search"].lower() in haystack.lower()
    return True
