"""The streaming import of a file (importer/run/file_import.py): the batch size changes nothing,
a file fails whole wherever its error is, and the bytes recorded are the bytes parsed."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.compare import write_our_rules
from benchmarks.generate import write_chase_csv
from importer.config.settings import default_currency, load_config
from importer.config.state_location import Location
from importer.core.batch import TxBatch, batched
from importer.core.errors import ParseError, StateError
from importer.parsers import ParseOptions, parse_file
from importer.parsers.base import StatementFile
from importer.parsers.stream import Event, Rows
from importer.reports.summary import RunReport
from importer.rules import RuleSet, load_rules
from importer.run import file_import, pipeline
from importer.run.pipeline import RunSettings, run
from importer.store.locate import open_store
from importer.store.sqlite import State, transaction_row
from importer.targets import REGISTRY
from tests.golden import ROOT
from tests.statements import Line, chase_csv, day
from tests.test_journal import Remote

TABLES = ("transactions", "aliases", "held", "accepted", "ledger", "accounts", "account_identifiers", "files")


def samples_settings() -> RunSettings:
    config = load_config(ROOT / "importer.yaml")
    return RunSettings(accounts=config.account_specs(), default_currency=default_currency(config))


def in_single_rows(events: Iterator[Event]) -> Iterator[Event]:
    """The same stream with every batch cut into batches of one row."""
    for event in events:
        if isinstance(event, Rows):
            for one in batched(list(event.batch.transactions()), 1):
                yield Rows(event.index, replace(one, first_index=event.batch.first_index + one.first_index))
        else:
            yield event


def snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table the import writes, without the columns that name the moment."""
    with sqlite3.connect(path) as db:
        out = {}
        for table in TABLES:
            columns = [
                r[1]
                for r in db.execute(f"PRAGMA table_info({table})")
                if r[1] not in ("stored_at", "created_at", "accepted_at", "first_seen_at", "held_at")
            ]
            out[table] = sorted(db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(), key=repr)
        return out


def import_samples_twice(state_path: Path) -> list[RunReport]:
    rules = load_rules([ROOT / "rules"])
    reports = []
    for _ in range(2):
        with State(state_path) as state:
            reports.append(run([ROOT / "samples"], rules, state, samples_settings()))
    return reports


def test_batches_of_one_row_store_and_report_what_whole_statements_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = import_samples_twice(tmp_path / "whole.sqlite")
    events = file_import._events
    monkeypatch.setattr(file_import, "_events", lambda *args: in_single_rows(events(*args)))
    rows = import_samples_twice(tmp_path / "rows.sqlite")
    assert [r.totals() for r in rows] == [r.totals() for r in whole]
    assert [[f.duplicates for f in r.files] for r in rows] == [[f.duplicates for f in r.files] for r in whole]
    assert whole[0].totals()["new"] == 284 and whole[1].totals()["new"] == 0
    assert snapshot(tmp_path / "rows.sqlite") == snapshot(tmp_path / "whole.sqlite")


def count(location: Location, table: str) -> int:
    with open_store(location) as state:
        return int(state.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_an_error_after_stored_batches_leaves_nothing_of_the_file(
    any_state: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_late(parser: object, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        yield from in_single_rows(events(parser, source, options))  # every row stored before the error
        raise ParseError(source.path, "line 99: the amount '-85O.00' is not a number.", line=99)

    events = file_import._events
    monkeypatch.setattr(file_import, "_events", failing_late)
    statement = ROOT / "samples" / "ofx" / "checking-2026-10.ofx"
    with open_store(any_state) as state:
        report = run([statement], load_rules([ROOT / "rules"]), state, samples_settings())
    assert report.files[0].error is not None and "-85O.00" in report.files[0].error
    assert (count(any_state, "transactions"), count(any_state, "files")) == (0, 0)


def test_a_batch_the_store_refuses_late_leaves_nothing_of_its_file_and_the_next_file_imports(
    any_state: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch is stored without a savepoint of its own (importer/store/sqlbase.py `joined`): what
    # it and the batches before it wrote goes with the file's transaction when it fails.
    events = file_import._events
    monkeypatch.setattr(file_import, "_events", lambda *args: in_single_rows(events(*args)))
    bad, good = ROOT / "samples" / "ofx" / "checking-2026-10.ofx", ROOT / "samples" / "qif" / "checking-2026-10.qif"
    calls = {"n": 0}

    with open_store(any_state) as state:
        store_batch = state.store_batch

        def refusing_the_third(batch: TxBatch, rows: object, *args: object, **kwargs: object) -> int:
            stored = store_batch(batch, rows, *args, **kwargs)  # type: ignore[arg-type]
            if batch.path == str(bad):
                calls["n"] += 1
                if calls["n"] == 3:
                    raise StateError(f"{bad}: refused after storing (a test)")
            return stored

        monkeypatch.setattr(state, "store_batch", refusing_the_third)
        report = run([bad, good], load_rules([ROOT / "rules"]), state, samples_settings())
    assert [f.error is not None for f in report.files] == [True, False]
    with open_store(any_state) as state:
        paths = state.db.execute(
            "SELECT DISTINCT f.path FROM transactions t JOIN files f ON f.id = t.file_id"
        ).fetchall()
    assert paths == [(str(good),)]
    assert count(any_state, "transactions") == report.files[1].new > 0


def test_a_files_batches_are_stored_without_a_savepoint_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A savepoint per batch made SQLite copy every page a batch changed that existed before it
    # (733 MB at a million rows): the file's one transaction is the only unit.
    events = file_import._events
    monkeypatch.setattr(file_import, "_events", lambda *args: in_single_rows(events(*args)))
    statements: list[str] = []
    with State(tmp_path / "state.sqlite") as state:
        state.db.set_trace_callback(statements.append)
        report = run(
            [ROOT / "samples" / "ofx" / "checking-2026-10.ofx"], load_rules([ROOT / "rules"]), state, samples_settings()
        )
    inserts = [n for n, s in enumerate(statements) if s.startswith("INSERT OR IGNORE INTO transactions")]
    assert report.files[0].new == len(inserts) > 1  # one batch a row: one insert each
    between = statements[inserts[0] : inserts[-1]]
    assert [s for s in between if s.split()[0] in ("SAVEPOINT", "RELEASE", "ROLLBACK")] == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads open files in /proc (Linux)")
def test_many_rows_an_insert_keep_no_statement_journal(tmp_path: Path) -> None:
    # SQLite copies each page an INSERT of many rows changes into a temporary file first when a
    # constraint could abort it half way (sqlite_stream.py `_insert_rows`): an immediate foreign
    # key did, doubling the system time of a million-row import.  The file is open only while a
    # statement runs, so a progress handler looks for it then; the first import makes the key
    # index large enough that a statement's pages spill to the file.  The rules categorise some
    # rows, not all: a column with NULLs among its values is bound by a CASE, not a function,
    # which would keep the journal too.
    settings = samples_settings()
    journals: set[str] = set()

    def look() -> int:
        for fd in Path("/proc/self/fd").iterdir():
            with contextlib.suppress(OSError):
                if "etilqs_" in os.readlink(fd):  # SQLite's temporary files, unlinked once open
                    journals.add(os.readlink(fd))
        return 0

    with State(tmp_path / "state.sqlite") as state:
        run([write_chase_csv(tmp_path / "a.csv", 20_000, seed=1)], RuleSet(()), state, settings)
        state.db.set_progress_handler(look, 20_000)
        statements: list[str] = []
        state.db.set_trace_callback(statements.append)
        # another account: no row is held as resembling one of the first file's (storing a held
        # row opens a savepoint, whose journal is the same temporary file)
        other = replace(settings, parse=ParseOptions(account="Savings"))
        rules = load_rules([write_our_rules(tmp_path / "rules.yaml", 100)])
        report = run([write_chase_csv(tmp_path / "b.csv", 3_000, seed=2)], rules, state, other)
        categories = state.db.execute("SELECT count(category), count(*) FROM transactions WHERE account = 'Savings'")
        assert 0 < categories.fetchone()[0] < 3_000  # NULL and text among the values bound
    assert (report.files[0].new, report.files[0].held) == (3_000, 0)
    assert any(s.count("), (") >= 63 for s in statements if s.startswith("INSERT OR IGNORE INTO transactions"))
    assert journals == set()


def test_a_file_that_changes_while_it_is_read_is_refused(
    any_state: Location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statement = tmp_path / "checking.ofx"
    statement.write_bytes((ROOT / "samples" / "ofx" / "checking-2026-10.ofx").read_bytes())
    sha = file_import.file_sha256
    monkeypatch.setattr(
        file_import, "file_sha256", lambda path, options: "0" * 64 if path == statement else sha(path, options)
    )
    with open_store(any_state) as state:
        report = run([statement], load_rules([ROOT / "rules"]), state, samples_settings())
    assert report.files[0].error == f"{statement}: changed while it was read; import it again once it is complete."
    assert count(any_state, "transactions") == 0


def test_storing_a_batch_from_its_columns_writes_what_storing_its_transactions_writes(
    tmp_path: Path, any_state: Location
) -> None:
    # The reference is SQLite storing Transactions row by row; the batch is stored on each engine
    # (PostgreSQL's through COPY, importer/store/postgres.py).
    statement = parse_file(ROOT / "samples" / "camt" / "giro-2026-10.camt053.xml", ParseOptions())[0]
    txns = [
        t.model_copy(update={"external_id": f"v2:{n:032x}", "tags": ("a", "b") if n % 2 else ()})
        for n, t in enumerate(statement.transactions)
    ]
    with State(tmp_path / "a.sqlite") as a, open_store(any_state) as b:
        a.store_transactions(txns, a.begin_run("run"), "f" * 64)
        b.store_batch(TxBatch.of(txns), range(len(txns)), b.begin_run("run"), "f" * 64)
        query = (
            "SELECT external_id, account, date, amount, description, tags, raw, source_line, status FROM transactions "
            "ORDER BY rowid"
        )
        assert a.db.execute(query).fetchall() == b.db.execute(query).fetchall()
        assert [transaction_row(t)[0] for t in txns] == [r[0] for r in b.db.execute(query)]


@pytest.mark.parametrize("size", [1, 63, 64, 65, 129, 200])
def test_a_batch_stored_many_rows_a_statement_keeps_file_order_and_skips_what_is_stored(
    tmp_path: Path, any_state: Location, size: int
) -> None:
    # Batches of several sizes (SQLite's store once grouped 64 rows an INSERT: the edges are kept),
    # every third row stored already: the count and the order are the row-by-row reference's.
    statement = parse_file(ROOT / "samples" / "camt" / "giro-2026-10.camt053.xml", ParseOptions())[0]
    base = statement.transactions
    txns = [
        base[n % len(base)].model_copy(update={"external_id": f"v2:{n:032x}", "description": f"row {n}"})
        for n in range(size)
    ]
    earlier = [t for n, t in enumerate(txns) if n % 3 == 1]
    with State(tmp_path / "a.sqlite") as a, open_store(any_state) as b:
        run_a, run_b = a.begin_run("run"), b.begin_run("run")
        a.store_transactions(earlier, run_a, "e" * 64)
        a.store_transactions(txns, run_a, "f" * 64)
        if earlier:
            b.store_batch(TxBatch.of(earlier), range(len(earlier)), run_b, "e" * 64)
        assert b.store_batch(TxBatch.of(txns), range(size), run_b, "f" * 64) == size - len(earlier)
        query = "SELECT external_id, description, amount, status FROM transactions ORDER BY rowid"
        assert b.db.execute(query).fetchall() == a.db.execute(query).fetchall()
        assert len(b.db.execute(query).fetchall()) == size


def test_storing_a_batch_landed_writes_what_storing_then_landing_writes(tmp_path: Path, any_state: Location) -> None:
    # The reference is the rows stored, then landed by the one UPDATE; the fast path stores them
    # landed (`landed=True`) and landing then journals them.  Same rows, ledger and journal row.
    statement = parse_file(ROOT / "samples" / "camt" / "giro-2026-10.camt053.xml", ParseOptions())[0]
    txns = [t.model_copy(update={"external_id": f"v2:{n:032x}"}) for n, t in enumerate(statement.transactions)]
    sha = "f" * 64
    with State(tmp_path / "a.sqlite") as a, open_store(any_state) as b:
        run_a, run_b = a.begin_run("run"), b.begin_run("run")
        with a.transaction():
            a.store_batch(TxBatch.of(txns), range(len(txns)), run_a, sha)
            assert a.land_in_state("local", run_a, sha, 0) == len(txns)
        with b.transaction():
            stored = b.store_batch(TxBatch.of(txns), range(len(txns)), run_b, sha, landed=True)
            assert b.land_in_state("local", run_b, sha, 0, stored) == len(txns) == 4
        rows = "SELECT external_id, amount, status, run_id, ledger_run FROM transactions ORDER BY rowid"
        assert a.db.execute(rows).fetchall() == b.db.execute(rows).fetchall()
        assert [r[4] for r in b.db.execute(rows)] == [run_b] * 4
        journal = "SELECT target, key, run_id, size, confirmed, status FROM batches"
        assert (
            a.db.execute(journal).fetchall()
            == b.db.execute(journal).fetchall()
            == [("local", f"{sha}:0", run_b, 4, 4, "done")]
        )
        assert a.stored_transactions("ledger") == b.stored_transactions("ledger")


@pytest.mark.parametrize("target", ["local", "remote"])
def test_a_day_coming_back_after_the_id_window_reads_the_file_again_storing_each_row_once(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The repeat counters keep only the last `id_window` days (importer/ids/recipe.py); a day that
    # comes back after that raises DayLetGo and the file is read again with them unbounded.  The
    # batches stored before must not stay as they were: the file is one import, its rows counted
    # new once, none doubled, the same ids as a reading that never bounded them.
    coffee = Line(day(1), "-4.50", "BLUE BOTTLE COFFEE")
    lines = [coffee, coffee, *(Line(day(n), f"-{n}.00", f"SHOP {n}") for n in range(2, 8)), coffee]
    statement = chase_csv(tmp_path / "oct.csv", lines)  # newest first: day 1, days 7..2, day 1 twice
    settings = replace(samples_settings(), parse=ParseOptions(account="Checking"))
    if target == "remote":
        settings = replace(settings, target="remote")
        monkeypatch.setitem(REGISTRY, "remote", Remote)
    with State(tmp_path / "unbounded.sqlite") as state:
        run([statement], RuleSet(()), state, settings)
        expected = sorted(ext for (ext,) in state.db.execute("SELECT external_id FROM transactions"))
    events = file_import._events
    monkeypatch.setattr(file_import, "_events", lambda *args: in_single_rows(events(*args)))
    made = pipeline._file_settings
    monkeypatch.setattr(pipeline, "_file_settings", lambda *args: replace(made(*args), id_window=2))
    with State(tmp_path / "state.sqlite") as state:
        report = run([statement], RuleSet(()), state, settings)
        stored = sorted(ext for (ext,) in state.db.execute("SELECT external_id FROM transactions"))
        sent = state.accepted_ids(target, stored)
    assert len(expected) == len(lines) == 9
    assert stored == expected
    done = report.files[0]
    assert (done.parsed, done.new, done.duplicate, done.uncategorised, done.held, done.error) == (9, 9, 0, 9, 0, None)
    assert sum(done.uncategorised_payees.values()) == 9, done.uncategorised_payees
    assert set(sent) == set(expected)
