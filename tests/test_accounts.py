"""One real account, one identity: the same statement is never stored twice under two names.

Each test reproduces a finding of the issue that brought account identities: the same Chase file
imported under three names, two banks' detected CSVs sharing the account `csv`, identifiers
in the files ignored, renames that re-imported everything, and a state written before.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.state_location import Location
from importer.core.accounts import AccountBook, AccountSpec, is_iban, normalise_identifier
from importer.parsers import ParseOptions, parse_file
from importer.store.locate import open_store
from tests.golden import ROOT
from tests.pgserver import cli_arg


@pytest.fixture
def state_path(any_state: Location) -> Location:
    """Each test here runs on SQLite and on PostgreSQL (tests/conftest.py `any_state`)."""
    return any_state


CHASE = "samples/csv/chase/chase-checking-2026-10.csv"
OFX = "samples/ofx/checking-2026-10.ofx"


def run(runner: CliRunner, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(main, ["run", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def stored(state_path: Path) -> list[tuple[str, str]]:
    with open_store(state_path) as state:
        return [(t.account, t.external_id or "") for t in state.stored_transactions()]


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "importer.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_same_chase_file_under_three_names_is_stored_once(
    runner: CliRunner, state_path: Path, tmp_path: Path
) -> None:
    code, first = run(runner, CHASE, "--account", "Chase checking", "--state", cli_arg(state_path))
    assert (code, first["totals"]["new"]) == (0, 12)
    code, second = run(runner, CHASE, "--account", "Chase", "--state", cli_arg(state_path))
    assert code == 1 and second["totals"]["new"] == 0
    error = second["files"][0]["error"]
    assert (
        "'Chase checking'" in error
        and "'Chase'" in error
        and "accounts rename" in error
        and "--as-new-account" in error
    )
    sourced = config(
        tmp_path, f"sources:\n  - path: {ROOT / 'samples/csv/chase'}/chase-checking*.csv\n    account: My Chase\n"
    )
    code, _third = run(runner, "--config", sourced, "--state", cli_arg(state_path))
    assert len(stored(state_path)) == 12
    assert {account for account, _ in stored(state_path)} == {"Chase checking"}


def test_rename_changes_no_id_and_reimports_nothing(runner: CliRunner, state_path: Path) -> None:
    run(runner, CHASE, "--account", "Chase checking", "--state", cli_arg(state_path))
    ids_before = sorted(i for _, i in stored(state_path))
    result = runner.invoke(main, ["accounts", "rename", "Chase checking", "Chase", "--state", cli_arg(state_path)])
    assert result.exit_code == 0, result.output
    assert "12 stored transactions" in result.output
    code, again = run(runner, CHASE, "--account", "Chase", "--state", cli_arg(state_path))
    assert (code, again["totals"]["new"], again["totals"]["duplicate"]) == (0, 0, 12)
    assert sorted(i for _, i in stored(state_path)) == ids_before
    assert {a for a, _ in stored(state_path)} == {"Chase"}


def test_as_new_account_imports_a_file_seen_under_another_name(runner: CliRunner, state_path: Path) -> None:
    run(runner, CHASE, "--account", "Chase checking", "--state", cli_arg(state_path))
    code, report = run(runner, CHASE, "--account", "Chase savings", "--as-new-account", "--state", cli_arg(state_path))
    assert (code, report["totals"]["new"]) == (0, 12)
    assert len(stored(state_path)) == 24


def test_an_overlapping_export_under_another_name_is_held(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    # Not the same bytes (one row less, another file name), but 11 of its 12 rows are stored already.
    lines = (ROOT / CHASE).read_text(encoding="utf-8").splitlines(keepends=True)
    shorter = tmp_path / "chase-export.csv"
    shorter.write_text("".join(lines[:-1]), encoding="utf-8")
    run(runner, CHASE, "--account", "Chase checking", "--state", cli_arg(state_path))
    code, report = run(runner, str(shorter), "--account", "Checking at Chase", "--state", cli_arg(state_path))
    assert code == 1 and "11 of its 11 rows are already stored under 'Chase checking'" in report["files"][0]["error"]


def test_a_file_without_an_identifier_needs_an_account(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    empty = config(tmp_path, "{}\n")
    run(runner, OFX, "--config", empty, "--state", cli_arg(state_path))
    detected = tmp_path / "export.csv"
    detected.write_text("Date,Description,Amount\n2026-10-01,COFFEE SHOP,-3.50\n2026-10-02,SALARY,1000.00\n")
    code, report = run(runner, str(detected), "--config", empty, "--currency", "USD", "--state", cli_arg(state_path))
    assert code == 1
    error = report["files"][0]["error"]
    assert "needs one: pass --account NAME" in error and "Known accounts: 021000021:000123456789" in error
    assert all(account != "csv" for account, _ in stored(state_path))


def test_two_banks_detected_csvs_never_share_an_account(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text("Date,Description,Amount\n2026-10-01,COFFEE SHOP,-3.50\n2026-10-03,RENT,-900.00\n")
    two.write_text("Date,Amount,Description\n2026-10-01,-3.50,COFFEE SHOP\n2026-10-03,-900.00,RENT\n")
    assert run(runner, str(one), "--currency", "EUR", "--account", "Bank one", "--state", cli_arg(state_path))[0] == 0
    code, report = run(runner, str(two), "--currency", "EUR", "--account", "Bank two", "--state", cli_arg(state_path))
    # The same rows under a new, undeclared name: held, not merged into "Bank one" and not doubled.
    assert code == 1 and "'Bank one'" in report["files"][0]["error"]
    assert {a for a, _ in stored(state_path)} == {"Bank one"}
    # Declared as two accounts, they are two, even with identical rows.
    declared = config(tmp_path, "accounts:\n  Bank one: {}\n  Bank two: {}\n")
    code, report = run(
        runner,
        str(two),
        "--config",
        declared,
        "--currency",
        "EUR",
        "--account",
        "Bank two",
        "--state",
        cli_arg(state_path),
    )
    assert (code, report["totals"]["new"]) == (0, 2)
    assert sorted({a for a, _ in stored(state_path)}) == ["Bank one", "Bank two"]


def test_an_identifier_in_the_file_is_the_identity(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    # The OFX names its account (BANKID:ACCTID): a name given once becomes an alias of it.
    run(runner, OFX, "--account", "Joint checking", "--state", cli_arg(state_path))
    code, again = run(runner, OFX, "--state", cli_arg(state_path))
    assert (code, again["totals"]["new"], again["totals"]["duplicate"]) == (0, 0, 15)
    assert {a for a, _ in stored(state_path)} == {"Joint checking"}
    code, other = run(runner, OFX, "--account", "Savings", "--state", cli_arg(state_path))
    assert code == 1 and "already known as 'Joint checking'" in other["files"][0]["error"]


def test_config_maps_identifiers_written_any_way_to_a_name(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    declared = config(
        tmp_path, "accounts:\n  Giro:\n    identifiers: [de89 3704 0044 0532 0130 00]\n    currency: EUR\n"
    )
    code, report = run(runner, "samples/camt/", "--config", declared, "--state", cli_arg(state_path))
    assert (code, report["totals"]["new"]) == (0, 4)
    assert {a for a, _ in stored(state_path)} == {"Giro"}
    listing = runner.invoke(main, ["accounts", "list", "--json", "--config", declared, "--state", cli_arg(state_path)])
    [giro] = json.loads(listing.stdout)
    assert giro["identifiers"] == ["DE89 3704 0044 0532 0130 00"]
    assert (giro["currency"], giro["count"], giro["first"], giro["id_recipe"]) == ("EUR", 4, "2026-10-01", "v2")


def test_external_ids_come_from_the_identity_not_the_name() -> None:
    [statement] = parse_file(ROOT / OFX, ParseOptions())
    a = AccountBook().resolve(statement, "Joint", None)
    b = AccountBook().resolve(statement, "Household", None)
    assert a.key == b.key == "021000021:000123456789" and a.name != b.name


def test_identifiers_are_normalised_and_ibans_checked() -> None:
    assert normalise_identifier(" de89 3704-0044.0532/0130 00 ") == "DE89370400440532013000"
    assert is_iban("DE89370400440532013000") and not is_iban("DE89370400440532013001")


def test_a_state_written_before_identities_upgrades_without_reimporting(runner: CliRunner, tmp_path: Path) -> None:
    # tests/fixtures/state-schema3.db: written by the importer before accounts (schema 3), from
    # `importer run samples/ofx samples/mt940 samples/camt samples/csv/chase/chase-checking-2026-10.csv`,
    # when a CSV's account was its profile name and an OFX's its BANKID:ACCTID.
    state_path = tmp_path / "old.db"
    shutil.copy(ROOT / "tests/fixtures/state-schema3.db", state_path)
    ids_before = sorted(i for _, i in stored(state_path))
    assert len(ids_before) == 43 and all(i.startswith("v1:") for i in ids_before)
    code, report = run(runner, "samples/ofx", "samples/mt940", "samples/camt", "--state", cli_arg(state_path))
    assert (code, report["totals"]["new"], report["totals"]["duplicate"]) == (0, 0, 31)
    # The CSV came in under its profile's name, which nobody chose: the name given now replaces it.
    code, report = run(runner, CHASE, "--account", "Chase checking", "--state", cli_arg(state_path))
    assert (code, report["totals"]["new"], report["totals"]["duplicate"]) == (0, 0, 12)
    assert {a for a, i in stored(state_path) if i in ids_before} >= {"Chase checking"}
    assert "chase-checking" not in {a for a, _ in stored(state_path)}
    # A second new name for it is a name, not an account: held, with the way to settle it.
    code, held = run(runner, CHASE, "--account", "Chase", "--state", cli_arg(state_path))
    assert code == 1 and "accounts rename 'Chase checking' Chase" in held["files"][0]["error"]
    assert sorted(i for _, i in stored(state_path)) == ids_before
    with open_store(state_path) as state:
        assert {a.recipe for a in state.accounts()} == {"v1"}


def test_a_name_given_again_after_a_rename_is_a_new_account_with_its_own_ids() -> None:
    statement = parse_file(ROOT / CHASE, ParseOptions(account="Chase"))[0]
    book = AccountBook()
    first = book.resolve(statement, "Chase", None)
    book.known, book.pending = [type(first)(first.key, "Chase checking")], {}
    second = book.resolve(statement, "Chase", None)
    assert second.key != first.key


def test_a_profile_mapped_in_the_config_names_the_account() -> None:
    [statement] = parse_file(ROOT / CHASE, ParseOptions())
    book = AccountBook(specs=[AccountSpec("Chase checking", profiles=("chase-checking",))])
    assert book.resolve(statement, None, statement.profile).name == "Chase checking"


def test_the_readme_flow_samples_then_a_chosen_name_stores_every_row_once(
    runner: CliRunner, state_path: Path, tmp_path: Path
) -> None:
    # The README's first command (the repository's importer.yaml names the samples' accounts) ...
    code, first = run(runner, "samples/", "--state", cli_arg(state_path))
    assert code == 0
    # ... then `importer init` for the Chase export under the user's own name.
    mine = config(
        tmp_path, f"sources:\n  - path: {ROOT / 'samples/csv/chase'}/chase-checking*.csv\n    account: My Chase\n"
    )
    code, second = run(runner, "--config", mine, "--state", cli_arg(state_path))
    [routine] = second["runs"]
    assert routine["totals"]["new"] == 0 and "held" in routine["files"][0]["error"]
    with open_store(state_path) as state:
        rows = state.stored_transactions()
    assert len(rows) == first["totals"]["new"]
    assert sum(1 for t in rows if t.source.path.endswith("chase-checking-2026-10.csv")) == 12


def test_an_account_declared_by_profile_learns_the_identifier_its_files_start_to_carry() -> None:
    # Stored before the CSV reader found the IBAN in its own-account column: the same account,
    # with the same key (so the same ids), learns the IBAN instead of a second account appearing.
    [statement] = parse_file(ROOT / "samples/csv/sparkasse/sparkasse-giro-2026-10.csv", ParseOptions())
    assert statement.bank_account_id and statement.profile == "sparkasse-csv-camt"
    before = AccountBook(specs=[AccountSpec("Sparkasse giro", profiles=("sparkasse-csv-camt",))]).named(
        "Sparkasse giro"
    )
    book = AccountBook(known=[before], specs=[AccountSpec("Sparkasse giro", profiles=("sparkasse-csv-camt",))])
    after = book.resolve(statement, None, statement.profile)
    assert (after.key, after.name) == (before.key, "Sparkasse giro")
    assert after.identifiers == (normalise_identifier(statement.bank_account_id),)
