"""Local fakes of every budgeting service, served together on 127.0.0.1 (FastAPI + uvicorn).

Each fake lives under its own path prefix (`/wallet`, `/toshl`, ...) of one server and serves
`GET /_sandbox/records` (what it holds), `GET /_sandbox/stats`, `PUT /_sandbox/faults` and
`POST /_sandbox/reset` beside the service's own routes.  `Sandbox` runs the server in a
background thread (tests, benchmarks); `importer sandbox` runs it in the foreground.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from importer.sandbox import duitmyself, pocketsmith, spendsense, toshl, wallet, wallet_v1
from importer.sandbox.common import Fake, Faults, Limits


@dataclass(frozen=True)
class Service:
    """How a fake is built, and what the matching target entry in importer.yaml needs."""

    build: Callable[[Limits], Fake]
    token: str
    token_env: str
    settings: dict[str, Any]


SERVICES: dict[str, Service] = {
    "wallet-v1": Service(
        wallet_v1.WalletV1Fake,
        wallet_v1.TOKEN,
        "WALLET_V1_TOKEN",
        {"create_missing": True, "categories": wallet_v1.EXAMPLE_CATEGORIES, "options": {"user_id": wallet_v1.USER_ID}},
    ),
    "wallet": Service(wallet.WalletFake, wallet.TOKEN, "WALLET_TOKEN", {"create_missing": True}),
    "duitmyself": Service(duitmyself.DuitmyselfFake, duitmyself.TOKEN, "DUITMYSELF_TOKEN", {"create_missing": True}),
    "pocketsmith": Service(
        pocketsmith.PocketSmithFake,
        pocketsmith.TOKEN,
        "POCKETSMITH_TOKEN",
        {"create_missing": True, "options": {"default_account": "Checking"}},
    ),
    "toshl": Service(toshl.ToshlFake, toshl.TOKEN, "TOSHL_TOKEN", {"create_missing": True}),
    "spendsense": Service(spendsense.SpendSenseFake, spendsense.TOKEN, "SPENDSENSE_TOKEN", {"create_missing": True}),
}


class Prefixes:
    """The ASGI app that hands `/<service>/...` to that service's fake, setting `root_path` as a
    Starlette `Mount` would.  A root FastAPI app with one mount per fake did only this, at the
    cost of its own routing and middleware on every request."""

    def __init__(self, fakes: dict[str, Fake]) -> None:
        self.fakes = fakes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        root = scope.get("root_path", "")
        name, slash, _ = scope["path"][len(root) + 1 :].partition("/")
        fake = self.fakes.get(name) if slash else None
        if fake is None:
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        child = {**scope, "app_root_path": scope.get("app_root_path", root), "root_path": f"{root}/{name}"}
        await fake(child, receive, send)


def build_app(limits: Limits | None = None, faults: Faults | None = None) -> tuple[Prefixes, dict[str, Fake]]:
    """One app with every fake under `/<service>`."""
    limits = limits or Limits()
    fakes = {name: service.build(limits) for name, service in SERVICES.items()}
    for fake in fakes.values():
        fake.faults = (faults or Faults()).model_copy()
    return Prefixes(fakes), fakes


class Sandbox:
    """The sandbox server in a background thread on a free loopback port (bounded start-up)."""

    def __init__(self, port: int = 0, limits: Limits | None = None, faults: Faults | None = None) -> None:
        self.app, self.fakes = build_app(limits, faults)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else 40 ms delayed-ACK stalls
        self.socket.bind(("127.0.0.1", port))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="critical", access_log=False, lifespan="off", timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port}/{service}"

    def __enter__(self) -> Sandbox:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the sandbox server did not start within 10 seconds")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


def target_settings(service: str, url: str) -> dict[str, Any]:
    """The importer.yaml entry that points target `service` at the sandbox."""
    spec = SERVICES[service]
    return {"type": service, "base_url": url, "token_env": spec.token_env, **spec.settings}
