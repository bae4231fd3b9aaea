"""Fake of the duitmyself v1 API (API-CONTRACTS.md section 2).

Bearer `key_...` with scopes; errors as `application/problem+json`; `Idempotency-Key` required on
every POST/PATCH: the same key and body replay the stored answer, the same key with another body
is a 409 `conflict`; `/v1/transactions/upsert` by `externalId`; minute and day budgets with the six
`X-RateLimit-*` headers; lists as `{data, nextCursor, hasMore}` with `?limit=&cursor=`.
Unknown `accountId`/`categoryId` is a 404 `not_found` (the contract leaves the choice open).
"""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from importer.sandbox.common import Fake, Limits, MoneyJSON, body_json

TOKEN = "key_sandbox_7d1e0c44b9a2f6e3"
READONLY_TOKEN = "key_sandbox_readonly_51a0c2"
ALL_SCOPES = {
    f"{area}:{mode}"
    for area in ("me", "accounts", "transactions", "categories", "payees")
    for mode in ("read", "write")
}
KEYS = {TOKEN: ALL_SCOPES, READONLY_TOKEN: {s for s in ALL_SCOPES if s.endswith(":read")}}
PER_MINUTE, PER_DAY = 600, 50_000  # unpublished budgets; these are the sandbox's choice
TXN_FIELDS = {
    "externalId",
    "accountId",
    "amount",
    "date",
    "categoryId",
    "payeeId",
    "payeeName",
    "note",
    "time",
    "isTransfer",
    "transferToAccountId",
    "destinationAmount",
    "exchangeRate",
}
TITLES = {
    400: ("bad_request", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not Found"),
    409: ("conflict", "Conflict"),
    429: ("rate_limit_exceeded", "Too Many Requests"),
    500: ("internal_error", "Internal Server Error"),
    503: ("internal_error", "Service Unavailable"),
}


def problem(status: int, detail: str) -> Response:
    code, title = TITLES[status]
    body = {
        "type": f"https://docs.duitmyself.com/reference/errors#{code}",
        "title": title,
        "detail": detail,
        "status": status,
        "code": code,
        "request_id": uuid.uuid4().hex,
    }
    return MoneyJSON(body, status_code=status, media_type="application/problem+json")


class DuitmyselfFake(Fake):
    def __init__(self, limits: Limits) -> None:
        super().__init__("duitmyself", problem, limits)
        self.reset()
        for method, path, handler in [
            ("GET", "/v1/me", self.me),
            ("GET", "/v1/accounts", self.accounts_list),
            ("POST", "/v1/accounts", self.account_create),
            ("GET", "/v1/categories", self.categories_list),
            ("POST", "/v1/categories/upsert", self.category_upsert),
            ("GET", "/v1/transactions", self.transactions_list),
            ("POST", "/v1/transactions/upsert", self.transaction_upsert),
            ("DELETE", "/v1/transactions/{tid}", self.transaction_delete),
        ]:
            self.app.add_api_route(path, handler, methods=[method])  # type: ignore[arg-type]

    def reset(self) -> None:
        self.minute, self.day = self.window(PER_MINUTE, 60), self.window(PER_DAY, 86400)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.categories: dict[str, dict[str, Any]] = {
            f"sys-{n}": {"id": f"sys-{n}", "name": n, "system": True}
            for n in ("Food", "Transport", "Shopping", "Bills", "Salary", "Others")
        }
        self.keys: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self.by_external: dict[str, str] = {}

    def gate(self, request: Request, scope: str) -> Response | None:
        header = request.headers.get("authorization", "")
        scopes = KEYS.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
        if scopes is None:
            return self.headers(problem(401, "Invalid API key"))
        if scope not in scopes:
            return self.headers(problem(403, f"This API key lacks the {scope} scope."))
        if self.limits.enabled and not (self.minute.remaining() and self.day.remaining()):
            response = self.headers(problem(429, "Rate limit exceeded for this key."))
            response.headers["Retry-After"] = str(
                self.minute.reset_in() if not self.minute.remaining() else self.day.reset_in()
            )
            return response
        if self.limits.enabled:
            self.minute.spend(), self.day.spend()
        return None

    def headers(self, response: Response) -> Response:
        response.headers["X-Request-Id"] = uuid.uuid4().hex
        if self.limits.enabled:
            for label, window in (("Minute", self.minute), ("Day", self.day)):
                response.headers[f"X-RateLimit-Limit-{label}"] = str(window.limit)
                response.headers[f"X-RateLimit-Remaining-{label}"] = str(window.remaining())
                response.headers[f"X-RateLimit-Reset-{label}"] = str(window.reset_in())
        return response

    def reply(self, content: Any, status: int = 200) -> Response:
        return self.headers(MoneyJSON(content, status_code=status))

    async def idempotent(self, request: Request, handler: Any) -> Response:
        """Replay, refuse or run a write according to its Idempotency-Key."""
        key = request.headers.get("idempotency-key")
        if not key:
            return self.headers(problem(400, "The Idempotency-Key header is required on POST and PATCH."))
        raw = await request.body()
        fingerprint = hashlib.sha256(f"{request.method} {request.url.path} ".encode() + raw).hexdigest()
        subject = request.headers.get("authorization", "")
        stored = self.keys.get((subject, key))
        if stored is not None:
            if stored[0] != fingerprint:
                return self.headers(problem(409, "This Idempotency-Key was used with a different request."))
            self.counts["replayed"] += 1
            return self.headers(Response(stored[2], status_code=stored[1], media_type="application/json"))
        response: Response = await handler(await body_json(request))
        if response.status_code < 500:
            self.keys[(subject, key)] = (fingerprint, response.status_code, bytes(response.body))
        return response

    async def me(self, request: Request) -> Response:
        return self.gate(request, "me:read") or self.reply({"data": {"id": "usr_sandbox", "plan": "aurum"}})

    async def accounts_list(self, request: Request) -> Response:
        return self.gate(request, "accounts:read") or self.page(request, list(self.accounts.values()))

    async def categories_list(self, request: Request) -> Response:
        return self.gate(request, "categories:read") or self.page(request, list(self.categories.values()))

    async def transactions_list(self, request: Request) -> Response:
        return self.gate(request, "transactions:read") or self.page(request, list(self.records.values()))

    def page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        try:
            limit = min(500, max(1, int(request.query_params.get("limit", "50"))))
            start = int(request.query_params.get("cursor") or "0", 16)
        except ValueError:
            return self.headers(problem(400, "limit must be a number and cursor a value from nextCursor."))
        more = start + limit < len(rows)
        return self.reply(
            {
                "data": rows[start : start + limit],
                "nextCursor": format(start + limit, "x") if more else None,
                "hasMore": more,
            }
        )

    async def account_create(self, request: Request) -> Response:
        return self.gate(request, "accounts:write") or await self.idempotent(request, self._account_create)

    async def _account_create(self, body: Any) -> Response:
        if not isinstance(body, dict) or not body.get("name"):
            return self.headers(problem(400, "name is required."))
        account = {
            "id": f"acc_{uuid.uuid4().hex[:12]}",
            "name": body["name"],
            "currency": body.get("currency", "MYR"),
            "type": body.get("type", "bank"),
        }
        self.accounts[account["id"]] = account
        return self.reply({"data": account}, 201)

    async def category_upsert(self, request: Request) -> Response:
        return self.gate(request, "categories:write") or await self.idempotent(request, self._category_upsert)

    async def _category_upsert(self, body: Any) -> Response:
        if not isinstance(body, dict) or not body.get("name") or not body.get("externalId"):
            return self.headers(problem(400, "externalId and name are required."))
        found = next((c for c in self.categories.values() if c.get("externalId") == body["externalId"]), None)
        category = found or {"id": f"cat_{uuid.uuid4().hex[:12]}", "externalId": body["externalId"]}
        category.update(name=body["name"], type=body.get("type", "expense"))
        self.categories[category["id"]] = category
        return self.reply({"operation": "updated" if found else "created", "data": category}, 200 if found else 201)

    async def transaction_upsert(self, request: Request) -> Response:
        return self.gate(request, "transactions:write") or await self.idempotent(request, self._transaction_upsert)

    async def _transaction_upsert(self, body: Any) -> Response:
        if (refusal := self.invalid(body)) is not None:
            return refusal
        existing = self.by_external.get(body["externalId"])
        tid = existing or f"txn_{uuid.uuid4().hex[:16]}"
        self.records[tid] = {**body, "id": tid}
        self.by_external[body["externalId"]] = tid
        return self.reply(
            {"operation": "updated" if existing else "created", "data": self.records[tid]}, 200 if existing else 201
        )

    def invalid(self, body: Any) -> Response | None:
        if not isinstance(body, dict):
            return self.headers(problem(400, "The body must be a JSON object."))
        unknown = sorted(set(body) - TXN_FIELDS)
        if unknown:
            return self.headers(problem(400, f"Unknown field(s): {', '.join(unknown)}."))
        missing = [k for k in ("externalId", "accountId", "amount", "date") if body.get(k) in (None, "")]
        if missing:
            return self.headers(problem(400, f"Missing required field(s): {', '.join(missing)}."))
        if not isinstance(body["amount"], (int, Decimal)):
            return self.headers(problem(400, "amount must be a number."))
        if body["accountId"] not in self.accounts:
            return self.headers(problem(404, f"No account {body['accountId']}."))
        if body.get("categoryId") is not None and body["categoryId"] not in self.categories:
            return self.headers(problem(404, f"No category {body['categoryId']}."))
        return None

    async def transaction_delete(self, request: Request, tid: str) -> Response:
        if refused := self.gate(request, "transactions:write"):
            return refused
        record = self.records.pop(tid, None)
        if record is None:
            return self.headers(problem(404, f"No transaction {tid}."))
        self.by_external.pop(record["externalId"], None)
        return self.headers(Response(status_code=204))
