"""`importer state migrate`: a whole state copied SQLite -> PostgreSQL -> SQLite, unchanged.

The states are compared here with a reader of the test's own (sqlite3 and psycopg, not the copy's
code): every table the PostgreSQL schema has, every column of it (`rowid` included where
PostgreSQL declares one, as the stored rows' order), row by row in a canonical order.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.state_location import Location, PgUrl
from importer.core.errors import StateError
from importer.store.copy import copy_tables, fill_order, plan, side, verify
from importer.store.locate import open_store
from importer.store.migrations import current_schema
from importer.store.sqlite import State
from tests import pgserver
from tests.golden import ROOT

Dump = dict[str, list[tuple[object, ...]]]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's sample run (`importer run samples/`) into an SQLite state, made once."""
    path = tmp_path_factory.mktemp("samples") / "state.sqlite"
    result = CliRunner().invoke(main, ["run", str(ROOT / "samples"), "--state", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def sample_state(imported: Path, tmp_path: Path) -> Path:
    """A copy of the imported samples' state, the test's own."""
    return Path(shutil.copy(imported, tmp_path / "samples.sqlite"))


def _pg_columns(db: psycopg.Connection) -> dict[str, list[str]]:  # type: ignore[type-arg]
    found = db.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' AND table_name <> 'schema_version') ORDER BY table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in found:
        columns.setdefault(table, []).append(column)
    return columns


def dump(location: Location, columns: dict[str, list[str]]) -> Dump:
    """Every row of every table in `columns`, those columns, sorted."""
    if isinstance(location, PgUrl):
        with psycopg.connect(location.url) as db:
            return {
                t: sorted(db.execute(f"SELECT {', '.join(c)} FROM {t}").fetchall(), key=repr)
                for t, c in columns.items()
            }
    with sqlite3.connect(location) as db:
        return {
            t: sorted(db.execute(f"SELECT {', '.join(c)} FROM {t}").fetchall(), key=repr) for t, c in columns.items()
        }


def schema_columns(url: PgUrl) -> dict[str, list[str]]:
    with psycopg.connect(url.url) as db:
        return _pg_columns(db)


def migrate(runner: CliRunner, source: Location, destination: Location, *extra: str) -> tuple[int, str]:
    args = ["state", "migrate", "--state", pgserver.cli_arg(source), "--to", pgserver.cli_arg(destination), *extra]
    result = runner.invoke(main, args)
    return result.exit_code, result.output


def printed_counts(output: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+) +(\d+)$", output, re.M)}


def printed_checksum(output: str) -> str:
    found = re.search(r"^checksum  sha256:([0-9a-f]{64})$", output, re.M)
    assert found, output
    return found[1]


def rerun(runner: CliRunner, state: Location) -> dict[str, int]:
    result = runner.invoke(main, ["run", "samples/", "--state", pgserver.cli_arg(state), "--json"])
    assert result.exit_code == 0, result.output
    totals: dict[str, int] = json.loads(result.stdout)["totals"]
    return totals


def test_samples_move_to_postgresql_and_back_unchanged(
    runner: CliRunner, sample_state: Path, pg_url: PgUrl, pg_server: pgserver.Server, tmp_path: Path
) -> None:
    code, there = migrate(runner, sample_state, pg_url)
    assert code == 0, there
    columns = schema_columns(pg_url)
    assert dump(pg_url, columns) == dump(sample_state, columns)
    counts = printed_counts(there)
    assert counts == {table: len(rows) for table, rows in dump(pg_url, columns).items()}
    assert counts["transactions"] == 284 and counts["files"] == 46 and counts["accounts"] == 47
    assert pg_server.password not in there and "***" in there
    assert rerun(runner, pg_url)["new"] == 0  # every id, file and account came across
    home = tmp_path / "home.sqlite"
    code, back = migrate(runner, pg_url, home)
    assert code == 0, back
    assert dump(home, columns) == dump(pg_url, columns)
    assert printed_checksum(back) == printed_checksum(there)
    assert rerun(runner, home)["new"] == 0
    listing = runner.invoke(main, ["history", "--state", str(home)])
    assert listing.exit_code == 0 and re.search(r"^ +1 +run .* ok +46 +284 ", listing.output, re.M), listing.output
    accounts = runner.invoke(main, ["accounts", "list", "--state", str(home), "--json"])
    assert accounts.exit_code == 0 and len(json.loads(accounts.output)) == 47


def test_the_stored_rows_keep_their_order_and_every_counter_moves_past_them(
    runner: CliRunner, sample_state: Path, pg_url: PgUrl, tmp_path: Path
) -> None:
    with sqlite3.connect(sample_state) as db:  # a held row numbered 40 once, since dropped: 40 is never given again
        db.execute("UPDATE sqlite_sequence SET seq = 40 WHERE name = 'held'")
        order = [row for (row,) in db.execute("SELECT external_id FROM transactions ORDER BY rowid")]
    assert migrate(runner, sample_state, pg_url)[0] == 0
    with psycopg.connect(pg_url.url) as db:
        assert [row for (row,) in db.execute("SELECT external_id FROM transactions ORDER BY rowid")] == order
        assert db.execute("SELECT nextval(pg_get_serial_sequence('held', 'id'))").fetchone() == (41,)
        assert db.execute("SELECT nextval(pg_get_serial_sequence('files', 'id'))").fetchone() == (47,)
        assert db.execute("SELECT nextval(pg_get_serial_sequence('transactions', 'rowid'))").fetchone() == (285,)
    home = tmp_path / "home.sqlite"
    assert migrate(runner, pg_url, home)[0] == 0
    with sqlite3.connect(home) as db:
        assert db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'held'").fetchone() == (41,)
        assert [row for (row,) in db.execute("SELECT external_id FROM transactions ORDER BY rowid")] == order


def test_a_destination_holding_a_state_is_refused(runner: CliRunner, sample_state: Path, pg_url: PgUrl) -> None:
    assert migrate(runner, sample_state, pg_url)[0] == 0
    columns = schema_columns(pg_url)
    before = dump(pg_url, columns)
    code, output = migrate(runner, sample_state, pg_url)
    assert code == 2
    assert "is not empty (account_identifiers holds 18 rows); migrate into a new database" in output
    assert "Nothing was copied." in output
    assert dump(pg_url, columns) == before
    code, output = migrate(runner, pg_url, sample_state)
    assert code == 2 and f"error: {sample_state} is not empty (account_identifiers holds 18 rows)" in output


def test_a_state_is_not_copied_onto_itself_nor_from_nowhere(
    runner: CliRunner, sample_state: Path, tmp_path: Path
) -> None:
    code, output = migrate(
        runner, sample_state, sample_state.parent / ".." / sample_state.parent.name / "samples.sqlite"
    )
    assert code == 2 and "is the state itself: name another file or database" in output
    code, output = migrate(runner, tmp_path / "missing.sqlite", tmp_path / "to.sqlite")
    assert code == 2 and "there is no state at" in output and not (tmp_path / "missing.sqlite").exists()


def test_a_migration_killed_mid_copy_leaves_nothing_and_runs_again(sample_state: Path, pg_url: PgUrl) -> None:
    command = [sys.executable, "-m", "importer", "state", "migrate", "--state", str(sample_state), "--to", pg_url.url]
    env = {**os.environ, "IMPORTER_CRASH_AT": "migrate:6"}  # killed by SIGKILL after 6 of the 12 tables
    killed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    columns = schema_columns(pg_url)
    assert all(rows == [] for rows in dump(pg_url, columns).values())
    env.pop("IMPORTER_CRASH_AT")
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert dump(pg_url, columns) == dump(sample_state, columns)


def test_verification_finds_a_changed_id_and_a_lost_row(sample_state: Path, pg_url: PgUrl) -> None:
    with open_store(sample_state) as source, open_store(pg_url) as copy:
        origin, target = side(source), side(copy)
        with pytest.raises(StateError) as changed, source.transaction(), copy.transaction():
            order = plan(origin, target)
            copy_tables(origin, target, order)
            target.db.execute("UPDATE transactions SET external_id = 'tampered' WHERE rowid = 7")
            verify(origin, target, order)
        with pytest.raises(StateError) as lost, source.transaction(), copy.transaction():
            copy_tables(origin, target, order)
            target.db.execute("DELETE FROM run_files WHERE sha256 = (SELECT min(sha256) FROM files)")
            verify(origin, target, order)
    assert "the checksum of the copied external ids differs (postgresql://importer:***@" in str(changed.value)
    assert f"nothing was written to {pg_url}" in str(changed.value)
    assert re.match(
        r"the copy of run_files has 45 rows where .*samples\.sqlite has 46; nothing was written", str(lost.value)
    )
    assert all(rows == [] for rows in dump(pg_url, schema_columns(pg_url)).values())


def test_every_table_of_the_schema_is_copied_parents_first(tmp_path: Path) -> None:
    with State(tmp_path / "empty.sqlite") as state, State(tmp_path / "copy.sqlite") as copy:
        order = plan(side(state), side(copy))
    with sqlite3.connect(tmp_path / "empty.sqlite") as db:  # every table, a later migration's included
        created = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert created >= {s.split()[2] for s in current_schema("sqlite") if s.startswith("CREATE TABLE")}
    created.discard("sqlite_sequence")  # SQLite's own: AUTOINCREMENT counters, moved by the copy itself
    assert set(order) == created
    assert order.index("runs") < order.index("files") and order.index("accounts") < order.index("account_identifiers")
    parents = {"a": {"b"}, "b": {"a"}, "c": set[str]()}
    with pytest.raises(StateError, match="the foreign keys of a, b form a cycle"):
        fill_order(set(parents), parents.__getitem__)


def test_a_value_the_destination_refuses_is_a_clear_error(runner: CliRunner, sample_state: Path, pg_url: PgUrl) -> None:
    with sqlite3.connect(sample_state) as db:  # SQLite keeps text in an INTEGER column; PostgreSQL will not
        db.execute("UPDATE run_files SET parsed = 'many' WHERE rowid = 3")
    code, output = migrate(runner, sample_state, pg_url)
    assert code == 2 and "Traceback" not in output
    assert re.match(r"error: copying .*samples\.sqlite to postgresql://importer:\*\*\*@.* failed: ", output), output
    assert 'invalid input syntax for type integer: "many"' in output and "nothing was written to" in output
    assert all(rows == [] for rows in dump(pg_url, schema_columns(pg_url)).values())
