"""A remote-style target for tests only: a tiny HTTP service on 127.0.0.1 and its uploader.

The service is deliberately the awkward kind: it has **no idempotency keys** (a batch posted
twice lands twice), so only the upload journal's lookup-by-marker keeps a crashed run from
doubling records.  Each record carries the external id as its `marker`, as real uploaders write
it into a note or memo field.

    POST   /records             JSON list of records → JSON list of {"id": ...}, in order
    GET    /records?marker=a,b  → {"a": id, ...} for the markers it holds
    GET    /records             → every record
    DELETE /records/<id>        → 204

`register()` adds the uploader to the target REGISTRY under `loopback` (tests only; the crash
harness's child processes call it from `tests/crashkit/sitecustomize.py`).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from importer.config.settings import TargetSettings
from importer.core.errors import UploadError
from importer.core.models import Outcome, Transaction, UploadResult
from importer.store.sqlite import State
from importer.targets.base import Ability, Target


class LoopbackService:
    """The records a test server holds, shared by its handler threads."""

    def __init__(self, delay: float = 0.0, lag: float = 0.0) -> None:
        self.delay = delay  # seconds each POST takes, to widen the window a kill can land in
        # seconds between the first POST's body arriving and its records being stored: a busy
        # service, still working on a request whose sender has died
        self.lag = lag
        self.records: dict[str, dict[str, Any]] = {}
        self.log: list[str] = []  # "POST 3" (records posted) and "GET" (a lookup), in order
        self.arrived = threading.Event()  # set when a POST's body has been read
        self.busy = 0  # POSTs read and not yet stored
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, records: list[dict[str, Any]]) -> list[dict[str, str]]:
        with self._lock:
            self.busy += 1
            lag, self.lag = self.lag, 0.0
        self.arrived.set()
        time.sleep(lag)
        with self._lock:
            self.busy -= 1
            ids = [f"r{next(self._ids)}" for _ in records]
            self.records.update(zip(ids, records))
        time.sleep(self.delay)
        return [{"id": i} for i in ids]

    def find(self, markers: set[str]) -> dict[str, str]:
        with self._lock:
            return {r["marker"]: rid for rid, r in self.records.items() if r["marker"] in markers}

    def markers(self) -> list[str]:
        with self._lock:
            return [r["marker"] for r in self.records.values()]

    def clear(self) -> None:
        with self._lock:
            self.records.clear()

    def wait_idle(self, timeout: float) -> None:
        """Wait until every POST read so far has stored its records (bounded by `timeout`)."""
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self.busy, f"the service still works on {self.busy} POST(s) after {timeout} s"


def _handler(service: LoopbackService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, body: Any = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            records = json.loads(self.rfile.read(length))
            service.log.append(f"POST {len(records)}")
            self._reply(201, service.add(records))

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            if "marker" in query:
                service.log.append("GET")
                self._reply(200, service.find(set(query["marker"][0].split(","))))
            else:
                self._reply(200, list(service.records.values()))

        def do_DELETE(self) -> None:
            with service._lock:
                service.records.pop(self.path.rsplit("/", 1)[-1], None)
            self._reply(204)

    return Handler


class LoopbackServer:
    """The service listening on 127.0.0.1 in a daemon thread; a context manager."""

    def __init__(self, delay: float = 0.0, lag: float = 0.0) -> None:
        self.service = LoopbackService(delay, lag)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.service))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LoopbackTarget(Target):
    """Uploader for the loopback service: not idempotent, looks records up by marker."""

    name = "loopback"
    idempotent = False
    abilities = frozenset({Ability.LOOKUP, Ability.DELETE})

    def __init__(self, state: State, run_id: int = 0, settings: TargetSettings | None = None) -> None:
        if settings is None or not settings.base_url:
            raise ValueError("the loopback target needs base_url")
        self.batch_size = settings.batch_size or 4
        self.client = httpx.Client(base_url=settings.base_url, timeout=10)

    def send(self, batch: Sequence[Transaction], idempotency_key: str) -> list[UploadResult]:
        records = [
            {
                "marker": t.external_id,
                "date": t.date.isoformat(),
                "amount": str(t.amount),
                "account": t.account,
                "description": t.description,
                "transfer_to": t.transfer_to,
            }
            for t in batch
        ]
        answer = self._call("POST", "/records", json=records)
        return [
            UploadResult(external_id=t.external_id or "", outcome=Outcome.ACCEPTED, remote_id=a["id"])
            for t, a in zip(batch, answer)
        ]

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        markers = ",".join(t.external_id or "" for t in txns)
        return dict(self._call("GET", "/records", params={"marker": markers}))

    def delete(self, remote_ids: Sequence[str]) -> None:
        for rid in remote_ids:
            self._call("DELETE", f"/records/{rid}")

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise UploadError(self.name, url, f"cannot reach the service: {exc}") from None
        if response.status_code >= 400:
            raise UploadError(self.name, url, "refused", status=response.status_code, body=response.text[:200])
        return response.json() if response.content else None


class LyingTarget(LoopbackTarget):
    """Claims idempotency the service does not have: the journal re-sends instead of looking up.
    Used only to show the crash harness catches the duplicates that follow."""

    idempotent = True


def register() -> None:
    """Make `type: loopback` a known target (tests only; IMPORTER_LOOPBACK_LIES=1 registers the liar)."""
    from importer.targets import REGISTRY

    lies = os.environ.get("IMPORTER_LOOPBACK_LIES") == "1"
    REGISTRY.setdefault("loopback", LyingTarget if lies else LoopbackTarget)


@contextmanager
def registered() -> Iterator[None]:
    """`register()` for the length of a test, so the registry tests see only real targets."""
    from importer.targets import REGISTRY

    register()
    try:
        yield
    finally:
        REGISTRY.pop("loopback", None)
