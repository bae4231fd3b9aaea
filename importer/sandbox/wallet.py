"""Fake of the current BudgetBakers Wallet REST API (API-CONTRACTS.md section 1B).

Bearer JWT auth (401 JSON, 403 text/plain for a "Board" token); a token bucket of 500
requests/hour with `X-RateLimit-*` and `Retry-After`; `POST /v1/api/records` takes 1–50 records
and answers the batch envelope with 200/207/400/500; records are never deduplicated; lists page
with `limit`/`offset`/`nextOffset`; reads without a `recordDate` filter see the last 3 months.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from importer.sandbox.common import DateIndex, Fake, Limits, MoneyJSON, body_json, json_error

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYW5kYm94LXdhbGxldCJ9.c2FuZGJveC13YWxsZXQtc2ln"
BOARD_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhcHAiOiJib2FyZCJ9.c2FuZGJveC1ib2FyZC1zaWc"
CAPACITY = 500  # requests per hour, the reference page's figure
SYSTEM_CATEGORIES = [
    "Food & Drinks",
    "Shopping",
    "Housing",
    "Transportation",
    "Vehicle",
    "Life & Entertainment",
    "Communication, PC",
    "Financial expenses",
    "Investments",
    "Income",
    "Others",
]


class Bucket:
    """A token bucket refilled continuously, `capacity` tokens per `seconds`."""

    def __init__(self, capacity: int, seconds: float) -> None:
        self.capacity, self.rate = capacity, capacity / seconds
        self.tokens, self.at = float(capacity), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _day_bounds(conditions: list[str]) -> tuple[str | None, str | None]:
    """Inclusive bounds on a record's day under `_matches` range conditions.

    A string at or above another has its first ten characters at or above the other's, so
    `value[:10]` bounds the day for every operator, whatever the value's length."""
    low: str | None = None
    high: str | None = None
    for condition in conditions:
        op, dot, value = condition.partition(".")
        op, value = (op, value[:10]) if dot else ("eq", condition[:10])
        if op in ("eq", "gt", "gte"):
            low = value if low is None else max(low, value)
        if op in ("eq", "lt", "lte"):
            high = value if high is None else min(high, value)
    return low, high


class WalletFake(Fake):
    def __init__(self, limits: Limits) -> None:
        super().__init__("wallet", json_error, limits)
        self.reset()
        api = "/v1/api"
        for method, path, handler in [
            ("GET", "/accounts", self.list_accounts),
            ("POST", "/accounts", self.create_account),
            ("GET", "/categories", self.list_categories),
            ("POST", "/categories/custom", self.create_category),
            ("GET", "/labels", self.list_labels),
            ("GET", "/records", self.list_records),
            ("POST", "/records", self.create_records),
            ("DELETE", "/records", self.delete_records),
            ("GET", "/api-usage/stats", self.usage),
        ]:
            self.app.add_api_route(api + path, handler, methods=[method])

    def reset(self) -> None:
        self.bucket = Bucket(self.limits.budget(CAPACITY), 3600 * self.limits.window_scale)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.categories = {
            f"sys-{i:02d}": {"id": f"sys-{i:02d}", "name": n, "customCategory": False}
            for i, n in enumerate(SYSTEM_CATEGORIES)
        }
        self.labels: dict[str, dict[str, Any]] = {}
        self.by_day = DateIndex()  # record ids by the first ten characters of recordDate
        self.last_query: tuple[Any, list[dict[str, Any]]] | None = None

    def gate(self, request: Request, counted: bool = True) -> Response | None:
        """Auth, then the rate limit; None when the request may go on."""
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        if token == BOARD_TOKEN:
            return PlainTextResponse("Forbidden: this token belongs to the Board app, not Wallet.", 403)
        if token and token.count(".") != 2:
            return json_error(401, f"invalid JWT format: expected 3 parts, got {token.count('.') + 1}")
        if token != TOKEN:
            return json_error(401, "Invalid or expired token")
        if counted and self.limits.enabled and not self.bucket.take():
            return self.headers(json_error(429, "Rate limit exceeded. Please try again later."), retry=True)
        return None

    def headers(self, response: Response, retry: bool = False) -> Response:
        if self.limits.enabled:
            response.headers["X-RateLimit-Limit"] = str(self.bucket.capacity)
            response.headers["X-RateLimit-Remaining"] = str(int(self.bucket.tokens))
            if retry:
                response.headers["Retry-After"] = str(max(1, int(1 / self.bucket.rate + 0.999)))
        response.headers["X-Sync-In-Progress"] = "false"
        return response

    def reply(self, content: Any, status: int = 200) -> Response:
        return self.headers(MoneyJSON(content, status_code=status))

    async def usage(self, request: Request) -> Response:
        return self.gate(request, counted=False) or self.reply(
            {"period": "30days", "requests": self.counts["requests"]}
        )

    async def list_accounts(self, request: Request) -> Response:
        return self.gate(request) or self.reply({"accounts": list(self.accounts.values()), "limit": 200, "offset": 0})

    async def list_categories(self, request: Request) -> Response:
        return self.gate(request) or self.reply({"categories": list(self.categories.values())})

    async def list_labels(self, request: Request) -> Response:
        return self.gate(request) or self.reply({"labels": list(self.labels.values())})

    async def create_account(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        body = await body_json(request)
        missing = [
            k
            for k in ("name", "accountType", "currencyCode", "initialBalance")
            if not isinstance(body, dict) or k not in body
        ]
        if missing:
            return self.headers(json_error(400, f"missing required fields: {', '.join(missing)}"))
        account = {
            "id": self.new_id(),
            "name": body["name"],
            "accountType": body["accountType"],
            "currencyCode": body["currencyCode"],
            "archived": False,
        }
        self.accounts[account["id"]] = account
        return self.reply({"account": account, "summary": {"created": 1}}, 201)

    async def create_category(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        body = await body_json(request)
        if not isinstance(body, dict) or not body.get("name") or body.get("parentId") not in self.categories:
            return self.headers(json_error(400, "name and parentId (a system category id) are required"))
        category = {"id": self.new_id(), "name": body["name"], "customCategory": True, "parentId": body["parentId"]}
        self.categories[category["id"]] = category
        return self.reply({"category": category, "summary": {"created": 1}}, 201)

    async def create_records(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        body = await body_json(request)
        if not isinstance(body, list) or not 1 <= len(body) <= 50:
            return self.headers(json_error(400, "body must be an array of 1 to 50 records"))
        data = request.query_params.get("returnData", "true") != "false"
        latest = dt.datetime.now(dt.UTC) + dt.timedelta(hours=24)  # once per request, not per record
        results = [self.create_one(i, item, data, latest) for i, item in enumerate(body)]
        ok = sum(1 for r in results if r["success"])
        summary = {
            "total": len(results),
            "succeeded": ok,
            "clientErrors": len(results) - ok,
            "serverErrors": 0,
            "documentsWritten": ok,
        }
        status = 200 if ok == len(results) else 207 if ok else 400
        return self.reply({"results": results, "summary": summary}, status)

    def create_one(self, index: int, item: Any, data: bool, latest: dt.datetime) -> dict[str, Any]:
        problem = self.invalid(item, latest)
        if problem is not None:
            message, field = problem
            return {
                "inputIndex": index,
                "success": False,
                "error": message,
                "errorType": "client_error",
                "fields": [field],
            }
        value = item["amount"]["value"]
        record = {
            "id": self.new_id(),
            "accountId": item["accountId"],
            "amount": item["amount"],
            "recordDate": item["recordDate"],
            "categoryId": item.get("categoryId"),
            "counterParty": item.get("counterParty"),
            "note": item.get("note"),
            "labelIds": item.get("labelIds", []),
            "recordState": item.get("recordState", "cleared"),
            "recordType": "expense" if value < 0 else "income",
            "source": "rest",
        }
        self.records[record["id"]] = record
        self.by_day.add(str(record["recordDate"])[:10], record["id"])
        result = {"inputIndex": index, "success": True, "id": record["id"]}
        return {**result, "record": record} if data else result

    def invalid(self, item: Any, latest: dt.datetime) -> tuple[str, str] | None:
        """(message, field) of the first problem with one record, None when it is valid."""
        if not isinstance(item, dict) or item.get("accountId") not in self.accounts:
            return "accountId does not name an account", "accountId"
        amount = item.get("amount")
        if not isinstance(amount, dict) or not isinstance(amount.get("value"), (int, Decimal)) or amount["value"] == 0:
            return "amount.value must be a non-zero number", "amount"
        currency = self.accounts[item["accountId"]]["currencyCode"]
        if amount.get("currencyCode", currency) != currency:
            return "amount.currencyCode must equal the account's currency", "amount"
        if not _valid_date(item.get("recordDate"), latest):
            return "recordDate must be an ISO 8601 date-time no more than 24 h ahead", "recordDate"
        for field in ("note", "counterParty"):
            if len(str(item.get(field) or "")) > 255:
                return f"{field} must be at most 255 characters", field
        if item.get("categoryId") is not None and item["categoryId"] not in self.categories:
            return "categoryId does not name a category", "categoryId"
        return None

    async def list_records(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        query = request.query_params
        try:
            limit, offset = int(query.get("limit", "30")), int(query.get("offset", "0"))
        except ValueError:
            return self.headers(json_error(400, "limit and offset must be integers"))
        if not 1 <= limit <= 200:
            return self.headers(json_error(400, "limit must be between 1 and 200"))
        rows, applied = self.filtered(query.multi_items())
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {"records": page, "appliedRecordDateFilters": applied, "limit": limit, "offset": offset}
        if offset + limit < len(rows):
            body["nextOffset"] = offset + limit
        return self.reply(body)

    def filtered(self, params: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], list[str]]:
        """The records a list query selects, newest `recordDate` first (ties in creation order).

        The answer is kept until the next write, so paging through it with `offset` costs a
        slice per page rather than a filter and a sort per page."""
        dates = [v for k, v in params if k == "recordDate"]
        ids = {i for k, v in params if k == "id" for i in v.split(",")}
        if not dates and not ids:
            dates = [f"gte.{(dt.datetime.now(dt.UTC) - dt.timedelta(days=92)).date()}"]
        key = (tuple(params), tuple(dates), self.by_day.version)
        if self.last_query is None or self.last_query[0] != key:
            self.last_query = (key, self._select(params, dates, ids))
        return self.last_query[1], dates

    def _select(self, params: list[tuple[str, str]], dates: list[str], ids: set[str]) -> list[dict[str, Any]]:
        if ids:
            rows = [r for r in self.records.values() if r["id"] in ids]
        else:  # the index only skips days no condition can match; every condition still runs below
            rows = [self.records[i] for i in self.by_day.between(*_day_bounds(dates)) if i in self.records]
        for key, value in params:
            if key in ("recordDate", "note", "counterParty", "accountId", "source") and not ids:
                rows = [r for r in rows if _matches(r.get(key), value)]
        if not ids and "recordDate" not in {k for k, _ in params}:
            rows = [r for r in rows if _matches(r["recordDate"], dates[0])]
        return sorted(rows, key=lambda r: r["recordDate"], reverse=True)

    async def delete_records(self, request: Request) -> Response:
        if refused := self.gate(request):
            return refused
        body = await body_json(request)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 10:
            return self.headers(json_error(400, "ids must be an array of 1 to 10 record ids"))
        results = [
            {"inputIndex": i, "success": self.records.pop(rid, None) is not None, "id": rid}
            for i, rid in enumerate(ids)
        ]
        self.by_day.version += 1
        return self.reply({"results": results, "summary": {"total": len(ids)}})


def _valid_date(value: Any, latest: dt.datetime) -> bool:
    when = _instant(str(value))
    return when is not None and when <= latest


@functools.lru_cache(maxsize=4096)  # a statement repeats each day's stamp for every record of that day
def _instant(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _matches(field: Any, condition: str) -> bool:
    """The contract's prefix filters: eq./contains./contains-i. on text, eq./gt./gte./lt./lte. on ranges."""
    op, _, value = condition.partition(".")
    if not _:
        op, value = "eq", condition
    text = "" if field is None else str(field)
    if op == "contains":
        return value in text
    if op == "contains-i":
        return value.lower() in text.lower()
    if op == "eq":
        return text == value or text[:10] == value
    left, right = text[: len(value)] if len(value) == 10 else text, value
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}.get(op, False)
