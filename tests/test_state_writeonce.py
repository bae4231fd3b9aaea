"""Each transaction is written once (issue 16, migration 7): the local ledger is the stored rows
marked landed, the journal keeps batches and not items, a row keeps only what its file and run do
not say, and old databases upgrade to that keeping every row."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from importer.core.models import Transaction
from importer.parsers import ParseOptions, parse_file
from importer.rules import load_rules
from importer.run.pipeline import prepare
from importer.store.rows import TXN_COLUMNS, transaction_from_row
from importer.store.sqlbase import LANDED_LATER
from importer.store.sqlite import State
from importer.store.sqlite_history import _SUMMARY

CHASE = "samples/csv/chase/chase-checking-2026-10.csv"
OFX = "samples/ofx/checking-2026-10.ofx"
SHA = "c" * 64


def chase() -> list[Transaction]:
    """The Chase sample's 12 rows, categorised by the shipped rules, with their external ids."""
    return [t for st in parse_file(Path(CHASE), ParseOptions()) for t in prepare(st, load_rules([Path("rules")]))]


def stored_and_landed(state: State, txns: list[Transaction]) -> tuple[int, int]:
    """Store `txns` as one file's import and land them in the ledger, in one transaction, as the
    pipeline does for the local target; returns (the run, how many landed)."""
    run_id = state.begin_run("run")
    with state.transaction():
        after = state.last_row()
        state.store_transactions(txns, run_id, SHA)
        return run_id, state.land_in_state("local", run_id, SHA, after)


def test_landing_a_files_new_rows_marks_them_and_journals_one_batch(state_path: Path) -> None:
    txns = chase()
    with State(state_path) as state:
        run_id, landed = stored_and_landed(state, txns)
        assert landed == 12
        assert (
            state.stored_transactions("ledger")
            == state.stored_transactions()
            == sorted(txns, key=lambda t: (t.date, t.external_id or ""))
        )
        assert state.accepted_ids("local", [t.external_id or "" for t in txns]) == {t.external_id for t in txns}
        batch = "SELECT target, key, run_id, status, size, confirmed, external_ids FROM batches"
        assert state.db.execute(batch).fetchall() == [("local", f"{SHA}:0", run_id, "done", 12, 12, None)]
        # Nothing else holds a copy: `accepted` is for the other targets, and there are no items.
        assert state.db.execute("SELECT count(*) FROM accepted").fetchone() == (0,)
        assert state.db.execute("SELECT name FROM sqlite_master WHERE name = 'batch_items'").fetchall() == []
        assert state.db.execute("SELECT type FROM sqlite_master WHERE name = 'ledger'").fetchone() == ("view",)
        # Landing the same import again lands nothing and journals nothing.
        assert state.land_in_state("local", run_id, SHA, 0) == 0
        assert state.db.execute("SELECT count(*) FROM batches").fetchone() == (1,)


def test_landing_takes_only_that_files_rows_of_that_run_after_the_mark(state_path: Path) -> None:
    txns = chase()
    with State(state_path) as state:
        run_id = state.begin_run("run")
        state.store_transactions(txns[:5], run_id, "a" * 64)
        after = state.last_row()
        state.store_transactions(txns[5:], run_id, SHA)
        state.set_status([txns[6].external_id or ""], "review")  # held: not sent
        assert state.land_in_state("local", run_id, SHA, after) == 6
        assert state.land_in_state("local", run_id + 1, "a" * 64, 0) == 0
        landed = {t.external_id for t in state.stored_transactions("ledger")}
    assert landed == {t.external_id for t in txns[5:]} - {txns[6].external_id}


def test_a_row_keeps_only_what_its_file_and_run_do_not_say(state_path: Path) -> None:
    txns = chase()
    with State(state_path) as state:
        run_id, _ = stored_and_landed(state, txns)
        row = state.db.execute("SELECT source_path, tags, file_id, raw FROM transactions LIMIT 1").fetchone()
        assert row[:3] == (None, None, 1)  # the path is the file's, no tags, the file by number
        # The raw cells' values alone, their names once in the file's row, and the description,
        # amount and balance cells (the same texts as those columns) by the column's number.
        first = sorted(txns, key=lambda t: (t.date, t.external_id or ""))[0]
        first_stored = state.db.execute("SELECT raw FROM transactions WHERE external_id = ?", (first.external_id,))
        assert json.loads(first_stored.fetchone()[0]) == ["CREDIT", "10/01/2026", 0, 1, "ACH_CREDIT", 2, ""]
        assert list(first.raw.values())[2:6:3] == [first.description, str(first.balance)]
        names = state.db.execute("SELECT raw_columns FROM files").fetchone()[0]
        assert (
            json.loads(names)
            == list(txns[0].raw)
            == ["Details", "Posting Date", "Description", "Amount", "Type", "Balance", "Check or Slip #"]
        )
        assert state.stored_transactions()[0].raw == sorted(txns, key=lambda t: (t.date, t.external_id or ""))[0].raw
        shown = state.db.execute("SELECT source_path, file_sha256, stored_at, run_id FROM transaction_rows LIMIT 1")
        started = state.db.execute("SELECT started_at FROM runs").fetchone()[0]
        assert shown.fetchone() == (CHASE, SHA, started, run_id)
        columns = {r[1] for r in state.db.execute("PRAGMA table_info(transactions)")}
    assert not columns & {"file_sha256", "stored_at"}


def test_a_row_from_another_path_than_its_files_keeps_its_own(state_path: Path) -> None:
    txns = chase()
    moved = [t.model_copy(update={"source": t.source.model_copy(update={"path": "inbox/oct.csv"})}) for t in txns[1:]]
    with State(state_path) as state:
        run_id = state.begin_run("run")
        state.store_transactions(txns[:1], run_id, SHA)
        state.store_transactions(moved, run_id, SHA)
        paths = state.db.execute("SELECT source_path FROM transactions ORDER BY rowid").fetchall()
        assert paths == [(None,)] + [("inbox/oct.csv",)] * 11
        assert {t.source.path for t in state.stored_transactions()} == {CHASE, "inbox/oct.csv"}


@pytest.mark.parametrize(("fixture", "rows"), [("state-schema3.db", 43), ("state-schema5-balances.db", 27)])
def test_an_old_database_upgrades_keeping_every_row_once(tmp_path: Path, fixture: str, rows: int) -> None:
    path = tmp_path / "old.db"
    shutil.copy(Path("tests/fixtures") / fixture, path)
    before = _old(path)
    assert len(before["transactions"]) == len(before["ledger"]) == rows
    with State(path) as state:
        after = {
            "transactions": _records(state.db, "transaction_rows", "file_sha256, run_id, status, pair_id"),
            "ledger": _records(state.db, "ledger", "run_id, pair_id"),
            "accepted": state.db.execute(
                "SELECT target, external_id, remote_id, run_id FROM accepted_records ORDER BY 1, 2"
            ).fetchall(),
            "batches": state.db.execute(
                "SELECT id, status, size, confirmed, external_ids FROM batches ORDER BY id"
            ).fetchall(),
        }
        assert state.db.execute("SELECT count(*) FROM transactions").fetchone() == (rows,)
    assert after == before


def _old(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """What an old database holds, read by meaning with its own schema."""
    db = sqlite3.connect(path)
    try:
        return {
            "transactions": _records(db, "transactions", "file_sha256, run_id, status, pair_id"),
            "ledger": _records(db, "ledger", "run_id, pair_id"),
            "accepted": db.execute(
                "SELECT target, external_id, remote_id, run_id FROM accepted ORDER BY 1, 2"
            ).fetchall(),
            "batches": db.execute(
                "SELECT b.id, b.status, b.size, count(i.remote_id), NULL FROM batches b "
                "LEFT JOIN batch_items i ON i.batch_id = b.id GROUP BY b.id ORDER BY b.id"
            ).fetchall(),
        }
    finally:
        db.close()


def _records(db: sqlite3.Connection, table: str, extra: str) -> list[tuple[object, ...]]:
    rows = db.execute(f"SELECT {TXN_COLUMNS}, {extra} FROM {table} ORDER BY external_id").fetchall()
    width = len(TXN_COLUMNS.split(", "))
    return [(transaction_from_row(row[:width]), *row[width:]) for row in rows]


def test_a_pending_batch_keeps_its_ids_in_order_through_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(Path("tests/fixtures/state-schema3.db"), path)
    db = sqlite3.connect(path)
    with db:
        ids = [row[0] for row in db.execute("SELECT external_id FROM transactions ORDER BY rowid LIMIT 3")]
        cursor = db.execute(
            "INSERT INTO batches (target, key, run_id, status, size, created_at) "
            "VALUES ('pocketsmith', 'k', 1, 'pending', 3, 'x')"
        )
        db.executemany(
            "INSERT INTO batch_items VALUES (?, ?, ?, NULL)",
            [(cursor.lastrowid, n, ext) for n, ext in zip((2, 0, 1), ids)],
        )
    db.close()
    with State(path) as state:
        assert state.pending_batches("pocketsmith") == [(cursor.lastrowid, "k", (ids[1], ids[2], ids[0]))]


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (
            "SELECT * FROM transactions WHERE account IN ('a', 'b') AND date BETWEEN '2026-01-01' AND '2026-02-01'",
            "transactions_by_date",
        ),
        (
            "SELECT external_id FROM transactions WHERE date BETWEEN '2026-01-01' AND '2026-02-01' AND status = 'ok'",
            "transactions_by_date",
        ),
        ("SELECT 1 FROM transactions WHERE run_id = 3", "transactions_by_run"),
        ("UPDATE transactions SET pair_id = NULL WHERE pair_id IN (SELECT 'p')", "transactions_by_pair"),
        (f"SELECT 1 FROM transactions WHERE ledger_run = 3 AND {LANDED_LATER}", "transactions_landed_later"),
        (
            f"UPDATE transactions SET ledger_run = NULL WHERE ledger_run = 3 AND {LANDED_LATER}",
            "transactions_landed_later",
        ),
        ("SELECT count(*) FROM accepted_records WHERE run_id = 3", "transactions_by_run"),
        ("SELECT count(*) FROM accepted_records WHERE run_id = 3", "transactions_landed_later"),
        ("SELECT count(*) FROM accepted_records WHERE run_id = 3", "accepted_by_run"),
        (_SUMMARY, "transactions_landed_later"),
    ],
)
def test_each_index_serves_the_query_it_is_kept_for(state_path: Path, query: str, index: str) -> None:
    with State(state_path) as state:
        plan = " ".join(row[3] for row in state.db.execute("EXPLAIN QUERY PLAN " + query))
    assert f"INDEX {index} " in plan


def test_a_row_whose_cells_are_not_its_files_columns_keeps_their_names(state_path: Path) -> None:
    txns = chase()
    odd = txns[1].model_copy(update={"raw": {"Memo": "paid by cheque", "Details": "DEBIT"}})
    with State(state_path) as state:
        state.store_transactions([txns[0], odd], state.begin_run("run"), SHA)
        stored = state.db.execute("SELECT raw FROM transactions ORDER BY rowid").fetchall()
        assert [json.loads(raw) for (raw,) in stored] == [["DEBIT", "10/30/2026", 0, 1, "DEBIT_CARD", 2, ""], odd.raw]
        assert {t.external_id: t.raw for t in state.stored_transactions()} == {
            txns[0].external_id: txns[0].raw,
            odd.external_id: odd.raw,
        }
