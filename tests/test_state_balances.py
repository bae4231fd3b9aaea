"""Statement balances belong to the store: migration 6 creates their table, and `undo` forgets them.

Before migration 6 importer/reports/gaps.py created `statement_balances` itself, outside the
migrations, and `undo` left its rows behind: a month whose only statement was undone still
counted as covered, so the missing-month warning went quiet.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import importer.cli  # noqa: F401  before run.routine: routine and cli import each other (see the report)
from importer.config.settings import Config, SourceSettings
from importer.reports.gaps import BalanceBook
from importer.rules import load_rules
from importer.run.history import runs, undo
from importer.run.pipeline import RunSettings, statement_files
from importer.run.routine import month_gaps, run_sources
from importer.store.migrations import MIGRATIONS
from importer.store.sqlite import State
from tests.inbox_statements import month_lines, write_chase
from tests.test_watch import QUIET

ROOT = Path.cwd()
# Written by the importer before migration 6 (`importer run --config` over the Chase CSV, run 1,
# and the checking OFX, run 2): schema 5, with the `statement_balances` table gaps.py created.
OLD = ROOT / "tests/fixtures/state-schema5-balances.db"
OFX = "/work/main/samples/ofx/checking-2026-10.ofx"  # the paths as that importer was given them
OFX_ACCOUNT = "021000021:000123456789"
CHASE = "/work/main/samples/csv/chase/chase-checking-2026-10.csv"


def balance_rows(state: State) -> list[tuple[object, ...]]:
    query = "SELECT account, path, start_date, end_date, opening, closing FROM statement_balances ORDER BY path"
    return state.db.execute(query).fetchall()


def test_a_database_with_the_table_made_outside_the_migrations_upgrades_keeping_its_balances(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    shutil.copy(OLD, path)
    with State(path) as state:
        assert state.db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert balance_rows(state) == [
            ("Chase checking", CHASE, "2026-10-01", "2026-10-30", None, None),
            (OFX_ACCOUNT, OFX, "2026-10-01", "2026-10-31", "6544.13", "6544.13"),
        ]
        index = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'statement_balances' AND sql IS NOT NULL"
        assert state.db.execute(index).fetchall() == [("statement_balances_by_file",)]


def test_undoing_an_old_run_forgets_the_balances_of_the_file_it_read(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    shutil.copy(OLD, path)
    with State(path) as state:
        book = BalanceBook(state)
        assert book.covers(OFX_ACCOUNT, "2026-10") and book.accounts_from([Path(OFX)]) == {OFX_ACCOUNT}
        assert undo(state, 2, lambda name: None).transactions == 15
        assert [row[1] for row in balance_rows(state)] == [CHASE]  # run 1's file keeps its statement
        assert not book.covers(OFX_ACCOUNT, "2026-10") and book.accounts_from([Path(OFX)]) == set()


def test_after_undo_the_missing_month_warning_is_what_it_was_before_the_run(tmp_path: Path) -> None:
    # Twenty purchases, 2 to 21 October: the statement spans the 15th, so it alone covers October.
    write_chase(tmp_path / "chase" / "oct.csv", month_lines("2026-10", 1, count=20))
    source = SourceSettings(path=str(tmp_path / "chase" / "*.csv"), account="Chase checking")
    groups = [(source, statement_files(source.files()))]
    with State(tmp_path / "state.sqlite") as state:
        before = [g.message for g in month_gaps(groups, BalanceBook(state), "2026-10")]
        assert before == [
            "account Chase checking: no statement covers 2026-10. Download that month's export from the bank and "
            "import it (or drop it into the inbox)."
        ]
        report = run_sources(
            Config(sources=(source,)), load_rules([ROOT / "rules"]), state, RunSettings(), QUIET, dt.date(2026, 11, 3)
        )
        assert (report.exit_code, report.gaps) == (0, [])
        assert BalanceBook(state).state.statement_spans("Chase checking", dt.date(2026, 10, 15))
        undo(state, runs(state)[0].id or 0, lambda name: None)
        assert [g.message for g in month_gaps(groups, BalanceBook(state), "2026-10")] == before
        assert balance_rows(state) == []
