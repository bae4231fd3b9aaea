"""Fake of SpendSense's API, DRF dialect by default (API-CONTRACTS.md section 5, seed 001).

`Authorization: Token <key>` (the older dialect: `Bearer`); every data route is a GET with query
parameters and ends in `/` (301 to the slash URL otherwise, 405 for other methods); the create
checks run in the contract's order with its exact messages; the create answers `{"status":"ok"}`
with no id and cannot set a date or description; **no dedup**, no rate limit, no pagination.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from importer.sandbox.common import Fake, Limits, MoneyJSON, json_error

TOKEN = "5f0e2d9c8b7a61504f3e2d1c0b9a8f7e6d5c4b3a"  # DRF keys are 40 hex digits
SYSTEM = {
    "earn": ["salary", "deposit_interest", "returning", "gifts"],
    "spent": [
        "supermarket",
        "restaurants",
        "transport",
        "home",
        "pets",
        "clothing",
        "vacation",
        "technology",
        "taxes",
        "health",
        "gifts",
        "education",
        "other",
    ],
}
ROUTES = [
    "token/check",
    "accounts",
    "accounts/create",
    "categories",
    "categories/create",
    "transactions",
    "transactions/create",
    "profile-data",
]


class SpendSenseFake(Fake):
    def __init__(self, limits: Limits, dialect: str = "drf") -> None:
        super().__init__("spendsense", json_error, limits, fault_status=503)
        self.dialect = dialect
        self.reset()
        handlers = {
            "token/check": self.token_check,
            "accounts": self.accounts_list,
            "accounts/create": self.account_create,
            "categories": self.categories_list,
            "categories/create": self.category_create,
            "transactions": self.transactions_list,
            "transactions/create": self.transaction_create,
            "profile-data": self.profile,
        }
        for route, handler in handlers.items():
            self.app.add_api_route(
                f"/api/v1/{route}/", self.only_get(handler), methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
            )
            self.app.add_api_route(f"/api/v1/{route}", _append_slash, methods=["GET", "HEAD"])

    def reset(self) -> None:
        self.accounts: dict[str, Decimal] = {}
        self.user_categories: list[dict[str, str]] = []

    def is_write(self, scope: Any) -> bool:
        return str(scope["path"]).endswith("/create/")  # SpendSense writes with GET

    def only_get(self, handler: Any) -> Any:
        async def guarded(request: Request) -> Response:
            if request.method not in ("GET", "HEAD"):
                return JSONResponse({"detail": f'Method "{request.method}" not allowed.'}, status_code=405)
            return self.gate(request) or await handler(request)

        return guarded

    def gate(self, request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if self.dialect == "bearer":
            return None if (scheme, key) == ("Bearer", TOKEN) else json_error(401, "Invalid token")
        if scheme != "Token" or not key:
            return _unauthorised("Authentication credentials were not provided.")
        return None if key == TOKEN else _unauthorised("Invalid token.")

    async def token_check(self, request: Request) -> Response:
        return MoneyJSON({"status": "ok", "user": "sandbox"})

    async def profile(self, request: Request) -> Response:
        return MoneyJSON(
            {"user": "sandbox", "total_all_spending": 0.0, "total_all_earning": 0.0, "total_all_diff": 0.0}
        )

    async def accounts_list(self, request: Request) -> Response:
        return MoneyJSON(
            {"user": "sandbox", "accounts": [{"name": n, "balance": f"{b:.2f}"} for n, b in self.accounts.items()]}
        )

    async def account_create(self, request: Request) -> Response:
        q = request.query_params
        if not q.get("account"):
            return json_error(400, "The following parameters are required: account")
        if "amount" in q and (problem := _amount_problem(q["amount"])):
            return json_error(400, problem)
        if q["account"] in self.accounts:
            return json_error(500, 'duplicate key value violates unique constraint "unique_name_per_user"')
        self.accounts[q["account"]] = Decimal(q.get("amount", "0"))
        return MoneyJSON({"status": "ok"})

    def all_categories(self, kind: str | None = None, user: str | None = None) -> list[dict[str, str]]:
        system = [
            {"name": v.replace("_", " ").title(), "value": v, "icon": "", "type": t}
            for t, vs in SYSTEM.items()
            for v in vs
        ]
        rows = (system if user != "true" else []) + (self.user_categories if user != "false" else [])
        return [r for r in rows if kind is None or r["type"] == kind]

    async def categories_list(self, request: Request) -> Response:
        q = request.query_params
        if q.get("type") not in (None, "spent", "earn"):
            return json_error(400, 'The type parameter must be either "spent" or "earn"!')
        rows = self.all_categories(q.get("type"), q.get("user"))
        return (
            MoneyJSON({"user": "sandbox", "categories": rows})
            if rows
            else json_error(404, "Categories cannot be found")
        )

    async def category_create(self, request: Request) -> Response:
        q = request.query_params
        missing = [p for p in ("name", "icon", "type") if not q.get(p)]
        if missing:
            return json_error(400, f"The following parameters are required: {', '.join(missing)}")
        if len(q["icon"]) > 2 or q["icon"].isascii():
            return json_error(400, "Icon must be a single valid emoji.")
        if q["type"] not in ("spent", "earn"):
            return json_error(400, 'The type parameter must be either "spent" or "earn"!')
        if any(c["value"] == q["name"].lower() and c["type"] == q["type"] for c in self.user_categories):
            return json_error(400, "A problem occurred while creating a category: UNIQUE constraint failed")
        self.user_categories.append(
            {"name": q["name"], "value": q["name"].lower(), "icon": q["icon"], "type": q["type"]}
        )
        return MoneyJSON({"status": "ok"})

    async def transaction_create(self, request: Request) -> Response:
        q = request.query_params
        missing = [p for p in ("account", "category", "amount", "type") if not q.get(p)]
        if missing:
            return json_error(400, f"The following parameters are required: {', '.join(missing)}")
        if q["account"] not in self.accounts:
            return json_error(404, "Account not found!")
        if q["type"] not in ("spent", "earn"):
            return json_error(400, 'The type parameter must be either "spent" or "earn"!')
        if not any(c["value"] == q["category"] for c in self.all_categories(q["type"])):
            return json_error(404, "Category not found!")
        if problem := _amount_problem(q["amount"]):
            return json_error(400, problem)
        amount = Decimal(q["amount"])
        self.accounts[q["account"]] += amount if q["type"] == "earn" else -amount
        now = dt.datetime.now(dt.UTC).isoformat()
        rid = self.new_id()
        self.records[rid] = {
            "type": q["type"],
            "amount": f"{amount:.2f}",
            "category": q["category"],
            "description": "",
            "account": q["account"],
            "time_create": now,
            "time_update": now,
        }
        return MoneyJSON({"status": "ok"})

    async def transactions_list(self, request: Request) -> Response:
        q = request.query_params
        try:
            now = dt.datetime.now(dt.UTC)
            start = _when(q.get("from")) or now - dt.timedelta(days=30)
            end = _when(q.get("to")) or now
        except ValueError:
            return json_error(400, "Invalid date format. Use ISO 8601 (e.g., 2024-06-01T00:00:00)")
        rows = [r for r in self.records.values() if start <= dt.datetime.fromisoformat(r["time_update"]) <= end]
        return (
            MoneyJSON({"user": "sandbox", "transactions": rows})
            if rows
            else json_error(404, "Transactions cannot be found")
        )


def _amount_problem(text: str) -> str | None:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return "Amount must be a valid number!"
    if not amount.is_finite():
        return "Amount must be a valid number!"
    if amount <= 0:
        return "Amount must be a positive number!"
    if amount != round(amount, 2):
        return "Amount can have at most two decimal places!"
    return None


def _when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _unauthorised(detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Token"})


async def _append_slash(request: Request) -> Response:
    url = request.url.replace(path=request.url.path + "/")
    return RedirectResponse(str(url), status_code=301)
