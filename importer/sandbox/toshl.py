"""Fake of the Toshl API (API-CONTRACTS.md section 4, seed 002).

Basic `token:` or Bearer auth; errors `{"error_id", "description", "fields"?}` (plus the docs'
`id`); `X-RateLimit-Limit`/`-Remaining` on every answer and `GET /rate-limit` free of charge
(1000 requests per rolling minute: the window is undocumented, this is the sandbox's choice);
`POST /entries` one at a time, 201 + `Location`, `extra` kept verbatim, **no dedup**;
`GET /entries` needs `from`/`to`, pages from 0 with `per_page` 10..500 and a `Link` header.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from importer.sandbox.common import DateIndex, Fake, Limits, MoneyJSON, body_json

TOKEN = "toshl-sandbox-93b1e7c2d5a4f806"
LIMIT = 1000
_CODE = re.compile(r"^[A-Z0-9_]{2,10}$")


def error(
    status: int, description: str, error_id: str | None = None, fields: list[dict[str, str]] | None = None
) -> Response:
    eid = error_id or {
        400: "error.bad_request",
        401: "error.auth",
        404: "error.not_found",
        429: "error.too_many_requests",
        503: "error.unavailable",
    }.get(status, "error.internal")
    body: dict[str, Any] = {"error_id": eid, "id": eid, "description": description}
    if fields:
        body["fields"] = fields
    return MoneyJSON(body, status_code=status)


class ToshlFake(Fake):
    def __init__(self, limits: Limits) -> None:
        super().__init__("toshl", lambda s, m: error(s, m), limits, fault_status=503)
        self.reset()
        for method, path, handler in [
            ("GET", "/rate-limit", self.rate_limit),
            ("GET", "/me", self.me),
            ("GET", "/accounts", self.accounts_list),
            ("POST", "/accounts", self.account_create),
            ("GET", "/categories", self.categories_list),
            ("POST", "/categories", self.category_create),
            ("POST", "/entries", self.entry_create),
            ("GET", "/entries", self.entries_list),
            ("DELETE", "/entries/{eid}", self.entry_delete),
        ]:
            self.app.add_api_route(path, handler, methods=[method])  # type: ignore[arg-type]

    def reset(self) -> None:
        self.window_ = self.window(LIMIT, 60)
        self.by_date = DateIndex()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.categories: dict[str, dict[str, Any]] = {
            str(i): {"id": str(i), "name": n, "type": t}
            for i, (n, t) in enumerate(
                [
                    ("Food & Drinks", "expense"),
                    ("Shopping", "expense"),
                    ("Home & Utilities", "expense"),
                    ("Other", "expense"),
                    ("Salary", "income"),
                    ("Other income", "income"),
                ],
                1,
            )
        }

    def gate(self, request: Request, counted: bool = True) -> Response | None:
        if _token(request) != TOKEN:
            return error(401, "Authentication failed.")
        if counted and self.limits.enabled and not self.window_.spend():
            return self.headers(error(429, "Too many requests."))
        return None

    def headers(self, response: Response) -> Response:
        return self.window_headers(response, self.window_)

    def reply(self, content: Any, status: int = 200) -> Response:
        return self.headers(MoneyJSON(content, status_code=status))

    def created(self, request: Request, kind: str, oid: str) -> Response:
        response = self.headers(Response(status_code=201))
        response.headers["Location"] = f"{str(request.base_url).rstrip('/')}/{kind}/{oid}"
        return response

    async def rate_limit(self, request: Request) -> Response:
        return self.gate(request, counted=False) or MoneyJSON(
            {"limit": self.window_.limit, "remaining": self.window_.remaining()}
        )

    async def me(self, request: Request) -> Response:
        return self.gate(request) or self.reply({"id": "42", "email": "sandbox@example.com"})

    async def accounts_list(self, request: Request) -> Response:
        return self.gate(request) or self.reply(list(self.accounts.values()))

    async def categories_list(self, request: Request) -> Response:
        return self.gate(request) or self.reply(list(self.categories.values()))

    async def account_create(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        body = await body_json(request)
        if not isinstance(body, dict) or not body.get("name") or not isinstance(body.get("currency"), dict):
            return self.headers(error(400, "name and currency are required.", fields=[{"field": "name"}]))
        oid = str(100 + len(self.accounts))
        self.accounts[oid] = {"id": oid, "name": body["name"], "currency": body["currency"], "status": "active"}
        return self.created(request, "accounts", oid)

    async def category_create(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        body = await body_json(request)
        if not isinstance(body, dict) or not body.get("name") or body.get("type") not in ("expense", "income"):
            return self.headers(error(400, "name and type (expense or income) are required."))
        oid = str(1000 + len(self.categories))
        self.categories[oid] = {
            "id": oid,
            "name": body["name"],
            "type": body["type"],
            **({"extra": body["extra"]} if "extra" in body else {}),
        }
        return self.created(request, "categories", oid)

    async def entry_create(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        body = await body_json(request)
        fields = self.invalid(body)
        if fields:
            return self.headers(error(400, "The entry is invalid.", "error.object.invalid", fields))
        eid = self.new_id()
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        self.records[eid] = {k: v for k, v in {**body, "id": eid, "modified": now}.items() if v not in (None, [], {})}
        self.by_date.add(str(body["date"]), eid)
        return self.created(request, "entries", eid)

    def invalid(self, body: Any) -> list[dict[str, str]]:
        if not isinstance(body, dict):
            return [{"field": "entry", "error": "must be an object"}]
        problems = []
        amount: Any = body.get("amount")
        if not isinstance(amount, (int, Decimal)) or Decimal(amount).copy_abs() >= Decimal(10**15):
            problems.append({"field": "amount", "error": "must be a number below 1e15"})
        if not _CODE.match(str((body.get("currency") or {}).get("code", ""))):
            problems.append({"field": "currency.code", "error": "must match [A-Z0-9_]{2,10}"})
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", str(body.get("date", ""))):
            problems.append({"field": "date", "error": "must be YYYY-MM-DD"})
        if len(str(body.get("desc") or "")) > 255:
            problems.append({"field": "desc", "error": "must be at most 255 characters"})
        if body.get("account") not in self.accounts:
            problems.append({"field": "account", "error": "does not exist"})
        if body.get("category") not in self.categories:
            problems.append({"field": "category", "error": "does not exist"})
        return problems

    async def entries_list(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        q = request.query_params
        if "from" not in q or "to" not in q:
            return self.headers(error(400, "The from and to parameters are required."))
        page, per_page = int(q.get("page", "0")), int(q.get("per_page", "200"))
        if not 10 <= per_page <= 500 or page < 0:
            return self.headers(error(400, "per_page must be between 10 and 500."))
        accounts = set(q["accounts"].split(",")) if q.get("accounts") else None
        in_range = (self.records[i] for i in self.by_date.between(q["from"], q["to"]) if i in self.records)
        rows = [
            e for e in in_range if q["from"] <= e["date"] <= q["to"] and (accounts is None or e["account"] in accounts)
        ]
        response = self.reply(rows[page * per_page : (page + 1) * per_page])
        last = max(0, -(-len(rows) // per_page) - 1)
        links = {
            "first": 0,
            "last": last,
            **({"next": page + 1} if page < last else {}),
            **({"previous": page - 1} if page else {}),
        }
        response.headers["Link"] = ", ".join(
            f'<{request.url.include_query_params(page=n)}>; rel="{rel}"' for rel, n in links.items()
        )
        response.headers["Toshl-Modified"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        return response

    async def entry_delete(self, request: Request, eid: str) -> Response:
        if refused := self.gate(request):
            return refused
        if self.records.pop(eid, None) is None:
            return self.headers(error(404, "Entry not found."))
        return self.headers(Response(status_code=204))


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return header[7:]
    if header.startswith("Basic "):
        try:
            return base64.b64decode(header[6:]).decode().partition(":")[0]
        except ValueError:
            return None
    return None
