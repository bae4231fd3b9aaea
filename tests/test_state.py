from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.config.state_location import Location
from importer.core.errors import StateError
from importer.store.locate import open_store
from importer.store.sqlite import MIGRATIONS, State
from tests.test_dedupe import txn


# SQLite by nature: its file, its `user_version` (tests/test_store_engines.py has PostgreSQL's).
def test_migrations_bring_a_new_file_to_the_latest_schema(state_path: Path) -> None:
    with State(state_path) as state:
        version = state.db.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)


def test_a_new_state_has_16k_pages_and_an_older_one_keeps_its_own(state_path: Path, tmp_path: Path) -> None:
    # importer/store/connection.py: a page size is chosen when the file is created, never after.
    with State(state_path) as state:
        state.store_transactions([txn().model_copy(update={"external_id": "v1:abc"})], state.begin_run("t"), None)
        assert state.db.execute("PRAGMA page_size").fetchone() == (16384,)
    older = tmp_path / "older.sqlite"
    db = sqlite3.connect(older)
    db.execute("CREATE TABLE before_us (x)")  # a file SQLite created with its default page size
    db.close()
    with State(older) as state:
        assert state.db.execute("PRAGMA page_size").fetchone() == (4096,)
        run = state.begin_run("t")
        assert state.store_transactions([txn().model_copy(update={"external_id": "v1:abc"})], run, None) == 1
    with State(state_path) as state:
        assert state.db.execute("PRAGMA page_size").fetchone() == (16384,)
        assert len(state.stored_transactions()) == 1


def test_reopening_keeps_data(any_state: Location) -> None:
    stored = txn().model_copy(update={"external_id": "v1:abc"})
    with open_store(any_state) as state:
        run = state.begin_run("test")
        assert state.store_transactions([stored], run, None) == 1
    with open_store(any_state) as state:
        assert state.stored_transactions() == [stored]
        assert state.store_transactions([stored], run, None) == 0


def test_a_newer_schema_is_refused(state_path: Path) -> None:
    db = sqlite3.connect(state_path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StateError, match="newer importer"):
        State(state_path)


def test_a_file_that_is_not_sqlite_is_refused(state_path: Path) -> None:
    state_path.write_text("not a database " * 100)
    with pytest.raises(StateError, match="state database"):
        State(state_path)


@given(st.dictionaries(st.text(), st.text(), max_size=8), st.lists(st.text(), max_size=4))
def test_stored_json_is_what_the_json_module_writes(raw: dict[str, str], tags: list[str]) -> None:
    from importer.store.sqlite import _RAW_JSON, _tags_json

    assert _RAW_JSON(raw) == json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode(raw)
    assert _tags_json(tags) == (json.dumps(tags, separators=(",", ":")) if tags else None)
    assert json.loads(_RAW_JSON(raw)) == raw
