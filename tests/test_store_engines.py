"""The two engines behind the `Store`: one schema definition, one SQL dialect, PostgreSQL's own parts.

The store's behaviour is tested on both engines by the `open_store` fixture (tests/conftest.py)
in the store tests themselves; here is what only concerns the engines meeting: that the schema
written once is what SQLite's migrations build, how the common SQL becomes psycopg's, and what
a PostgreSQL state refuses.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from importer.config.state_location import PgUrl, redacted
from importer.core.errors import StateError
from importer.store.migrations import MIGRATIONS, current_schema
from importer.store.postgres import PostgresStore, dialect
from importer.store.sqlite import State
from tests import pgserver


def _shape(db: sqlite3.Connection) -> dict[str, object]:
    """Every table's, index's and view's columns and SQL-free shape, comparable across builds."""
    names = db.execute("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    tables = [name for kind, name, _ in names if kind == "table"]
    columns = {t: db.execute(f"PRAGMA table_info({t})").fetchall() for t in tables}
    indexes = {t: sorted(db.execute(f"PRAGMA index_list({t})").fetchall()) for t in tables}
    return {"objects": sorted(names), "columns": columns, "indexes": indexes}


def test_sqlite_built_from_the_one_schema_is_sqlite_migrated_from_1_to_7(tmp_path: Path) -> None:
    State(tmp_path / "migrated.sqlite").close()
    migrated = sqlite3.connect(tmp_path / "migrated.sqlite")
    built = sqlite3.connect(":memory:")
    for statement in current_schema("sqlite"):
        built.execute(statement)
    for script in MIGRATIONS[7:]:  # written for both engines, applied after the one schema (postgres.py)
        for statement in script.split(";"):
            if statement.strip():
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
