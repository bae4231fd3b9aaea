"""Layered dedupe end to end: real files through `pipeline.run` into the local ledger.

Each test writes the exports a bank would hand out (tests/statements.py), imports them in one or
more runs, and checks what the ledger holds and why each row not sent was skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.settings import TargetSettings
from importer.config.state_location import Location
from importer.core.accounts import AccountSpec
from importer.dedupe.layers import MatchSettings
from importer.parsers import ParseOptions
from importer.reports.summary import RunReport
from importer.rules import RuleSet
from importer.run.pipeline import RunSettings, run
from importer.store.locate import open_store
from tests.loopback import LoopbackServer, registered
from tests.pgserver import cli_arg
from tests.statements import Line, chase_csv, day, ofx


@pytest.fixture
def state_path(any_state: Location) -> Location:
    """Each test here runs on SQLite and on PostgreSQL (tests/conftest.py `any_state`)."""
    return any_state


ACCOUNT = "Chase checking"


def import_files(state_path: Path, *files: Path, account: str | None = ACCOUNT, force: bool = False) -> RunReport:
    settings = RunSettings(
        parse=ParseOptions(account=account, check_balances=False),
        match=MatchSettings(force_duplicates=force),
        accounts=(AccountSpec(ACCOUNT, profiles=("chase-checking",)),),  # whose the Chase exports are
    )
    with open_store(state_path) as state:
        return run(list(files), RuleSet(()), state, settings)


def ledger(state_path: Path) -> list[tuple[str, str, str, str]]:
    """(date, amount, description, account) of every ledger row, sorted."""
    with open_store(state_path) as state:
        rows = state.db.execute("SELECT date, amount, description, account FROM ledger ORDER BY 1, 2, 3")
        return rows.fetchall()


def reasons(report: RunReport) -> Counter[str]:
    return Counter(row["reason"] for f in report.files for row in f.duplicates)


def test_overlapping_exports_add_only_the_days_not_seen(state_path: Path, tmp_path: Path) -> None:
    shop = [Line(day(n), f"-{n}.10", f"SHOP {n}") for n in range(1, 21)]
    first = chase_csv(tmp_path / "sept-oct.csv", shop[:12])
    second = chase_csv(tmp_path / "oct.csv", shop[6:])  # days 7-12 in both
    assert import_files(state_path, first).totals()["new"] == 12
    report = import_files(state_path, second)
    assert report.totals()["new"] == 8
    assert reasons(report) == {"already-imported": 6}
    assert len(ledger(state_path)) == 20


def test_identical_same_day_lines_are_all_kept_and_a_later_one_is_added(state_path: Path, tmp_path: Path) -> None:
    coffee = Line(day(3), "-4.50", "BLUE BOTTLE COFFEE")
    import_files(state_path, chase_csv(tmp_path / "a.csv", [coffee, coffee]))
    report = import_files(state_path, chase_csv(tmp_path / "b.csv", [coffee, coffee, coffee]))
    assert (report.totals()["new"], reasons(report)) == (1, {"already-imported": 2})
    assert ledger(state_path).count(("2026-10-03", "-4.50", "BLUE BOTTLE COFFEE", ACCOUNT)) == 3


def test_re_export_with_other_spacing_and_case_adds_nothing(state_path: Path, tmp_path: Path) -> None:
    import_files(state_path, chase_csv(tmp_path / "a.csv", [Line(day(5), "-9.99", "Netflix.com  Los Gatos")]))
    report = import_files(state_path, chase_csv(tmp_path / "b.csv", [Line(day(5), "-9.99", "NETFLIX.COM LOS GATOS ")]))
    assert (report.totals()["new"], reasons(report)) == (0, {"already-imported": 1})


def test_a_reused_fitid_does_not_hide_another_transaction(state_path: Path, tmp_path: Path) -> None:
    # This bank numbers FITIDs per statement: October's "1" and November's "1" are different lines.
    october = ofx(
        tmp_path / "oct.ofx", [Line(day(2), "-20.00", "GAS", fitid="1"), Line(day(9), "-5.00", "FEE", fitid="2")]
    )
    november = ofx(
        tmp_path / "nov.ofx",
        [Line(day(2, 11), "-31.00", "BOOKS", fitid="1"), Line(day(9, 11), "-5.00", "FEE", fitid="2")],
    )
    same_day_fees = ofx(
        tmp_path / "fees.ofx", [Line(day(20), "-1.00", "FEE", fitid="F"), Line(day(20), "-1.00", "FEE", fitid="F")]
    )
    import_files(state_path, october)
    assert import_files(state_path, november).totals()["new"] == 2
    assert import_files(state_path, same_day_fees).totals()["new"] == 2
    assert import_files(state_path, october, november, same_day_fees).totals()["new"] == 0
    assert len(ledger(state_path)) == 6


def test_csv_then_ofx_of_one_month_lands_once(state_path: Path, tmp_path: Path) -> None:
    coffee = Line(day(3), "-4.50", "BLUE BOTTLE COFFEE")
    csv_lines = [
        Line(day(1), "2800.00", "GUSTO PAYROLL PPD ID: 9876543210"),
        coffee,
        coffee,
        Line(day(8), "-54.12", "TARGET 00012345 DALY CITY CA"),
    ]
    ofx_lines = [
        Line(day(1), "2800.00", "GUSTO PAYROLL"),
        Line(day(3), "-4.50", "BLUE BOTTLE COFFEE"),
        Line(day(3), "-4.50", "BLUE BOTTLE COFFEE"),
        Line(day(9), "-54.12", "TARGET 00012345"),
        Line(day(30), "-11.99", "SPOTIFY USA"),
    ]
    import_files(state_path, chase_csv(tmp_path / "oct.csv", csv_lines))
    report = import_files(state_path, ofx(tmp_path / "oct.ofx", ofx_lines))
    assert reasons(report) == {"other-format": 4}
    assert report.totals()["new"] == 1  # only SPOTIFY, which the CSV export did not hold yet
    assert len(ledger(state_path)) == 5
    again = import_files(state_path, tmp_path / "oct.ofx")
    assert (again.totals()["new"], reasons(again)) == (0, {"known-alias": 4, "already-imported": 1})


def test_a_probable_duplicate_is_held_for_review_until_forced(state_path: Path, tmp_path: Path) -> None:
    import_files(state_path, chase_csv(tmp_path / "oct.csv", [Line(day(8), "-54.12", "TARGET 00012345 DALY CITY")]))
    suspicious = ofx(tmp_path / "oct.ofx", [Line(day(9), "-54.12", "CHEVRON 0091234 OAKLAND")])
    report = import_files(state_path, suspicious)
    held = report.files[0].duplicates
    assert [(r["reason"], r["action"], r["matched_source"]) for r in held] == [
        ("probable-duplicate", "hold", str(tmp_path / "oct.csv") + ":2")
    ]
    assert report.files[0].held == 1 and len(ledger(state_path)) == 1
    again = import_files(state_path, suspicious).files[0]  # still waiting for the user
    assert (again.held, again.duplicates) == (1, held)
    assert import_files(state_path, suspicious, force=True).totals()["new"] == 1
    assert len(ledger(state_path)) == 2


def test_pending_then_posted_updates_the_record_instead_of_adding_one(state_path: Path, tmp_path: Path) -> None:
    rent = Line(day(1), "-1450.00", "OAKWOOD APARTMENTS RENT")
    early = chase_csv(tmp_path / "early.csv", [rent, Line(day(5), "-38.99", "AMAZON MKTPL PENDING")])
    late = chase_csv(tmp_path / "late.csv", [rent, Line(day(7), "-38.99", "AMAZON MKTPL*2K4LM0R12 Amzn.com/bill")])
    import_files(state_path, early)
    report = import_files(state_path, late)
    assert (report.totals()["new"], reasons(report)) == (0, {"already-imported": 1, "pending-posted": 1})
    assert ledger(state_path) == [
        ("2026-10-01", "-1450.00", "OAKWOOD APARTMENTS RENT", ACCOUNT),
        ("2026-10-07", "-38.99", "AMAZON MKTPL*2K4LM0R12 Amzn.com/bill", ACCOUNT),
    ]
    old_again = import_files(state_path, early)  # the stale export brings nothing back
    assert (old_again.totals()["new"], reasons(old_again)) == (0, {"already-imported": 1, "known-alias": 1})


def test_a_line_that_merely_resembles_one_of_another_month_is_new(state_path: Path, tmp_path: Path) -> None:
    # Same shop, same amount, one day apart, in two exports of the same format that do not
    # overlap: two real purchases, not a duplicate.
    import_files(state_path, chase_csv(tmp_path / "oct.csv", [Line(day(31), "-4.50", "BLUE BOTTLE COFFEE")]))
    report = import_files(
        state_path, chase_csv(tmp_path / "nov.csv", [Line(day(1, 11), "-4.50", "BLUE BOTTLE COFFEE")])
    )
    assert (report.totals()["new"], reasons(report)) == (1, {})


def test_both_legs_of_a_transfer_become_one_transfer(state_path: Path, tmp_path: Path) -> None:
    checking = chase_csv(
        tmp_path / "checking.csv",
        [Line(day(14), "-200.00", "ONLINE TRANSFER TO SAVINGS 0555"), Line(day(14), "-50.00", "DINNER")],
    )
    savings = ofx(
        tmp_path / "savings.ofx",
        [Line(day(15), "200.00", "TRANSFER FROM CHECKING"), Line(day(14), "50.00", "REFUND")],
        account="0555",
    )
    import_files(state_path, checking)
    report = import_files(state_path, savings, account="Savings")  # the other leg, a day later, next run
    assert report.totals()["new"] == 2 and report.files[0].transfers == 1
    with open_store(state_path) as state:
        legs = state.db.execute("SELECT account, amount, transfer_to, pair_id FROM ledger WHERE pair_id IS NOT NULL")
        legs_by_account = {row[0]: row[1:] for row in legs}
        book = state.db.execute("SELECT kind, account, amount, transfer_to FROM ledger_book ORDER BY amount").fetchall()
    assert {a: (amount, to) for a, (amount, to, _) in legs_by_account.items()} == {
        ACCOUNT: ("-200.00", "Savings"),
        "Savings": ("200.00", ACCOUNT),
    }
    assert len({pid for _, _, pid in legs_by_account.values()}) == 1
    # The book shows the transfer once; dinner and the unrelated refund stay an expense and an income.
    assert book == [
        ("transfer", ACCOUNT, "-200.00", "Savings"),
        ("entry", ACCOUNT, "-50.00", None),
        ("entry", "Savings", "50.00", None),
    ]


def test_transfer_legs_in_one_run_are_paired_before_upload(state_path: Path, tmp_path: Path) -> None:
    checking = chase_csv(tmp_path / "checking.csv", [Line(day(14), "-200.00", "ONLINE TRANSFER TO SAVINGS")])
    savings = ofx(tmp_path / "savings.ofx", [Line(day(14), "200.00", "TRANSFER FROM CHECKING")], account="0555")
    import_files(state_path, checking, savings, account=None)
    with open_store(state_path) as state:
        landed = state.stored_transactions("ledger")
    assert {t.account: t.transfer_to for t in landed} == {ACCOUNT: "021000021:0555", "021000021:0555": ACCOUNT}
    assert sum(t.amount for t in landed) == Decimal("0")


def test_a_target_that_never_got_the_csv_gets_each_transaction_once_from_the_ofx(
    state_path: Path, tmp_path: Path
) -> None:
    csv_file = chase_csv(
        tmp_path / "oct.csv", [Line(day(1), "2800.00", "GUSTO PAYROLL"), Line(day(3), "-4.50", "COFFEE")]
    )
    ofx_file = ofx(
        tmp_path / "oct.ofx", [Line(day(1), "2800.00", "GUSTO PAYROLL PPD"), Line(day(3), "-4.50", "COFFEE")]
    )
    import_files(state_path, csv_file)  # into the local ledger
    with LoopbackServer() as server, registered():
        box = RunSettings(
            target="box",
            target_settings=TargetSettings(type="loopback", base_url=server.url),
            parse=ParseOptions(account=ACCOUNT, check_balances=False),
        )
        with open_store(state_path) as state:
            report = run([ofx_file, csv_file], RuleSet(()), state, box)
            stored = sorted(t.external_id or "" for t in state.stored_transactions())
        markers = sorted(server.service.markers())
    assert reasons(report) == {"other-format": 2, "already-imported": 2}
    assert markers == stored  # the CSV's two records, once each


def test_the_text_report_counts_rows_by_reason_and_held_rows_per_file(state_path: Path, tmp_path: Path) -> None:
    csv_file = chase_csv(
        tmp_path / "oct.csv", [Line(day(1), "2800.00", "GUSTO PAYROLL"), Line(day(8), "-54.12", "TARGET 0001")]
    )
    ofx_file = ofx(
        tmp_path / "oct.ofx", [Line(day(1), "2800.00", "GUSTO PAYROLL PPD"), Line(day(9), "-54.12", "CHEVRON 77")]
    )
    base = ["--state", cli_arg(state_path), "--account", ACCOUNT, "--no-balance-check"]
    CliRunner().invoke(main, ["run", str(csv_file), *base])
    result = CliRunner().invoke(main, ["run", str(ofx_file), str(csv_file), *base])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-2:] == [
        "not sent: 2 already-imported, 1 other-format, 1 probable-duplicate",
        f"{ofx_file}: 1 held as probable duplicates: see `importer held list`",
    ]
    result = CliRunner().invoke(main, ["run", str(ofx_file), *base, "--json"])
    rows = json.loads(result.stdout)["files"][0]["duplicates"]
    assert [(r["source"], r["reason"], r["action"]) for r in rows] == [
        (f"{ofx_file}#1", "known-alias", "skip"),
        (f"{ofx_file}#2", "probable-duplicate", "hold"),
    ]
