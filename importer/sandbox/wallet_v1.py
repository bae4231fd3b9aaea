"""Fake of the legacy Wallet REST API v1 (API-CONTRACTS.md section 1A, seed 004).

Token as `?auth=` or Basic `auth:TOKEN` (403 otherwise); `POST /user/:uid/records` takes an
array, validates each item alone and always answers 200 `{error_objects, created_object_ids}`;
an item with `id` updates; 10,000 objects per rolling minute with `X-RateLimit-*` headers.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from importer.sandbox.common import Fake, Limits, MoneyJSON, body_json, json_error

TOKEN = "wv1-sandbox-0f3c9a7e5b2d4c61"
USER_ID = "7e7e7387-fda1-4594-8dd0-9f1726113c45"
OBJECTS_PER_MINUTE = 10_000
PAYMENT_TYPES = {"cash", "debit_card", "credit_card", "transfer", "voucher", "mobile_payment", "web_payment"}
CATEGORIES = [
    "Food & Drinks",
    "Groceries",
    "Restaurant, fast-food",
    "Bar, cafe",
    "Shopping",
    "Housing",
    "Rent",
    "Energy, utilities",
    "Transportation",
    "Taxi",
    "Fuel",
    "Life & Entertainment",
    "Subscriptions",
    "Health care, doctor",
    "Drug-store, chemist",
    "Income",
    "Wage, invoices",
    "Interests, dividends",
    "Financial expenses",
    "Transfer",
    "Cash",
    "Others",
]
# How the categories of rules/example.yaml map onto this fake's (the config `importer sandbox` writes).
EXAMPLE_CATEGORIES = {
    "Food:Coffee": "Bar, cafe",
    "Food:Groceries": "Groceries",
    "Shopping": "Shopping",
    "Entertainment:Subscriptions": "Subscriptions",
    "Housing:Rent": "Rent",
    "Housing:Utilities": "Energy, utilities",
    "Transport:Fuel": "Fuel",
    "Transport:Rides": "Taxi",
    "Health:Pharmacy": "Drug-store, chemist",
    "Income:Salary": "Wage, invoices",
    "Income:Interest": "Interests, dividends",
    "Cash": "Cash",
    "Transfer:Savings": "Transfer",
}
CURRENCIES = ["USD", "EUR", "GBP", "CZK", "CHF"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


class WalletV1Fake(Fake):
    def __init__(self, limits: Limits) -> None:
        super().__init__("wallet-v1", json_error, limits)
        self.reset()
        user = "/user/{uid}"
        for method, path, handler in [
            ("GET", "/users", self.users),
            ("GET", user + "/accounts", self.accounts_list),
            ("POST", user + "/account/{aid}", self.save_account),
            ("GET", user + "/categories", self.categories_list),
            ("GET", user + "/currencies", self.currencies_list),
            ("GET", user + "/account/{aid}/records", self.account_records),
            ("POST", user + "/records", self.save_records),
            ("GET", "/search/records", self.search),
        ]:
            self.app.add_api_route(path, handler, methods=[method])  # type: ignore[arg-type]

    def reset(self) -> None:
        self.window_ = self.window(OBJECTS_PER_MINUTE, 60)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.categories = {
            f"cat-{i:02d}": {
                "id": f"cat-{i:02d}",
                "name": n,
                "user_id": USER_ID,
                "default_type": "income" if n in ("Income", "Wage, invoices", "Interests, dividends") else "expense",
            }
            for i, n in enumerate(CATEGORIES)
        }
        self.by_account: dict[str, dict[str, None]] = {}  # account id → its record ids, in order
        self.currencies = {f"cur-{c}": {"id": f"cur-{c}", "code": c, "user_id": USER_ID} for c in CURRENCIES}

    def gate(self, request: Request, cost: int = 0, uid: str | None = None) -> Response | None:
        if _token(request) != TOKEN:
            return MoneyJSON({"error": "Forbidden, authorization failed"}, status_code=403)
        if uid is not None and uid != USER_ID:
            return MoneyJSON({"error": "Url not found"}, status_code=404)
        if self.limits.enabled and not self.window_.spend(max(cost, 1)):
            return self.headers(MoneyJSON({"error": "Too many requests"}, status_code=429))
        return None

    def headers(self, response: Response) -> Response:
        return self.window_headers(response, self.window_)

    def reply(self, content: Any) -> Response:
        return self.headers(MoneyJSON(content))

    async def users(self, request: Request) -> Response:
        return self.gate(request) or self.reply(
            [{"id": USER_ID, "email": "sandbox@example.com", "payment_plan": "INDIVIDUAL"}]
        )

    async def accounts_list(self, request: Request, uid: str) -> Response:
        return self.gate(request, uid=uid) or self.reply(list(self.accounts.values()))

    async def categories_list(self, request: Request, uid: str) -> Response:
        return self.gate(request, uid=uid) or self.reply(list(self.categories.values()))

    async def currencies_list(self, request: Request, uid: str) -> Response:
        return self.gate(request, uid=uid) or self.reply(list(self.currencies.values()))

    async def save_account(self, request: Request, uid: str, aid: str) -> Response:
        if refused := self.gate(request, uid=uid):
            return refused
        body = await body_json(request)
        if not isinstance(body, dict) or not body.get("name"):
            return self.headers(MoneyJSON({"error": "name is required"}, status_code=400))
        self.accounts[aid] = {
            "id": aid,
            "user_id": USER_ID,
            "name": body["name"],
            "init_amount": body.get("init_amount", 0),
        }
        return self.reply(self.accounts[aid])

    async def account_records(self, request: Request, uid: str, aid: str) -> Response:
        if refused := self.gate(request, uid=uid):
            return refused
        return self.reply([self.records[rid] for rid in self.by_account.get(aid, ())])

    async def save_records(self, request: Request, uid: str) -> Response:
        body = await body_json(request)
        if refused := self.gate(request, cost=len(body) if isinstance(body, list) else 1, uid=uid):
            return refused
        if not isinstance(body, list):
            return self.headers(MoneyJSON({"error": "the body must be a JSON array of records"}, status_code=400))
        errors, ids = [], []
        self.known = [
            (f"{field}_id", f"{field}_{key}", table, {row[key] for row in table.values()}, f"{field} must exist")
            for field, table, key in self.tables()
        ]
        for item in body:
            problem = self.invalid(item)
            if problem:
                errors.append({"record": item, "failed_property": problem[0], "description": problem[1]})
            else:
                ids.append(self.store(item))
        return self.reply({"error_objects": errors, "created_object_ids": ids})

    def store(self, item: dict[str, Any]) -> str:
        rid = item.get("id") or self.new_id()
        account = item.get("account_id") or next(
            a["id"] for a in self.accounts.values() if a["name"] == item["account_name"]
        )
        previous = self.records.get(rid)
        self.records[rid] = {**item, "id": rid, "account_id": account}
        if previous is None:
            self.by_account.setdefault(account, {})[rid] = None
        elif previous["account_id"] != account:  # rare: rebuilt so the list keeps creation order
            self.by_account[previous["account_id"]].pop(rid, None)
            self.by_account[account] = {r: None for r, row in self.records.items() if row["account_id"] == account}
        return rid

    def tables(self) -> list[tuple[str, dict[str, dict[str, Any]], str]]:
        return [
            ("account", self.accounts, "name"),
            ("category", self.categories, "name"),
            ("currency", self.currencies, "code"),
        ]

    def invalid(self, item: Any) -> tuple[str, str] | None:
        """(failed_property, description) of the first problem with one record."""
        if not isinstance(item, dict):
            return "record", "a record must be a JSON object"
        if "id" in item and item["id"] not in self.records:
            return "id", "no record with this id"
        for id_field, name_field, table, names, message in self.known:
            by_id, by_name = item.get(id_field), item.get(name_field)
            if by_id not in table and by_name not in names:
                return (id_field if by_id else name_field), message
        if not isinstance(item.get("amount"), (int, Decimal)) or item["amount"] <= 0:
            return "amount", "amount must be greater than 0"
        if item.get("record_type") not in ("income", "expense"):
            return "record_type", "record_type must be income or expense"
        if item.get("payment_type") not in PAYMENT_TYPES:
            return "payment_type", f"payment_type must be one of {', '.join(sorted(PAYMENT_TYPES))}"
        if not _DATE.match(str(item.get("record_date", ""))):
            return "record_date", "record_date must look like 2014-04-21T15:10:23Z"
        return None

    async def search(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        rows = list(self.records.values())
        for term in re.split(r"[ +]", request.query_params.get("q", "")):
            key, _, value = term.partition(":")
            if key == "note":
                pattern = re.compile("^" + ".*".join(map(re.escape, value.split("%"))) + "$", re.S)
                rows = [r for r in rows if pattern.match(r.get("note") or "")]
            elif key in ("account", "category", "currency"):
                rows = [r for r in rows if value in (r.get(f"{key}_id"), r.get(f"{key}_name"))]
        page, per_page = int(request.query_params.get("page", "1")), int(request.query_params.get("per_page", "20"))
        return self.reply(rows[(page - 1) * per_page : page * per_page])


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return password if user == "auth" else None
    return request.query_params.get("auth")
