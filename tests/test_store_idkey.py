"""The transactions indexed by an integer key of their external id (migration 10, idkey.py): the
batch fast path equals the reference, lookups use the key's index, two ids sharing a key are
refused with an error rather than one dropped, and a state of schema 9 upgrades keeping every row."""

from __future__ import annotations

import json
import sqlite3
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.config.state_location import PgUrl
from importer.core.batch import TxBatch
from importer.core.errors import StateError
from importer.core.models import Transaction
from importer.parsers import ParseOptions, parse_file
from importer.rules import load_rules
from importer.run.pipeline import prepare
from importer.store.idkey import _hashed_keys, id_key, id_keys
from importer.store.migrations import MIGRATIONS, _apply
from importer.store.postgres import PostgresStore
from importer.store.rows import TXN_COLUMNS, transaction_row
from importer.store.sqlite import State

CHASE = "samples/csv/chase/chase-checking-2026-10.csv"
SHA = "c" * 64
_HEX = st.text("0123456789abcdef", min_size=32, max_size=32)
_HASHED = st.builds(lambda v, h: f"v{v}:{h}", st.integers(0, 9), _HEX)
# Nearly the recipe's form: upper case, white space, other letters, another prefix.
_NEARLY = st.builds(
    lambda v, h: f"{v}:{h}",
    st.sampled_from(["v2", "V2", "v0", "vv", "v2:"]),
    st.text("0123456789abcdefABX \t\n", min_size=31, max_size=33),
)


def chase() -> list[Transaction]:
    """The Chase sample's 12 rows, categorised by the shipped rules, with their external ids."""
    return [t for st_ in parse_file(Path(CHASE), ParseOptions()) for t in prepare(st_, load_rules([Path("rules")]))]


def test_a_hashed_id_is_keyed_by_its_halves_xored_as_a_signed_64_bit_integer() -> None:
    assert id_key("v2:" + "0" * 31 + "1") == id_key("v2:" + "0" * 15 + "1" + "0" * 16) == 1
    assert id_key("v2:" + "0" * 30 + "1f") == 31  # ids numbered in their last digits differ in keys
    assert id_key("v1:" + "f" * 16 + "0" * 16) == id_key("v1:" + "a" * 16 + "5" * 16) == -1
    assert id_key("v2:8" + "0" * 31) == -(1 << 63)
    assert id_key("v2:" + "7" * 32) == 0
    # Any other text: the first 8 bytes of its own sha256.
    assert id_key("FITID-42") == int.from_bytes(sha256(b"FITID-42").digest()[:8], "big", signed=True)
    assert id_key("V2:" + "a" * 32) != id_key("v2:" + "a" * 32)  # upper case is not the recipe's form
    assert id_key(None) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HASHED, _HASHED, _NEARLY, st.text(max_size=40)), max_size=20))
def test_a_batchs_keys_are_each_ids_key(ids: list[str]) -> None:
    assert id_keys(ids) == [id_key(i) for i in ids]


@settings(max_examples=300, deadline=None)
@given(st.lists(_HEX, min_size=1, max_size=20), st.integers(0, 9), st.data())
def test_a_batch_of_hashed_ids_takes_the_fast_path_to_the_same_keys(
    hexes: list[str], version: int, data: st.DataObject
) -> None:
    ids = [f"v{version}:{h}" for h in hexes]
    folded = [int(h[:16], 16) ^ int(h[16:], 16) for h in hexes]
    assert id_keys(ids) == [k - (1 << 64) if k >= 1 << 63 else k for k in folded]
    assert _hashed_keys(ids) is not None
    # One id spoilt anywhere (a character, its length, another version): still each id's key.
    n, at = data.draw(st.integers(0, len(ids) - 1)), data.draw(st.integers(0, 35))
    spoilt = (
        ids[n][:at]
        + data.draw(st.sampled_from(["A", "F", "g", "v", ":", " ", "\t", "v3:", "", "0"]))
        + ids[n][at + 1 :]
    )
    ids[n] = spoilt
    assert id_keys(ids) == [id_key(i) for i in ids]


def test_the_keys_extremes_pass_through_a_json_list_as_integers(state_path: Path) -> None:
    keys = [-(1 << 63), (1 << 63) - 1, -1, 0]
    with State(state_path) as state:
        assert state.db.execute("SELECT value FROM json_each(?)", (json.dumps(keys),)).fetchall() == [
            (k,) for k in keys
        ]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT status FROM transactions WHERE id_key = id_key('x') AND external_id = 'x'",
        "SELECT * FROM transaction_rows WHERE id_key = id_key('x') AND external_id = 'x'",
        "SELECT 1 FROM transactions WHERE id_key IN (SELECT value FROM json_each('[1]')) "
        "AND external_id IN (SELECT value FROM json_each('[\"x\"]'))",
    ],
)
def test_a_lookup_by_id_uses_the_keys_index(state_path: Path, query: str) -> None:
    with State(state_path) as state:
        plan = " ".join(row[3] for row in state.db.execute("EXPLAIN QUERY PLAN " + query))
    assert "INDEX transactions_by_key " in plan


def _twin(external_id: str) -> str:
    """Another id with the same key: its two halves swapped (XOR does not tell the order)."""
    return external_id[:3] + external_id[19:] + external_id[3:19]


def test_an_id_whose_key_a_stored_row_has_is_refused_not_dropped(state_path: Path) -> None:
    txns = chase()
    twin = txns[1].model_copy(update={"external_id": _twin(txns[0].external_id or "")})
    assert id_key(twin.external_id) == id_key(txns[0].external_id) and twin.external_id != txns[0].external_id
    with State(state_path) as state:
        run_id = state.begin_run("run")
        assert state.store_batch(TxBatch.of(txns[:1]), [0], run_id, SHA) == 1
        with pytest.raises(
            StateError, match=f"transaction {twin.external_id} cannot be stored: .*{txns[0].external_id}"
        ):
            state.store_batch(TxBatch.of([twin, *txns[2:]]), range(11), run_id, SHA)  # type: ignore[arg-type]
        with pytest.raises(StateError, match="same index key"):
            state.store_transactions([twin], run_id, SHA)
        # Nothing of the refused batches was kept; the first row is as it was, and found by its id.
        assert state.db.execute("SELECT count(*) FROM transactions").fetchone() == (1,)
        assert state.stored_transaction(txns[0].external_id or "") == state.stored_transactions()[0]
        assert state.stored_transaction(twin.external_id or "") is None
        # Stored again (a run re-run after a crash), the same rows are no error: simply not new.
        assert state.store_batch(TxBatch.of(txns[:1]), [0], run_id, SHA) == 0


def test_two_ids_sharing_a_key_in_one_batch_are_refused(state_path: Path) -> None:
    txns = chase()
    twin = txns[1].model_copy(update={"external_id": _twin(txns[0].external_id or "")})
    with State(state_path) as state:
        run_id = state.begin_run("run")
        with pytest.raises(StateError, match="same index key"):
            state.store_batch(TxBatch.of([txns[0], twin]), [0, 1], run_id, SHA)
        assert state.db.execute("SELECT count(*) FROM transactions").fetchone() == (0,)


def schema_nine_state(path: Path, txns: list[Transaction]) -> None:
    """A state as the importer before migration 10 left it: `txns` stored by two runs, a row
    deleted between (rowids with a gap), landed rows (by the run storing them, by another run, one
    stored by no run: migration 11's two parts of `accepted_records` keep all three), one without
    the recipe's form of id."""
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:9], 1):
        _apply(db, number, script)
    columns = f"{TXN_COLUMNS}, file_id, run_id, status, pair_id, ledger_run"
    with db:
        db.execute(
            "INSERT INTO runs (id, started_at, command, status) VALUES (1, 'x', 'run', 'ok'), (2, 'y', 'run', 'ok')"
        )
        db.execute("INSERT INTO files (sha256, path, size, first_seen_at) VALUES (?, ?, 1, 'x')", (SHA, CHASE))
        rows = [(*transaction_row(t), 1, 1 + n % 2, "ok", None, 1 if n == 3 else None) for n, t in enumerate(txns)]
        rows[6] = (*rows[6][:-1], 2)  # stored by run 1, landed by run 2
        rows[7] = (*rows[7][:-4], None, "ok", None, 2)  # stored by no run, landed by run 2
        rows[8] = (*rows[8][:-1], 1)  # stored and landed by run 1
        rows[5] = ("legacy-id-5", *rows[5][1:])
        db.executemany(f"INSERT INTO transactions ({columns}) VALUES ({', '.join('?' * 26)})", rows)
        db.execute("DELETE FROM transactions WHERE rowid = 4")
    db.close()


def _everything(db: sqlite3.Connection) -> list[tuple[object, ...]]:
    columns = f"{TXN_COLUMNS}, file_id, run_id, status, pair_id, ledger_run"
    return db.execute(f"SELECT rowid, {columns} FROM transactions ORDER BY rowid").fetchall()


def _views(db: sqlite3.Connection) -> list[list[tuple[object, ...]]]:
    return [
        db.execute(
            f"SELECT {TXN_COLUMNS}, row, run_id, status, ledger_run FROM transaction_rows ORDER BY row"
        ).fetchall(),
        db.execute(f"SELECT {TXN_COLUMNS}, run_id FROM ledger ORDER BY external_id").fetchall(),
        db.execute("SELECT * FROM accepted_records ORDER BY external_id").fetchall(),
        db.execute("SELECT * FROM ledger_book ORDER BY external_id").fetchall(),
    ]


def test_a_schema_nine_state_upgrades_keeping_every_row_value_and_rowid(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    schema_nine_state(path, chase())
    with sqlite3.connect(path) as db:
        before, views = _everything(db), _views(db)
    assert len(before) == 11
    assert sorted(run for *_, run in views[2]) == [1, 2, 2]  # the three landed rows
    with State(path) as state:
        assert state.db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert _everything(state.db) == before
        assert _views(state.db) == views
        keys = state.db.execute("SELECT external_id, id_key FROM transactions").fetchall()
        assert keys and all(key == id_key(ext) for ext, key in keys)
        assert state.stored_transaction("legacy-id-5") is not None


def four_thousand_rows() -> list[Transaction]:
    """Enough rows (with long descriptions) that a rebuilt table leaves many free pages."""
    txns = chase()
    return [
        txns[n % len(txns)].model_copy(update={"external_id": f"v2:{n:032x}", "description": f"shop {n} " * 8})
        for n in range(4000)
    ]


def test_an_upgrade_gives_back_the_pages_of_the_table_it_rebuilt(tmp_path: Path) -> None:
    # Migration 10 copies `transactions` into a new table: the old one's pages would stay in the
    # file as free pages, so the upgrade compacts it (importer/store/migrations.py).
    many = four_thousand_rows()
    path = tmp_path / "state.db"
    schema_nine_state(path, many)
    with sqlite3.connect(path) as db:
        before = _everything(db)
        pages_before = db.execute("PRAGMA page_count").fetchone()[0]
    with State(path) as state:
        assert state.db.execute("PRAGMA freelist_count").fetchone() == (0,)
        assert state.db.execute("PRAGMA page_count").fetchone()[0] < pages_before * 1.3
        assert _everything(state.db) == before


def schema_eleven_state(path: Path, txns: list[Transaction]) -> None:
    """`schema_nine_state` taken through migrations 10 and 11: as the importer left a state
    before migration 12 made the run's foreign key deferred."""
    schema_nine_state(path, txns)
    db = sqlite3.connect(path)
    db.create_function("id_key", 1, id_key, deterministic=True)
    for number in (10, 11):
        _apply(db, number, MIGRATIONS[number - 1])
    db.close()


def _schema(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Each table, index and view of the transactions: type, name and definition as written."""
    rows = db.execute("SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = 'transactions' OR type = 'view'")
    return sorted((kind, name, " ".join(sql.split())) for kind, name, sql in rows if sql)


def test_migration_twelve_defers_the_run_key_keeping_every_row_and_gives_back_the_old_pages(tmp_path: Path) -> None:
    many = four_thousand_rows()
    path = tmp_path / "state.db"
    schema_eleven_state(path, many)
    with sqlite3.connect(path) as db:
        before, views = _everything(db), _views(db)
        pages_before = db.execute("PRAGMA page_count").fetchone()[0]
        assert "DEFERRABLE" not in db.execute("SELECT sql FROM sqlite_schema WHERE name = 'transactions'").fetchone()[0]
    with State(path) as state:
        assert state.db.execute("PRAGMA user_version").fetchone() == (12,)
        assert _everything(state.db) == before
        assert _views(state.db) == views
        assert state.db.execute("PRAGMA freelist_count").fetchone() == (0,)
        assert state.db.execute("PRAGMA page_count").fetchone()[0] < pages_before * 1.3
        assert state.db.execute("PRAGMA foreign_key_check").fetchall() == []
        upgraded = _schema(state.db)
    with State(tmp_path / "new.db") as fresh:
        assert upgraded == _schema(fresh.db)  # the same tables, indexes and views as a new state's
    assert any("run_id INTEGER REFERENCES runs(id) DEFERRABLE INITIALLY DEFERRED" in sql for *_, sql in upgraded)
    assert {name for kind, name, _ in upgraded if kind == "index"} == {
        "transactions_by_key",
        "transactions_by_date",
        "transactions_by_run",
        "transactions_by_pair",
        "transactions_landed_later",
    }


def test_a_row_naming_no_run_is_refused_at_commit(tmp_path: Path) -> None:
    # Deferred, the key is still checked: when the transaction commits.
    with State(tmp_path / "state.db") as state:
        state.db.execute("BEGIN")
        state.db.execute("INSERT INTO transactions (external_id, run_id, id_key) VALUES ('x', 99, 1)")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            state.db.execute("COMMIT")
        state.db.execute("ROLLBACK")
        assert state.db.execute("SELECT count(*) FROM transactions").fetchone() == (0,)


def test_an_upgrade_that_would_find_two_ids_sharing_a_key_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    txns = chase()
    txns[1] = txns[1].model_copy(update={"external_id": _twin(txns[0].external_id or "")})
    schema_nine_state(path, txns)
    with pytest.raises(StateError, match="cannot be upgraded to schema 10: UNIQUE constraint failed"):
        State(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (9,)
        assert len(_everything(db)) == 11


def test_postgresqls_id_key_is_the_same_function(pg_url: PgUrl) -> None:
    ids = ["v2:" + sha256(b"a").hexdigest()[:32], "v1:" + "f" * 32, "v2:" + "0" * 31 + "1", "FITID-42", "é|x", ""]
    with PostgresStore(pg_url) as state:
        assert [state.db.execute("SELECT id_key(?)", (i,)).fetchone()[0] for i in ids] == [id_key(i) for i in ids]
        assert state.db.execute("SELECT id_key(NULL)").fetchone()[0] is None
