"""Rows held before the `held` table existed (schema 3: held meant status `review`, no number, no
match) are numbered by the upgrade, and the next run names their match again.

Moved from tests/test_held.py: it made its schema-3 database by dropping tables from a current
one, which migration 7 (the one-copy schema) no longer allows; this one writes a schema-3
database for real, from what a current one holds.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from importer.store.migrations import MIGRATIONS, _apply
from importer.store.rows import TXN_COLUMNS, transaction_from_row, transaction_row
from importer.store.sqlite import State
from tests.test_held import cli, exports, held_twice, run

__all__ = ["exports"]  # the fixture, used by name below
_WIDTH = len(TXN_COLUMNS.split(", "))


def as_schema_three(current: Path, old: Path) -> None:
    """Write at `old` what the state at `current` holds, as importer schema 3 stored it."""
    with State(current) as state:
        rows = state.db.execute(
            f"SELECT {TXN_COLUMNS}, file_sha256, run_id, stored_at, status, pair_id FROM transaction_rows ORDER BY row"
        ).fetchall()
        tables = {name: state.db.execute(query).fetchall() for name, query in _COPIED.items()}
    db = sqlite3.connect(old)
    for number in range(3):
        _apply(db, number + 1, MIGRATIONS[number])
    with db:
        # The accounts as they are (migration 5 adopts tables already there): the rows' ids were
        # computed from them, and an account made up by the upgrade would give the next run others.
        for create in MIGRATIONS[4].split(";")[:2]:
            db.execute(create)
        for name, values in tables.items():
            if values:
                db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(values[0]))})", values)
        db.executemany(
            f"INSERT INTO transactions ({TXN_COLUMNS}, file_sha256, run_id, stored_at, status, pair_id) "
            f"VALUES ({', '.join('?' * (_WIDTH + 5))})",
            [(*transaction_row(transaction_from_row(r[:_WIDTH])), *r[_WIDTH:]) for r in rows],
        )
    db.close()


_COPIED = {
    "runs": "SELECT id, started_at, finished_at, command, status FROM runs",  # as schema 3 had them
    "files": "SELECT sha256, path, size, first_seen_at, last_run_id, format FROM files",
    "accepted": "SELECT target, external_id, remote_id, run_id, 'x' FROM accepted_records",
    "aliases": "SELECT * FROM aliases",
    "run_files": "SELECT * FROM run_files",
    "accounts": "SELECT * FROM accounts",
    "account_identifiers": "SELECT * FROM account_identifiers",
}


def test_rows_held_before_the_held_table_are_numbered_by_the_upgrade(
    tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    current, state_path = tmp_path / "current.sqlite", tmp_path / "old.sqlite"
    held_twice(current, exports)
    with State(current) as state:
        held = state.db.execute("SELECT external_id FROM held ORDER BY id").fetchall()
    as_schema_three(current, state_path)
    with State(state_path) as state:
        assert state.db.execute("SELECT external_id, match_id FROM held ORDER BY id").fetchall() == [
            (e, None) for (e,) in held
        ]
    _, out = cli(state_path, "held", "list")
    assert out.splitlines()[-1] == "  like  a record not recorded (held by an older importer)"
    run(state_path, str(exports[1]))  # the next run reading the file names the match again
    _, out = cli(state_path, "held", "list", "--json")
    assert [r["resembles"]["description"] for r in json.loads(out)] == ["TARGET 00012345 DALY CITY", "SAFEWAY 1234"]
