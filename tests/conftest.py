from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.golden import ROOT


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sample paths and the default ./rules folder are relative to the repository root.
    monkeypatch.chdir(ROOT)


@pytest.fixture(autouse=True)
def _no_user_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the real user's state database from a test.
    monkeypatch.setenv("IMPORTER_STATE", str(tmp_path / "default-state.sqlite"))
    # Nor let a developer's default currency change what a test reads.
    monkeypatch.delenv("IMPORTER_CURRENCY", raising=False)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    yield CliRunner()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Long trials (`@pytest.mark.slow`) run only when asked: IMPORTER_SLOW=1.
    if os.environ.get("IMPORTER_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow; set IMPORTER_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
