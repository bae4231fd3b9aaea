"""Schema upgrades keep every row and re-import nothing: a schema-1 database, full of what the
first importer wrote, opened by this one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from importer.cli import main
from importer.parsers import ParseOptions, parse_file
from importer.rules import load_rules
from importer.run.pipeline import prepare
from importer.store.sqlite import MIGRATIONS, TXN_COLUMNS, State, _apply, transaction_from_row, transaction_row

SAMPLE = "samples/csv/chase/chase-checking-2026-10.csv"


def schema_one_database(path: Path) -> None:
    """What importer 0.1 (schema 1) left after `importer run SAMPLE`: every table filled."""
    txns = [t for st in parse_file(Path(SAMPLE), ParseOptions()) for t in prepare(st, load_rules([Path("rules")]))]
    db = sqlite3.connect(path)
    _apply(db, 1, MIGRATIONS[0])
    marks = ", ".join("?" * (len(TXN_COLUMNS.split(", ")) + 3))
    with db:
        db.execute("INSERT INTO runs VALUES (1, '2026-11-01T10:00:00+00:00', '2026-11-01T10:00:01+00:00', 'run', 'ok')")
        db.execute("INSERT INTO files VALUES ('ab12', ?, 900, '2026-11-01T10:00:00+00:00', 1)", (SAMPLE,))
        db.executemany(
            f"INSERT INTO transactions VALUES ({marks})", [(*transaction_row(t), "ab12", 1, "x") for t in txns]
        )
        db.executemany(
            "INSERT INTO accepted VALUES ('local', ?, ?, 1, 'x')", [(t.external_id, t.external_id) for t in txns]
        )
        db.executemany(f"INSERT INTO ledger VALUES ({marks[:-3]})", [(*transaction_row(t), 1, "x") for t in txns])
    db.close()


def dump(path: Path, upgraded: bool = False) -> dict[str, list[tuple[object, ...]]]:
    """What every schema-1 table holds, by meaning: transactions as `Transaction`s with their
    file and run, what each target accepted, the ledger's records and the run that landed them.
    Upgraded (migration 7), the same is read from the views over the one stored copy; a row's
    `stored_at` is then its run's start, so it is left out."""
    sources = {"transactions": "transaction_rows", "accepted": "accepted_records"} if upgraded else {}
    db = sqlite3.connect(path)
    try:
        return {
            "runs": db.execute("SELECT id, started_at, finished_at, command, status FROM runs ORDER BY id").fetchall(),
            "files": db.execute(
                "SELECT sha256, path, size, first_seen_at, last_run_id FROM files ORDER BY sha256"
            ).fetchall(),
            "transactions": _records(db, sources.get("transactions", "transactions"), "file_sha256, run_id"),
            "accepted": db.execute(
                f"SELECT target, external_id, remote_id, run_id FROM {sources.get('accepted', 'accepted')} "
                "ORDER BY 1, 2"
            ).fetchall(),
            "ledger": _records(db, "ledger", "run_id"),
        }
    finally:
        db.close()


def _records(db: sqlite3.Connection, table: str, extra: str) -> list[tuple[object, ...]]:
    rows = db.execute(f"SELECT {TXN_COLUMNS}, {extra} FROM {table} ORDER BY external_id").fetchall()
    width = len(TXN_COLUMNS.split(", "))
    return [(transaction_from_row(row[:width]), *row[width:]) for row in rows]


def test_upgrading_a_schema_one_database_loses_nothing_and_reimports_nothing(state_path: Path) -> None:
    schema_one_database(state_path)
    before = dump(state_path)
    assert len(before["ledger"]) == len(before["accepted"]) == 12
    with State(state_path) as state:
        assert state.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) > 1
    # Every row, every schema-1 value, unchanged; the new columns come with their defaults.
    assert dump(state_path, upgraded=True) == before
    assert _column(state_path, "SELECT status FROM transactions") == ["ok"] * 12
    result = CliRunner().invoke(main, ["run", SAMPLE, "--state", str(state_path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"new": 0' in result.stdout and '"duplicate": 12' in result.stdout
    assert len(_column(state_path, "SELECT external_id FROM ledger")) == 12


def test_an_upgraded_database_has_history_for_its_old_runs(state_path: Path) -> None:
    schema_one_database(state_path)
    result = CliRunner().invoke(main, ["history", "--state", str(state_path)])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].split()[:7] == ["1", "run", "2026-11-01T10:00:00+00:00", "ok", "0", "12", "12"]


def _column(path: Path, query: str) -> list[object]:
    db = sqlite3.connect(path)
    values = [row[0] for row in db.execute(query)]
    db.close()
    return values
