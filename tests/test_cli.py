"""The command line as a user meets it: summaries, repeat runs, bad files, exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from importer.cli import COMMANDS, load, main
from importer.reports.output import RECORD_KEYS
from importer.store.sqlite import State
from tests.golden import GOLDEN

SAMPLE_OFX = "samples/ofx/checking-2026-10.ofx"
# Every golden line is one sample transaction; counting them keeps these tests true as samples are added.
SAMPLE_TRANSACTIONS = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in GOLDEN.rglob("*.jsonl"))
# The three samples the example rules were written for (other samples cover parsers only).
RULED_CSV = ("samples/csv/chase/chase-checking-2026-10.csv", "samples/csv/sparkasse/sparkasse-giro-2026-10.csv")
RULED_SAMPLES = (SAMPLE_OFX, *RULED_CSV)


def run_json(runner: CliRunner, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(main, ["run", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


# The two bunq samples are one account's statement (IBAN NL47BUNQ2025181418) exported in English
# and in Dutch: its 6 transactions are stored once.
BUNQ_TWICE = 6
STORED_SAMPLES = SAMPLE_TRANSACTIONS - BUNQ_TWICE


def test_second_run_over_samples_adds_nothing(runner: CliRunner, state_path: Path) -> None:
    code, first = run_json(runner, "samples/", "--state", str(state_path))
    assert code == 0
    assert first["totals"]["parsed"] == SAMPLE_TRANSACTIONS
    assert (first["totals"]["new"], first["totals"]["duplicate"]) == (STORED_SAMPLES, BUNQ_TWICE)
    code, second = run_json(runner, "samples/", "--state", str(state_path))
    assert code == 0
    assert second["totals"]["new"] == 0
    assert second["totals"]["duplicate"] == SAMPLE_TRANSACTIONS
    with State(state_path) as state:
        assert len(state.stored_transactions("ledger")) == STORED_SAMPLES


def test_samples_are_mostly_categorised_by_the_example_rules(runner: CliRunner, state_path: Path) -> None:
    _, report = run_json(runner, *RULED_SAMPLES, "--state", str(state_path))
    assert report["totals"]["uncategorised"] <= 3


def test_a_bad_file_is_named_and_the_others_still_import(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE_OFX, inbox / "good.ofx")
    (inbox / "broken.csv").write_text(
        "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"
        "DEBIT,10/30/2026,COFFEE,not-a-number,DEBIT_CARD,1.00,,\n"
    )
    code, report = run_json(runner, str(inbox), "--state", str(state_path))
    assert code == 1
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert by_name["good.ofx"]["new"] == 15
    assert "broken.csv, line 2" in by_name["broken.csv"]["error"]
    assert "not-a-number" in by_name["broken.csv"]["error"]
    assert by_name["broken.csv"]["new"] == 0


def test_nothing_from_a_bad_file_is_stored(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "half.csv"
    good_line = "DEBIT,10/30/2026,COFFEE,-1.00,DEBIT_CARD,1.00,,\n"
    bad.write_text(
        "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"
        + good_line * 3
        + "DEBIT,13/45/2026,COFFEE,-1.00,DEBIT_CARD,1.00,,\n"
    )
    code, report = run_json(runner, str(bad), "--state", str(state_path))
    assert code == 1 and "line 5" in report["files"][0]["error"]
    with State(state_path) as state:
        assert state.stored_transactions() == [] and state.stored_transactions("ledger") == []


def test_unknown_file_gets_a_clear_error_without_traceback(runner: CliRunner, tmp_path: Path, state_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    result = runner.invoke(main, ["run", str(odd), "--state", str(state_path)])
    assert result.exit_code == 1
    assert "notes.txt: no parser recognises this file" in result.stdout
    assert "Traceback" not in result.output


def test_bad_rule_file_is_a_configuration_error(runner: CliRunner, tmp_path: Path, state_path: Path) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text("rules:\n  - id: x\n    when: {colour: red}\n")
    result = runner.invoke(main, ["run", SAMPLE_OFX, "--rules", str(rules), "--state", str(state_path)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.stderr and "unknown field 'colour'" in result.stderr


def test_usage_error_exits_2(runner: CliRunner) -> None:
    assert runner.invoke(main, ["run"]).exit_code == 2


def test_dry_run_stores_nothing(runner: CliRunner, state_path: Path) -> None:
    code, report = run_json(runner, SAMPLE_OFX, "--state", str(state_path), "--dry-run")
    assert code == 0 and report["dry_run"] and report["totals"]["new"] == 15
    code, report = run_json(runner, SAMPLE_OFX, "--state", str(state_path))
    assert report["totals"]["new"] == 15


def test_parse_jsonl_is_a_stable_contract(runner: CliRunner) -> None:
    result = runner.invoke(main, ["parse", SAMPLE_OFX, "--format", "jsonl"])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 15
    assert all(tuple(r) == RECORD_KEYS for r in records)
    first = records[0]
    assert first["date"] == "2026-10-01" and first["amount"] == "3250.00" and first["currency"] == "USD"
    assert first["category"] == "Income:Salary" and first["external_id"].startswith("v2:")
    assert first["source"] == SAMPLE_OFX + "#1"


def test_parse_csv_output(runner: CliRunner) -> None:
    result = runner.invoke(main, ["parse", "samples/csv/chase/chase-checking-2026-10.csv", "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("date,amount,currency,description")
    assert len(result.stdout.splitlines()) == 13


def test_every_command_has_help(runner: CliRunner) -> None:
    for name in COMMANDS:
        command = load(name)
        assert command.name == name and command.help, f"`importer {name}` has no help text"
        assert runner.invoke(main, [name, "--help"]).exit_code == 0


def test_the_help_table_is_each_commands_first_sentence() -> None:
    # `importer --help` lists COMMANDS without importing the commands; a docstring edited without
    # the table would show stale help.
    for name, line in COMMANDS.items():
        paragraph = " ".join((load(name).help or "").split("\n\n")[0].split())
        first = re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]
        assert line == first, f"COMMANDS[{name!r}] in importer/cli/__init__.py should read {first!r}"


def test_help_lists_every_command_without_importing_one() -> None:
    code = (
        "import sys; from importer.cli import main\n"
        "try: main(['--help'])\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.endswith('_cmd') or m in ('importer.api', 'pydantic', 'rich')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    listed = [line.split()[0] for line in result.stdout.split("Commands:\n")[1].splitlines()[:-1]]
    assert listed == sorted(COMMANDS) and len(listed) == 14
    assert result.stdout.splitlines()[-1] == "[]"
    assert "run       Parse, categorise and import statement files (or folders of..." in result.stdout


def test_a_run_that_loaded_no_rules_says_so_on_stderr(runner: CliRunner, state_path: Path, tmp_path: Path) -> None:
    empty = tmp_path / "rules"
    empty.mkdir()
    result = runner.invoke(main, ["run", SAMPLE_OFX, "--rules", str(empty), "--state", str(state_path), "--json"])
    assert result.exit_code == 0
    assert result.stderr.startswith(
        f"warning: no rules loaded (looked in {empty}); every transaction stays uncategorised."
    )
    assert json.loads(result.stdout)["totals"]["uncategorised"] == 15
