"""A sandbox server per test module (real HTTP on 127.0.0.1), and settings pointing at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from importer.config.settings import TargetSettings
from importer.core.jsonmoney import loads
from importer.sandbox import SERVICES, Sandbox, target_settings
from importer.sandbox.common import Faults, Limits

SLOW = os.environ.get("IMPORTER_SLOW") == "1"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(limits=Limits(enabled=False)) as server:
        yield server


@pytest.fixture(autouse=True)
def _tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for service in SERVICES.values():
        monkeypatch.setenv(service.token_env, service.token)


def settings_for(sandbox: Sandbox, name: str, **extra: Any) -> TargetSettings:
    """The sandbox's target entry, with quick retries so fault tests stay short, and a short
    in-flight grace: the fakes store a request within milliseconds, so after a crash a lookup
    need not wait the timeout for requests still on their way."""
    quick = {"backoff": 0.01, "timeout": 10, "in_flight_grace": 0.5}
    return TargetSettings.model_validate({**target_settings(name, sandbox.url(name)), **quick, **extra})


def held(sandbox: Sandbox, name: str) -> list[dict[str, Any]]:
    return loads(httpx.get(sandbox.url(name) + "/_sandbox/records", timeout=30).content)  # type: ignore[no-any-return]


def reset(sandbox: Sandbox, name: str, faults: Faults | None = None) -> None:
    sandbox.fakes[name].faults = Faults()
    httpx.post(sandbox.url(name) + "/_sandbox/reset", timeout=10).raise_for_status()
    sandbox.fakes[name].faults = faults or Faults()
