"""Every target against its sandbox over real HTTP: a statement uploaded, then the same file again,
leaves each transaction on the server exactly once, also with 10% errors and dropped connections,
and after a crash in the middle of an upload followed by a re-run."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
import pytest

from benchmarks.generate import write_chase_csv
from importer import targets as uploaders
from importer.parsers import ParseOptions
from importer.rules import RuleSet
from importer.run.pipeline import RunSettings, run
from importer.sandbox import SERVICES, Sandbox
from importer.sandbox.common import Faults
from importer.store.sqlite import State
from tests.sandbox_fixtures import held, reset, settings_for

TARGETS = list(SERVICES)
FAULTS = Faults(error_rate=0.1, drop_rate=0.1)


def upload(sandbox: Sandbox, name: str, statement: Path, state_path: Path, batch_size: int | None = None) -> int:
    """Import `statement` into target `name`; the run's count of failed records."""
    settings = RunSettings(
        target=name,
        target_settings=settings_for(sandbox, name, concurrency=8, batch_size=batch_size),
        parse=ParseOptions(account="Chase checking"),
    )
    with State(state_path) as state:
        report = run([statement], RuleSet(()), state, settings)
    return report.totals()["failed"]


def twice(
    sandbox: Sandbox, name: str, rows: int, tmp_path: Path, faults: Faults | None = None, batch: int | None = None
) -> int:
    reset(sandbox, name, faults)
    statement = write_chase_csv(tmp_path / "chase.csv", rows)
    state_path = tmp_path / "state.sqlite"
    upload(sandbox, name, statement, state_path, batch)
    assert upload(sandbox, name, statement, state_path, batch) == 0
    return len(held(sandbox, name))


@pytest.mark.parametrize("name", TARGETS)
def test_twice_leaves_each_record_once(sandbox: Sandbox, name: str, tmp_path: Path) -> None:
    assert twice(sandbox, name, 100, tmp_path) == 100


@pytest.mark.parametrize("name", TARGETS)
def test_twice_with_errors_and_dropped_connections_leaves_each_record_once(
    sandbox: Sandbox, name: str, tmp_path: Path
) -> None:
    assert twice(sandbox, name, 100, tmp_path, FAULTS, batch=20) == 100  # small batches: more writes to fault
    stats = httpx.get(sandbox.url(name) + "/_sandbox/stats").json()
    assert stats["errors"] > 0 and stats["dropped"] > 0  # the faults really happened


@pytest.mark.slow
@pytest.mark.parametrize("name", TARGETS)
@pytest.mark.parametrize("faults", [None, FAULTS], ids=["clean", "faults"])
def test_ten_thousand_twice(sandbox: Sandbox, name: str, faults: Faults | None, tmp_path: Path) -> None:
    assert twice(sandbox, name, 10_000, tmp_path, faults) == 10_000


class Crash(BaseException):
    """The process dying: not an error anything may catch."""


class CrashingTransport(httpx.HTTPTransport):
    def __init__(self, writes: int) -> None:
        super().__init__()
        self.writes = writes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method != "GET" or "create" in request.url.path:
            self.writes -= 1
            if self.writes == 0:
                raise Crash("killed after the server committed")
        return response


@pytest.mark.parametrize("name", ["wallet-v1", "wallet", "duitmyself", "pocketsmith", "toshl"])
def test_crash_in_the_middle_then_rerun_leaves_each_record_once(
    sandbox: Sandbox, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset(sandbox, name)
    statement = write_chase_csv(tmp_path / "chase.csv", 100)
    factory = uploaders.REGISTRY[name]
    monkeypatch.setitem(uploaders.REGISTRY, name, functools.partial(factory, transport=CrashingTransport(3)))
    with pytest.raises(Crash):
        upload(sandbox, name, statement, tmp_path / "state.sqlite", batch_size=20)
    assert 0 < len(held(sandbox, name)) < 100
    monkeypatch.setitem(uploaders.REGISTRY, name, factory)
    assert upload(sandbox, name, statement, tmp_path / "state.sqlite") == 0
    assert len(held(sandbox, name)) == 100
