from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.config.state_location import Location, PgUrl
from tests import pgserver
from tests.golden import ROOT


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sample paths and the default ./rules folder are relative to the repository root.
    monkeypatch.chdir(ROOT)


@pytest.fixture(autouse=True)
def _no_user_state(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the real user's state database from a test.
    monkeypatch.setenv("IMPORTER_STATE", str(tmp_path / "default-state.sqlite"))
    # Nor let a developer's default currency change what a test reads.
    monkeypatch.delenv("IMPORTER_CURRENCY", raising=False)
    # Nor read or write the user's cache of parsed YAML (importer/internals/parsed_cache.py): each
    # test starts cold, in a folder beside its tmp_path (tests that count what a command created
    # there would otherwise find the cache).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.delenv("IMPORTER_NO_CACHE", raising=False)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.Server]:
    """A running PostgreSQL for the session (tests/pgserver.py), or the tests using it skip."""
    url = os.environ.get("IMPORTER_TEST_PG")
    if url:
        yield pgserver.from_environment(url)
        return
    missing = pgserver.missing_tools()
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the PostgreSQL tests, but {missing}.")
    if missing:
        pytest.skip(f"PostgreSQL tests skipped: {missing}; or set IMPORTER_TEST_PG to a server's URL.")
    server = pgserver.start()
    yield server
    pgserver.stop(server)


_SCHEMAS = itertools.count(1)


@pytest.fixture
def pg_url(pg_server: pgserver.Server) -> Iterator[PgUrl]:
    """The URL of an empty schema of the test's own on the session's server (dropped after)."""
    schema = f"importer_test_{os.getpid()}_{next(_SCHEMAS)}"
    yield PgUrl(pg_server.isolated_url(schema))
    pg_server.drop(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_state(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """The test's state on each engine in turn: an SQLite file, or a PostgreSQL schema of its own.
    A module runs its store tests on both by taking it as its `state_path`; open it with
    `importer.store.locate.open_store`, name it on a command line with `pgserver.cli_arg`."""
    if request.param == "sqlite":
        return tmp_path / "state.sqlite"
    url: PgUrl = request.getfixturevalue("pg_url")
    return url


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
