"""`importer held`: rows held as probable duplicates, listed beside what they resemble, released
(sent once, through the journal) or dropped (never imported, never held again).

The files are the Chase CSV and OFX exports of tests/statements.py: the OFX of a month whose lines
match the CSV's in account, amount and date but not in description are held.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.state_location import Location
from importer.store.locate import open_store
from tests.loopback import LoopbackServer, registered
from tests.pgserver import cli_arg
from tests.statements import Line, chase_csv, day, ofx


@pytest.fixture
def state_path(any_state: Location) -> Location:
    """Each test here runs on SQLite and on PostgreSQL (tests/conftest.py `any_state`)."""
    return any_state


ACCOUNT = "Chase checking"


@pytest.fixture
def exports(tmp_path: Path) -> tuple[Path, Path]:
    """October as CSV, then as OFX: payroll matches (other format), two lines only resemble."""
    csv_file = chase_csv(
        tmp_path / "oct.csv",
        [
            Line(day(1), "2800.00", "GUSTO PAYROLL"),
            Line(day(8), "-54.12", "TARGET 00012345 DALY CITY"),
            Line(day(12), "-23.40", "SAFEWAY 1234"),
        ],
    )
    ofx_file = ofx(
        tmp_path / "oct.ofx",
        [
            Line(day(1), "2800.00", "GUSTO PAYROLL PPD"),
            Line(day(9), "-54.12", "CHEVRON 0091234 OAKLAND"),
            Line(day(13), "-23.40", "UBER TRIP HELP.UBER.COM"),
        ],
    )
    return csv_file, ofx_file


def cli(state_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--state", cli_arg(state_path)])
    return result.exit_code, result.output


def run(state_path: Path, *args: str) -> tuple[int, str]:
    return cli(state_path, "run", *args, "--account", ACCOUNT, "--no-balance-check")


def run_json(state_path: Path, *args: str) -> dict[str, object]:
    code, out = run(state_path, *args, "--json")
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def reasons(report: dict[str, object]) -> Counter[str]:
    return Counter(report["duplicates_by_reason"])  # type: ignore[arg-type]


def ledger(state_path: Path) -> list[tuple[str, str, str]]:
    with open_store(state_path) as state:
        return state.db.execute("SELECT date, amount, description FROM ledger ORDER BY date").fetchall()


def held_twice(state_path: Path, exports: tuple[Path, Path]) -> None:
    run(state_path, str(exports[0]))
    run(state_path, str(exports[1]))


def test_a_run_counts_held_rows_per_file_and_held_list_shows_each_beside_its_match(
    state_path: Path, exports: tuple[Path, Path]
) -> None:
    csv_file, ofx_file = exports
    run(state_path, str(csv_file))
    code, out = run(state_path, str(ofx_file))
    assert code == 0
    assert out.splitlines()[-2:] == [
        "not sent: 1 other-format, 2 probable-duplicate",
        f"{ofx_file}: 2 held as probable duplicates: see `importer held list`",
    ]
    code, out = cli(state_path, "held", "list")
    assert code == 0
    assert out.splitlines() == [
        "2 row(s) held as probable duplicates; `importer held release NUMBER...` sends, `importer held drop NUMBER...` never imports.",
        "",
        str(ofx_file),
        f"     1  2026-10-09      -54.12 USD  CHEVRON 0091234 OAKLAND  ({ofx_file}#2)",
        f"  like  2026-10-08      -54.12 USD  TARGET 00012345 DALY CITY  ({csv_file}:3)",
        f"     2  2026-10-13      -23.40 USD  UBER TRIP HELP.UBER.COM  ({ofx_file}#3)",
        f"  like  2026-10-12      -23.40 USD  SAFEWAY 1234  ({csv_file}:2)",
    ]
    code, out = cli(state_path, "held", "list", "--file", str(csv_file), "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out = cli(state_path, "held", "list", "--file", str(ofx_file), "--json")
    rows = json.loads(out)
    assert [(r["number"], r["held"]["amount"], r["resembles"]["description"]) for r in rows] == [
        (1, "-54.12", "TARGET 00012345 DALY CITY"),
        (2, "-23.40", "SAFEWAY 1234"),
    ]


def test_a_row_held_again_keeps_its_number(state_path: Path, exports: tuple[Path, Path]) -> None:
    held_twice(state_path, exports)
    assert reasons(run_json(state_path, str(exports[1]))) == {"known-alias": 1, "probable-duplicate": 2}
    _code, out = cli(state_path, "held", "list", "--json")
    assert [r["number"] for r in json.loads(out)] == [1, 2]


def test_a_dry_run_leaves_no_gap_in_the_numbers(state_path: Path, exports: tuple[Path, Path]) -> None:
    """PostgreSQL's sequences do not roll back: a dry run must not spend the numbers users type."""
    run(state_path, str(exports[0]))
    code, out = run(state_path, str(exports[1]), "--dry-run")
    assert (
        code == 0
        and out.splitlines()[-1] == f"{exports[1]}: 2 would be held as probable duplicates: see `importer held list`"
    )
    assert json.loads(cli(state_path, "held", "list", "--json")[1]) == []  # the dry run held nothing
    assert reasons(run_json(state_path, str(exports[1]))) == {"other-format": 1, "probable-duplicate": 2}
    _code, out = cli(state_path, "held", "list", "--json")
    assert [(r["number"], r["held"]["description"]) for r in json.loads(out)] == [
        (1, "CHEVRON 0091234 OAKLAND"),
        (2, "UBER TRIP HELP.UBER.COM"),
    ]


def test_release_sends_a_row_once_and_later_runs_skip_it(state_path: Path, exports: tuple[Path, Path]) -> None:
    held_twice(state_path, exports)
    code, out = cli(state_path, "held", "release", "1")
    assert (code, out) == (0, "Run 3: released 1 row(s); 1 sent.\n")
    assert ("2026-10-09", "-54.12", "CHEVRON 0091234 OAKLAND") in ledger(state_path)
    assert len(ledger(state_path)) == 4
    again = run_json(state_path, str(exports[1]))
    assert reasons(again) == {"already-imported": 1, "known-alias": 1, "probable-duplicate": 1}
    assert run_json(state_path, str(exports[1]), "--force-duplicates")["totals"]["new"] == 1  # type: ignore[index]
    assert len(ledger(state_path)) == 5  # UBER forced; CHEVRON not sent twice
    code, out = cli(state_path, "held", "release", "1")
    assert (code, out) == (
        2,
        "error: no held row numbered 1; `importer held list` shows the held rows and their numbers.\n",
    )


def test_drop_by_file_is_never_imported_nor_held_again_even_forced(
    state_path: Path, exports: tuple[Path, Path]
) -> None:
    held_twice(state_path, exports)
    code, out = cli(state_path, "held", "drop", "--file", str(exports[1]))
    assert (code, out) == (0, "Dropped 2 row(s): 1, 2; they will not be imported.\n")
    assert cli(state_path, "held", "list") == (0, "No rows are held as probable duplicates.\n")
    forced = run_json(state_path, str(exports[1]), "--force-duplicates")
    assert reasons(forced) == {"dropped": 2, "known-alias": 1}
    assert len(ledger(state_path)) == 3
    code, out = cli(state_path, "held", "list", "--dropped", "--json")
    assert [r["held"]["description"] for r in json.loads(out)] == ["CHEVRON 0091234 OAKLAND", "UBER TRIP HELP.UBER.COM"]
    assert cli(state_path, "held", "release", "2")[0] == 0  # a dropped row can still be released
    assert ("2026-10-13", "-23.40", "UBER TRIP HELP.UBER.COM") in ledger(state_path)


def test_undoing_a_release_holds_the_rows_again(state_path: Path, exports: tuple[Path, Path]) -> None:
    held_twice(state_path, exports)
    cli(state_path, "held", "release", "--file", str(exports[1]))
    assert len(ledger(state_path)) == 5
    code, out = cli(state_path, "history")
    assert out.splitlines()[1].split()[:2] == ["3", "release"]
    # Sent by run 3: the two rows run 2 stored and held, landed later (their own index); by run
    # 1 the three it stored and landed itself (the run index).
    code, out = cli(state_path, "history", "--json")
    assert [(r["id"], r["stored"], r["sent"]) for r in json.loads(out)] == [(3, 0, 2), (2, 2, 0), (1, 3, 3)]
    code, out = cli(state_path, "undo", "3", "--yes")
    assert (code, out) == (0, "Undid run 3: forgot 0 transaction(s); removed 2 from local.\n")
    assert len(ledger(state_path)) == 3
    code, out = cli(state_path, "held", "list", "--json")
    assert [r["number"] for r in json.loads(out)] == [1, 2]
    code, out = cli(state_path, "history", "--json")
    assert [(r["id"], r["status"], r["sent"]) for r in json.loads(out)][:2] == [(3, "undone", 0), (2, "ok", 0)]


def test_release_lands_each_row_once_in_a_remote_target(
    state_path: Path, exports: tuple[Path, Path], tmp_path: Path
) -> None:
    with LoopbackServer() as server, registered():
        config = tmp_path / "importer.yaml"
        config.write_text(f"default_target: box\ntargets:\n  box:\n    type: loopback\n    base_url: {server.url}\n")
        base = ("--config", str(config))
        held_twice(state_path, exports)
        run(state_path, str(exports[0]), *base)  # the CSV's three records reach the box too
        assert len(server.service.markers()) == 3
        assert cli(state_path, "held", "release", "2", *base) == (0, "Run 4: released 1 row(s); 1 sent.\n")
        run(state_path, str(exports[1]), *base, "--force-duplicates")  # sends CHEVRON only, not UBER again
        with open_store(state_path) as state:
            uber = state.db.execute("SELECT external_id FROM transactions WHERE description LIKE 'UBER%'").fetchone()[0]
        markers = server.service.markers()
    assert len(markers) == 5 and markers.count(uber) == 1


def test_held_wants_numbers_or_a_file(state_path: Path) -> None:
    code, out = cli(state_path, "held", "drop")
    assert (
        code == 2
        and "Error: name the held rows by NUMBER (see `importer held list`) or by --file PATH, which ones." in out
    )
    code, out = cli(state_path, "held", "release", "1", "--file", "x.ofx")
    assert code == 2 and out.splitlines()[-1].endswith("or by --file PATH, not both.")
