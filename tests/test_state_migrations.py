"""Schema upgrades keep every row and re-import nothing: a schema-1 database, full of what the
first importer wrote, opened by this one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from importer.cli import main
from importer.parsers import ParseOptions, parse_file
from importer.run.pipeline import prepare
from importer.rules import load_rules
from importer.store.sqlite import MIGRATIONS, TXN_COLUMNS, State, _apply, transaction_row

SAMPLE = "samples/csv/chase/chase-checking-2026-10.csv"
TABLES = ("runs", "files", "transactions", "accepted", "ledger")


def schema_one_database(path: Path) -> None:
    """What importer 0.1 (schema 1) left after `importer run SAMPLE`: every table filled."""
    txns = [t for st in parse_file(Path(SAMPLE), ParseOptions()) for t in prepare(st, load_rules([Path("rules")]))]
    db = sqlite3.connect(path)
    _apply(db, 1, MIGRATIONS[0])
    marks = ", ".join("?" * (len(TXN_COLUMNS.split(", ")) + 3))
    with db:
        db.execute("INSERT INTO runs VALUES (1, '2026-11-01T10:00:00+00:00', '2026-11-01T10:00:01+00:00', 'run', 'ok')")
        db.execute("INSERT INTO files VALUES ('ab12', ?, 900, '2026-11-01T10:00:00+00:00', 1)", (SAMPLE,))
        db.executemany(f"INSERT INTO transactions VALUES ({marks})", [(*transaction_row(t), "ab12", 1, "x") for t in txns])
        db.executemany("INSERT INTO accepted VALUES ('local', ?, ?, 1, 'x')", [(t.external_id, t.external_id) for t in txns])
        db.executemany(f"INSERT INTO ledger VALUES ({marks[:-3]})", [(*transaction_row(t), 1, "x") for t in txns])
    db.close()


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The schema-1 columns of every schema-1 table, as stored."""
    db = sqlite3.connect(path)
    columns = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    db.close()
    return {t: _rows(path, t, columns[t]) for t in TABLES}


def _rows(path: Path, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    rows = db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns)}").fetchall()
    db.close()
    return rows


def test_upgrading_a_schema_one_database_loses_nothing_and_reimports_nothing(state_path: Path) -> None:
    schema_one_database(state_path)
    before = dump(state_path)
    assert len(before["ledger"]) == 12
    with State(state_path) as state:
        assert state.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) > 1
    # Every row, every schema-1 column, unchanged; the new columns come with their defaults.
    assert {t: _rows(state_path, t, _columns(state_path, t)[: len(before[t][0])]) for t in TABLES} == before
    assert _rows(state_path, "transactions", ["status"]) == [("ok",)] * 12
    result = CliRunner().invoke(main, ["run", SAMPLE, "--state", str(state_path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"new": 0' in result.stdout and '"duplicate": 12' in result.stdout
    assert len(_rows(state_path, "ledger", ["external_id"])) == 12


def test_an_upgraded_database_has_history_for_its_old_runs(state_path: Path) -> None:
    schema_one_database(state_path)
    result = CliRunner().invoke(main, ["history", "--state", str(state_path)])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].split()[:7] == ["1", "run", "2026-11-01T10:00:00+00:00", "ok", "0", "12", "12"]


def _columns(path: Path, table: str) -> list[str]:
    db = sqlite3.connect(path)
    names = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    db.close()
    return names
