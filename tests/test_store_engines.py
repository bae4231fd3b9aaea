"""The two engines behind the `Store`: one schema definition, one SQL dialect, PostgreSQL's own parts.

The store's behaviour is tested on both engines by the `open_store` fixture (tests/conftest.py)
in the store tests themselves; here is what only concerns the engines meeting: that the schema
written once is what SQLite's migrations build, how the common SQL becomes psycopg's, and what
a PostgreSQL state refuses.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.state_location import Location, PgUrl, redacted
from importer.core.errors import StateError
from importer.store.idkey import id_key
from importer.store.locate import open_store
from importer.store.migrations import MIGRATIONS, current_schema
from importer.store.postgres import FIRST_SHARED_MIGRATION, PostgresStore, dialect
from importer.store.sqlite import State
from tests import pgserver
from tests.golden import ROOT


def _shape(db: sqlite3.Connection) -> dict[str, object]:
    """Every table's, index's and view's columns and SQL-free shape, comparable across builds."""
    names = db.execute("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    tables = [name for kind, name, _ in names if kind == "table"]
    columns = {t: db.execute(f"PRAGMA table_info({t})").fetchall() for t in tables}
    indexes = {t: sorted(db.execute(f"PRAGMA index_list({t})").fetchall()) for t in tables}
    return {"objects": sorted(names), "columns": columns, "indexes": indexes}


def test_sqlite_built_from_the_one_schema_and_the_later_migrations_is_sqlite_migrated_from_1(tmp_path: Path) -> None:
    # As a new PostgreSQL state is made: the schema of migrations 1-7, then each one written for both engines.
    State(tmp_path / "migrated.sqlite").close()
    migrated = sqlite3.connect(tmp_path / "migrated.sqlite")
    built = sqlite3.connect(":memory:")
    built.create_function("id_key", 1, id_key, deterministic=True)  # as the store's connections have it
    for statement in current_schema("sqlite"):
        built.execute(statement)
    for script in MIGRATIONS[FIRST_SHARED_MIGRATION:]:
        for statement in filter(str.strip, script.split(";")):
            built.execute(statement)
    assert _shape(built) == _shape(migrated)


def test_the_common_dialect_becomes_psycopgs() -> None:
    assert dialect("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = %s AND c IN (%s, %s)"
    assert dialect("UPDATE t SET x = :run WHERE y = :run") == "UPDATE t SET x = %(run)s WHERE y = %(run)s"
    # A literal percent is doubled (psycopg reads % in a statement with parameters); a cast is no parameter.
    assert dialect("SELECT 1 WHERE c LIKE 'Transfer:%' AND d = ?::text") == (
        "SELECT 1 WHERE c LIKE 'Transfer:%%' AND d = %s::text"
    )


def test_a_url_is_shown_without_its_password() -> None:
    assert redacted("postgresql://ann:s%40cret@db.example:5433/books") == "postgresql://ann:***@db.example:5433/books"
    assert redacted("postgres:///books?password=hunter2&sslmode=require") == (
        "postgres:///books?password=***&sslmode=require"
    )
    assert redacted("postgresql:///books") == "postgresql:///books"
    url = PgUrl("postgresql://ann:s%40cret@db.example/books")
    assert f"{url} {url!r}" == "postgresql://ann:***@db.example/books PgUrl('postgresql://ann:***@db.example/books')"


def test_a_new_postgresql_state_is_at_the_latest_version(pg_url: PgUrl) -> None:
    with PostgresStore(pg_url) as state:
        assert state.db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
    with PostgresStore(pg_url) as state:  # opened again: left as it is
        assert state.db.execute("SELECT count(*) FROM schema_version").fetchone() == (1,)


def test_a_newer_postgresql_schema_is_refused(pg_url: PgUrl) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url.url, autocommit=True) as db:
        db.execute("UPDATE schema_version SET version = %s", (len(MIGRATIONS) + 1,))
    newer = f"written by a newer importer .schema {len(MIGRATIONS) + 1}, this one knows {len(MIGRATIONS)}.; upgrade"
    with pytest.raises(StateError, match=newer):
        PostgresStore(pg_url)


def test_a_wrong_password_is_refused_without_being_shown(pg_server: pgserver.Server) -> None:
    if not pg_server.password:
        pytest.skip("IMPORTER_TEST_PG names a server without a password in its URL")
    wrong = "not-" + pg_server.password
    url = PgUrl(pg_server.url.replace(pg_server.password, wrong))
    with pytest.raises(StateError, match="cannot open the state database postgresql://importer:\\*\\*\\*@") as caught:
        PostgresStore(url)
    assert wrong not in str(caught.value)
    assert "password authentication failed" in str(caught.value)


# Columns that name a moment, or a number each engine gives its own way (SQLite reuses a rowid
# freed by a rollback, a PostgreSQL identity never does): left out when the engines are compared.
_MOMENTS = {"stored_at", "created_at", "accepted_at", "first_seen_at", "held_at", "started_at", "finished_at"}
_ENGINE_NUMBERED = {"row", "rowid", "file_id", "recorded_at", "decided_at"}
_SNAPSHOT = {
    "transaction_rows": "external_id",
    "aliases": "external_id",
    "held": "external_id",
    "accepted": "external_id",
    "accounts": "key",
    "account_identifiers": "identifier",
    "files": "sha256",
    "runs": "id",
    "run_files": "sha256",
    "batches": "id",
    "statement_balances": "file_sha256",
    "quiet_runs": "follows",
}


def snapshot(location: Location) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, every column but those of `_MOMENTS` and `_ENGINE_NUMBERED` (and the
    engine's own `id` of files and held rows), in a fixed order."""
    out = {}
    with open_store(location) as state:
        for table, order in _SNAPSHOT.items():
            cursor = state.db.execute(f"SELECT * FROM {table} ORDER BY {order}, 1")
            names = [d[0] for d in cursor.description]
            skip = _MOMENTS | _ENGINE_NUMBERED | ({"id"} if table in ("files", "held") else set())
            keep = [i for i, name in enumerate(names) if name not in skip]
            out[table] = [tuple(row[i] for i in keep) for row in cursor.fetchall()]
    return out


def run_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(main, ["run", *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_every_sample_imports_into_postgresql_as_into_sqlite(runner: CliRunner, pg_url: PgUrl, tmp_path: Path) -> None:
    sqlite_file = tmp_path / "state.sqlite"
    firsts, seconds = {}, {}
    for engine, location in (("sqlite", str(sqlite_file)), ("postgresql", pg_url.url)):
        firsts[engine] = run_json(runner, "samples", "--state", location)["totals"]
        seconds[engine] = run_json(runner, "samples", "--state", location)["totals"]
    assert firsts["postgresql"] == firsts["sqlite"] and firsts["sqlite"]["new"] == 284
    assert seconds["postgresql"] == seconds["sqlite"] and seconds["sqlite"]["new"] == 0
    on_sqlite, on_postgresql = snapshot(sqlite_file), snapshot(pg_url)
    assert len(on_sqlite["transaction_rows"]) == 284 and len(on_sqlite["runs"]) == 1
    assert on_postgresql == on_sqlite


def test_the_password_never_shows_in_output_logs_or_reports(runner: CliRunner, pg_url: PgUrl, tmp_path: Path) -> None:
    password = next(p for p in pg_url.passwords if p)
    log, html = tmp_path / "importer.log", tmp_path / "spending.html"
    config = tmp_path / "importer.yaml"
    config.write_text(
        f"state: {pg_url.url}\nlog: {{file: {log}}}\nsources:\n  - path: {ROOT / 'samples/ofx'}\n", encoding="utf-8"
    )
    outputs = [
        runner.invoke(main, ["run", "--config", str(config), "--json"]),  # the routine: logs
        runner.invoke(main, ["run", "samples/csv/chase", "--state", pg_url.url]),
        runner.invoke(main, ["history", "--config", str(config), "--json"]),
        runner.invoke(main, ["report", "--config", str(config), "--json", "--html", str(html)]),
        runner.invoke(main, ["accounts", "list", "--state", pg_url.url]),
        runner.invoke(main, ["history", "--state", pg_url.url.replace(password, password + "x")]),  # refused
    ]
    assert [r.exit_code for r in outputs] == [0, 0, 0, 0, 0, 2]
    assert "run started" in log.read_text(encoding="utf-8") and "<html" in html.read_text(encoding="utf-8")
    assert "cannot open the state database postgresql://importer:***@" in outputs[-1].stderr
    for text in [r.stdout + r.stderr for r in outputs] + [log.read_text(encoding="utf-8"), html.read_text("utf-8")]:
        assert password not in text


def test_a_url_of_another_scheme_is_refused_and_writes_no_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["history", "--state", "mysql://ann:hunter2@db/books"])
    assert result.exit_code == 2
    assert "the state location mysql://ann:***@db/books is a mysql:// URL" in result.stderr
    assert "hunter2" not in result.output
    assert not Path("mysql:").exists() and not Path("postgresql:").exists()
