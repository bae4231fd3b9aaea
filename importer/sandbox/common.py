"""What the fakes share: fault switches, rate-limit counters, the `/_sandbox` inspection routes.

Faults apply to the service routes only (never to `/_sandbox/...`):

* `latency`: seconds added to every request;
* `error_rate`: share of requests answered with the service's 5xx error *before* doing anything;
* `drop_rate`: share of writes that are committed and then have their connection dropped after
  the status line, so the client cannot tell whether the write landed;
* `maintenance`: every request gets 503;
* `sync_conflicts`: the first N requests get 409 "initial sync" (Wallet REST).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import random
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.types import Message, Receive, Scope, Send

from importer.core.jsonmoney import dumps, loads

ErrorBody = Callable[[int, str], Response]


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    maintenance: bool = False
    sync_conflicts: int = 0


class Limits(BaseModel):
    """Whether the documented limits are enforced, and how much their windows are shortened."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    window_scale: float = 1.0  # windows shortened (benchmarks, tests)
    budget_scale: float = 1.0  # budgets shrunk (tests reach the limit with few requests)
    record: bool = False  # keep every service request's arrival (wall time) and status: trials count per window

    def budget(self, documented: int) -> int:
        return max(1, int(documented * self.budget_scale))


class Dropped(Exception):
    """Raised after the status line went out: uvicorn then closes the connection mid-response."""


class Window:
    """A rolling window counter: `spend(cost)` is False when the budget is used up."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.log: collections.deque[tuple[float, int]] = collections.deque()
        self.used = 0

    def remaining(self) -> int:
        now = time.monotonic()
        while self.log and self.log[0][0] <= now - self.seconds:
            self.used -= self.log.popleft()[1]
        return max(0, self.limit - self.used)

    def reset_in(self) -> int:
        if not self.log:
            return 0
        return max(1, int(self.log[0][0] + self.seconds - time.monotonic() + 0.999))

    def spend(self, cost: int = 1) -> bool:
        if self.remaining() < cost:
            return False
        self.log.append((time.monotonic(), cost))
        self.used += cost
        return True


class DateIndex:
    """Record ids by a sortable key (a date, a day), the keys kept sorted.

    A list filtered on a date range then reads the records in range instead of every record,
    which keeps the duplicate check an uploader makes per batch from growing with everything
    uploaded before it.  Ids come back in creation order, the order a scan of the store gives."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.ids: dict[str, list[str]] = {}
        self.created: dict[str, int] = {}
        self.version = 0  # changes on every write, so a cached answer knows it is stale

    def add(self, key: str, rid: str) -> None:
        if key not in self.ids:
            bisect.insort(self.keys, key)
            self.ids[key] = []
        self.ids[key].append(rid)
        self.created[rid] = len(self.created)
        self.version += 1

    def between(self, low: str | None, high: str | None) -> list[str]:
        """Ids whose key is within [low, high] (None: unbounded); deleted ids are the caller's to skip."""
        start = 0 if low is None else bisect.bisect_left(self.keys, low)
        stop = len(self.keys) if high is None else bisect.bisect_right(self.keys, high)
        found = [rid for key in self.keys[start:stop] for rid in self.ids[key]]
        return found if stop - start <= 1 else sorted(found, key=self.created.__getitem__)


class Fake:
    """One fake service: its FastAPI app, stored records, faults and limits."""

    def __init__(self, name: str, error: ErrorBody, limits: Limits, fault_status: int = 500) -> None:
        self.name = name
        self.error = error
        self.limits = limits
        self.faults = Faults()
        self.fault_status = fault_status
        self.rng = random.Random(7)
        self.records: dict[str, dict[str, Any]] = {}
        self.counts = collections.Counter[str]()
        self.arrivals: list[tuple[float, int]] = []  # (time.time() on arrival, status), when `limits.record`
        self.app = FastAPI(title=f"{name} sandbox", docs_url=None, redoc_url=None, openapi_url=None)
        self.app.include_router(self._inspection())

    def window_headers(self, response: Response, window: Window) -> Response:
        """The X-RateLimit-Limit/Remaining pair of one fixed window (when limits are on)."""
        if self.limits.enabled:
            response.headers["X-RateLimit-Limit"] = str(window.limit)
            response.headers["X-RateLimit-Remaining"] = str(window.remaining())
        return response

    def _inspection(self) -> APIRouter:
        router = APIRouter(prefix="/_sandbox")
        router.add_api_route("/records", lambda: MoneyJSON(list(self.records.values())), methods=["GET"])
        router.add_api_route("/stats", lambda: JSONResponse(dict(self.counts)), methods=["GET"])
        router.add_api_route("/faults", self._set_faults, methods=["PUT"])
        router.add_api_route("/reset", self._reset, methods=["POST"])
        return router

    async def _set_faults(self, faults: Faults) -> dict[str, Any]:
        self.faults = faults
        return faults.model_dump()

    async def _reset(self) -> dict[str, str]:
        self.records.clear()
        self.counts.clear()
        self.arrivals.clear()
        self.reset()
        return {"status": "ok"}

    def reset(self) -> None:
        """Subclasses clear what else they hold (idempotency keys, limits)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry: faults first (pure ASGI, so a drop really cuts the connection)."""
        path = scope["path"][len(scope.get("root_path", "")) :] if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith("/_sandbox"):
            return await self.app(scope, receive, send)
        self.counts["requests"] += 1
        if self.limits.record:
            send = self._recording(send, time.time())
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        refusal = self._refusal(faults)
        if refusal is not None:
            return await refusal(scope, receive, send)
        drop = self.is_write(scope) and faults.drop_rate > 0 and self.rng.random() < faults.drop_rate
        await self.app(scope, receive, self._dropping(send) if drop else send)

    def is_write(self, scope: Scope) -> bool:
        return bool(scope["method"] != "GET")

    def _recording(self, send: Send, arrived: float) -> Send:
        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.arrivals.append((arrived, int(message["status"])))
            await send(message)

        return record

    def _dropping(self, send: Send) -> Send:
        async def cut(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                self.counts["dropped"] += 1
                raise Dropped(f"{self.name}: committed, then dropped the connection")

        return cut

    def _refusal(self, faults: Faults) -> Response | None:
        if faults.maintenance:
            return self.error(503, "The service is down for maintenance. Please try again later.")
        if faults.sync_conflicts > 0:
            faults.sync_conflicts -= 1
            self.counts["409"] += 1
            return self.error(409, "Initial sync in progress. Wait and retry.")
        if faults.error_rate and self.rng.random() < faults.error_rate:
            self.counts["errors"] += 1
            return self.error(self.fault_status, "Internal server error (sandbox fault).")
        return None

    def window(self, limit: int, seconds: float) -> Window:
        return Window(self.limits.budget(limit), seconds * self.limits.window_scale)

    def new_id(self) -> str:
        self.counts["ids"] += 1
        return f"{self.name[:2]}{self.counts['ids']:09d}"


class MoneyJSON(JSONResponse):
    """JSON whose Decimal values are exact numbers (what a real server's JSON carries)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


async def body_json(request: Request) -> Any:
    """The request body as JSON with Decimal numbers; None when it is not JSON."""
    try:
        return loads(await request.body())
    except ValueError:
        return None


def json_error(status: int, message: str) -> Response:
    """The common `{"error": "..."}` shape (Wallet REST, PocketSmith, SpendSense)."""
    return JSONResponse({"error": message}, status_code=status)
