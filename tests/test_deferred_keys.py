"""A first import drops the index on the ids' keys for most of its rows and makes it again, sorted,
before it commits (importer/store/sqlite_stream.py `defer_key_index`, importer/run/file_import.py
`_defer_keys`): the state it leaves, the reports and every later import are those of an import
that kept the index, including when two rows share a key, and a kill while it is away leaves the
state as it was."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.generate import write_chase_csv
from importer.core.batch import TxBatch
from importer.ids.recipe import IdAssigner
from importer.parsers import ParseOptions
from importer.rules import RuleSet
from importer.run import file_import, pipeline
from importer.run.pipeline import RunSettings, run
from importer.store import sqlite_stream
from importer.store.migrations import KEY_INDEX
from importer.store.sqlite import State
from importer.targets import REGISTRY
from tests.golden import ROOT
from tests.test_file_import import in_single_rows, samples_settings, snapshot
from tests.test_journal import Remote

ROWS = 400  # a statement's rows, one a batch (`in_single_rows`): 300 of them stored with the index away
AFTER = 100  # `defer_keys_after` in these tests (the pipeline's is 100,000)
CHECKING = replace(samples_settings(), parse=ParseOptions(account="Checking"))


@pytest.fixture
def one_row_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    events = file_import._events
    monkeypatch.setattr(file_import, "_events", lambda *args: in_single_rows(events(*args)))


def deferring_after(monkeypatch: pytest.MonkeyPatch, after: int | None) -> None:
    made = pipeline._file_settings
    monkeypatch.setattr(pipeline, "_file_settings", lambda *args: replace(made(*args), defer_keys_after=after))


def settings_for(target: str, monkeypatch: pytest.MonkeyPatch) -> RunSettings:
    settings = CHECKING
    if target == "remote":
        monkeypatch.setitem(REGISTRY, "remote", Remote)
        return replace(settings, target="remote")
    return settings


def traced_run(path: Path, files: list[Path], settings: RunSettings) -> tuple[list[str], list[object]]:
    """The statements SQLite ran for two runs of `files` into the state at `path`, and the runs' totals."""
    statements: list[str] = []
    totals: list[object] = []
    with State(path) as state:
        state.db.set_trace_callback(statements.append)
        for _ in range(2):
            report = run(files, RuleSet(()), state, settings)
            totals.append([(f.parsed, f.new, f.duplicate, f.held, f.error) for f in report.files])
    return statements, totals


def index_sql(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()


@pytest.mark.usefixtures("one_row_batches")
@pytest.mark.parametrize("target", ["local", "remote"])
def test_a_first_import_without_its_key_index_stores_what_one_with_it_stores(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statement = write_chase_csv(tmp_path / "oct.csv", ROWS, seed=3)
    settings = settings_for(target, monkeypatch)
    deferring_after(monkeypatch, None)
    _, kept_totals = traced_run(tmp_path / "kept.sqlite", [statement], settings)
    deferring_after(monkeypatch, AFTER)
    statements, totals = traced_run(tmp_path / "deferred.sqlite", [statement], settings)
    assert totals == kept_totals == [[(ROWS, ROWS, 0, 0, None)], [(ROWS, 0, ROWS, 0, None)]]
    assert snapshot(tmp_path / "deferred.sqlite") == snapshot(tmp_path / "kept.sqlite")
    assert index_sql(tmp_path / "deferred.sqlite") == index_sql(tmp_path / "kept.sqlite")
    # deferred once, by the first run, after AFTER rows, and made again before its commit
    drops = [n for n, s in enumerate(statements) if s == "DROP INDEX transactions_by_key"]
    assert len(drops) == 1 and statements.index(KEY_INDEX) > drops[0]
    stored = [s for s in statements[: drops[0]] if s.startswith("INSERT OR IGNORE INTO transactions")]
    assert len(stored) == AFTER
    with sqlite3.connect(tmp_path / "deferred.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_state_already_holding_rows_keeps_its_key_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The second file is not a first import: its rows are stored into the index as always.
    deferring_after(monkeypatch, 0)
    settings = settings_for("local", monkeypatch)
    with State(tmp_path / "state.sqlite") as state:
        run([write_chase_csv(tmp_path / "a.csv", 50, seed=1)], RuleSet(()), state, settings)
        statements: list[str] = []
        state.db.set_trace_callback(statements.append)
        report = run([write_chase_csv(tmp_path / "b.csv", 50, seed=2)], RuleSet(()), state, settings)
    assert report.files[0].new == 50
    assert "DROP INDEX transactions_by_key" not in statements


@pytest.mark.parametrize("named", ["nothing", "alias", "accepted", "earlier row", "savepoint"])
def test_the_state_defers_its_key_index_only_when_nothing_but_the_file_names_an_id(tmp_path: Path, named: str) -> None:
    # The rows stored (rowids 1-5) stand for the file's own when the mark is 0.
    with State(tmp_path / "state.sqlite") as state:
        run([write_chase_csv(tmp_path / "a.csv", 5, seed=1)], RuleSet(()), state, CHECKING)
        state.db.execute("DELETE FROM accepted")
        if named == "alias":
            state.db.execute("INSERT INTO aliases VALUES ('a', 'b', 'other-format', NULL, 'now')")
        if named == "accepted":
            state.db.execute("INSERT INTO accepted VALUES ('x', 'a', NULL, NULL, 'now')")
        with state.transaction():
            if named == "savepoint":  # a unit inside another: its end is not the deferral's
                with state.transaction():
                    assert not state.defer_key_index(0)
            else:
                assert state.defer_key_index(1 if named == "earlier row" else 0) is (named == "nothing")


def test_an_undone_unit_brings_the_index_back_and_the_state_looks_rows_up_by_it_again(tmp_path: Path) -> None:
    with State(tmp_path / "state.sqlite") as state:
        run([write_chase_csv(tmp_path / "a.csv", 5, seed=1)], RuleSet(()), state, CHECKING)
        ids = [ext for (ext,) in state.db.execute("SELECT external_id FROM transactions")]
        state.db.execute("DELETE FROM accepted")
        with pytest.raises(RuntimeError), state.transaction():
            assert state.defer_key_index(0)
            assert state.known("local", ids)[2] == {}  # while away: the file's own rows are not asked for
            raise RuntimeError("the file failed")
        assert set(state.known("local", ids)[2]) == set(ids)
    assert ("transactions_by_key", KEY_INDEX) in index_sql(tmp_path / "state.sqlite")


def colliding_keys(ids: object) -> list[int | None]:
    """Keys that only 7 values: most rows share one with another."""
    return [None if k is None else k % 7 for k in keys(ids)]  # type: ignore[arg-type]


keys = sqlite_stream.id_keys


@pytest.mark.usefixtures("one_row_batches")
def test_two_rows_sharing_a_key_read_the_file_again_with_the_index_and_are_refused_as_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A collision of keys among ids the index has not seen: making the index again fails
    # (SharedKeys), and the file is read again with the index kept, which refuses the row as
    # an import that never deferred does (idkey.py).
    monkeypatch.setattr(sqlite_stream, "id_keys", colliding_keys)
    statement = write_chase_csv(tmp_path / "oct.csv", 20, seed=3)
    settings = settings_for("local", monkeypatch)
    readings = []
    made = file_import.FileImport.__init__

    def counted(self: file_import.FileImport, *args: object, **kwargs: object) -> None:
        made(self, *args, **kwargs)  # type: ignore[arg-type]
        readings.append(self.settings.defer_keys_after)

    monkeypatch.setattr(file_import.FileImport, "__init__", counted)
    outcomes = []
    for after in (None, 0):
        deferring_after(monkeypatch, after)
        with State(tmp_path / f"{after}.sqlite") as state:
            report = run([statement], RuleSet(()), state, settings)
            outcomes.append((report.files[0].error, state.last_row()))
    assert readings == [None, 0, None]
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] is not None and "has the same index key" in outcomes[0][0]
    assert outcomes[0][1] == 0


@pytest.mark.usefixtures("one_row_batches")
def test_an_id_given_twice_while_the_index_is_away_is_decided_as_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The id assigner keeps a statement's ids distinct; should it not, the rows are decided as
    # the index decides them: the second a duplicate of the first.
    assign = IdAssigner.assign_batch

    def one_twice(self: IdAssigner, batch: TxBatch) -> TxBatch:
        named = assign(self, batch)
        if batch.first_index == 150:  # this row takes the id of the row before it
            return replace(named, external_id=[ids[149]])
        ids.append(named.column("external_id")[0])
        return named

    ids: list[str | None] = []
    monkeypatch.setattr(IdAssigner, "assign_batch", one_twice)
    statement = write_chase_csv(tmp_path / "oct.csv", 200, seed=3)
    settings = settings_for("local", monkeypatch)
    results = []
    for after in (None, 50):
        ids.clear()
        deferring_after(monkeypatch, after)
        with State(tmp_path / f"{after}.sqlite") as state:
            done = run([statement], RuleSet(()), state, settings).files[0]
            results.append((done.parsed, done.new, done.duplicate, done.error))
    assert results[0] == results[1] == (200, 199, 1, None)
    assert snapshot(tmp_path / "50.sqlite") == snapshot(tmp_path / "None.sqlite")


def test_a_first_import_killed_with_its_key_index_away_leaves_nothing_and_runs_again(tmp_path: Path) -> None:
    # A real process, killed by SIGKILL after its second batch stored without the index
    # (importer/internals/crash.py): the state is as before the run, its index in place; the
    # same command run again stores every row once.
    rows = 140_000  # 100,000 stored with the index (DEFER_KEYS_AFTER), two batches of 20,000 without
    assert file_import.DEFER_KEYS_AFTER == 100_000
    statement = write_chase_csv(tmp_path / "history.csv", rows, seed=4)
    state = tmp_path / "state.sqlite"
    command = [sys.executable, "-m", "importer", "run", str(statement), "--account", "Checking", "--state", str(state)]
    command += ["--rules", str(ROOT / "rules")]
    env = {**os.environ, "IMPORTER_CRASH_AT": "keys.deferred:2", "HOME": str(tmp_path)}
    killed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM transactions").fetchone() == (0,)
        assert ("transactions_by_key", KEY_INDEX) in index_sql(state)
    env.pop("IMPORTER_CRASH_AT")
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(state) as db:
        counted = db.execute("SELECT count(*), count(DISTINCT external_id), count(ledger_run) FROM transactions")
        assert counted.fetchone() == (rows, rows, rows)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert ("transactions_by_key", KEY_INDEX) in index_sql(state)


@pytest.mark.usefixtures("one_row_batches")
def test_a_second_statement_makes_the_index_again_before_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two accounts' statements in one file (their transfers paired by id): the index is made again
    # when the second opens, and the state is the one an import keeping it leaves.
    statement = ROOT / "samples" / "ofx" / "lakeside-cu-2026-10.qfx"
    deferring_after(monkeypatch, None)
    _, kept_totals = traced_run(tmp_path / "kept.sqlite", [statement], samples_settings())
    deferring_after(monkeypatch, 1)
    statements, totals = traced_run(tmp_path / "deferred.sqlite", [statement], samples_settings())
    assert totals == kept_totals
    assert kept_totals[0][0][1] > 2 and kept_totals[1][0][1] == 0  # new rows the first time, none again
    assert snapshot(tmp_path / "deferred.sqlite") == snapshot(tmp_path / "kept.sqlite")
    drop, made = statements.index("DROP INDEX transactions_by_key"), statements.index(KEY_INDEX)
    assert drop < made
    heads = [n for n, s in enumerate(statements) if "INSERT OR IGNORE INTO transactions" in s]
    assert heads[-1] > made  # rows stored after the index came back: the second statement's
