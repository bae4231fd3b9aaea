"""The monthly routine: `importer run --config` with no paths, its summary, gaps, lock and log."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.settings import Config, SourceSettings, parse_config
from importer.parsers import REGISTRY, ParseOptions, parse_file
from importer.reports.gaps import balances
from importer.rules import load_rules
from importer.run.lock import run_lock
from importer.run.logs import RedactSecrets, close_logging, setup_logging
from importer.run.pipeline import RunSettings
from importer.run.routine import run_sources
from importer.store.sqlite import State
from tests.inbox_statements import month_lines, write_chase
from tests.test_watch import QUIET

KNOWN_FORMATS = ", ".join(sorted(REGISTRY))

ROOT = Path.cwd()


def write_config(folder: Path, body: str) -> Path:
    path = folder / "importer.yaml"
    path.write_text(f"state: state.sqlite\nrules: [{ROOT / 'rules'}]\n" + body, encoding="utf-8")
    return path


def samples_config(folder: Path) -> Path:
    return write_config(
        folder,
        (
            f"sources:\n  - path: {ROOT / 'samples/ofx'}/checking-*.ofx\n"
            f"  - path: {ROOT / 'samples/csv/chase'}/chase-checking-*.csv\n    account: Chase checking\n"
            f"  - path: {ROOT / 'samples/csv/sparkasse'}\n    account: Sparkasse giro\n"
        ),
    )


def test_run_with_config_and_no_paths_imports_the_sources_and_summarises_as_json(
    runner: CliRunner, tmp_path: Path
) -> None:

    config = samples_config(tmp_path)
    first = runner.invoke(main, ["run", "--config", str(config), "--json"])
    assert first.exit_code == 0, first.output
    assert first.stderr == ""  # no progress bar, no log lines off a terminal
    summary = json.loads(first.stdout)
    assert [run["source"] for run in summary["runs"]] == [
        s.path for s in parse_config(config.read_text(), config).sources
    ]
    files = [f for run in summary["runs"] for f in run["files"]]
    assert summary["targets"]["local"]["new"] == sum(f["parsed"] for f in files) == 37
    assert {"path", "format", "parsed", "new", "duplicate", "failed", "error"} <= set(files[0])
    again = json.loads(runner.invoke(main, ["run", "--config", str(config), "--json"]).stdout)
    assert again["targets"]["local"]["new"] == 0 and again["targets"]["local"]["duplicate"] == 37


def test_text_summary_off_a_terminal_has_no_colours_and_ends_with_the_gaps(runner: CliRunner, tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sources:\n  - path: {tmp_path / 'none'}/*.csv\n    account: Savings\n")
    result = runner.invoke(main, ["run", "--config", str(config)])
    assert result.exit_code == 0
    assert "\x1b[" not in result.output
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert result.output.splitlines()[-1] == (
        f"warning: account Savings: no statement covers {last_month}. Download that month's export from the "
        "bank and import it (or drop it into the inbox)."
    )


def test_run_without_paths_or_sources_says_what_to_do(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["run", "--config", str(write_config(tmp_path, ""))])
    assert result.exit_code == 2
    assert (
        "Error: no PATHS given, and no configuration file lists `sources:`. Name files or folders to import, "
        "or add sources to importer.yaml (`importer init` writes one)." in result.output
    )


def routine(tmp_path: Path, sources: list[SourceSettings], today: dt.date) -> tuple[list[str], list[str]]:
    """Run the routine; returns the gap kinds and messages."""
    config = Config(sources=tuple(sources))
    with State(tmp_path / "state.sqlite") as state:
        report = run_sources(config, load_rules([ROOT / "rules"]), state, RunSettings(), QUIET, today)
    assert report.exit_code == 0, [f.error for f in report.files]
    return [g.kind for g in report.gaps], [g.message for g in report.gaps]


def test_an_account_without_last_months_statement_is_reported(tmp_path: Path) -> None:
    write_chase(tmp_path / "chase" / "oct.csv", month_lines("2026-10", 1))
    source = SourceSettings(path=str(tmp_path / "chase" / "*.csv"), account="Chase checking")
    assert routine(tmp_path, [source], dt.date(2026, 11, 3)) == ([], [])
    kinds, messages = routine(tmp_path, [source], dt.date(2026, 12, 3))
    assert kinds == ["missing-month"] and messages[0].startswith("account Chase checking: no statement covers 2026-11.")


def test_a_statement_ending_on_the_first_does_not_cover_that_month(tmp_path: Path) -> None:
    ofx = SourceSettings(path=str(ROOT / "samples/ofx/*.ofx"))
    statement = parse_file(ROOT / "samples/ofx/checking-2026-10.ofx", ParseOptions())[0]
    assert statement.end_date == dt.date(2026, 10, 31)  # DTEND 20261031235959[-5:EST], the bank's own day
    assert routine(tmp_path, [ofx], dt.date(2026, 11, 20)) == ([], [])
    kinds, messages = routine(tmp_path, [ofx], dt.date(2026, 12, 2))
    assert kinds == ["missing-month"] and messages[0].startswith(
        f"account {statement.account}: no statement covers 2026-11."
    )


def test_a_balance_chain_that_does_not_join_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "chase"
    closing = write_chase(folder / "a-oct.csv", month_lines("2026-10", 1), opening=Decimal("500.00"))
    write_chase(folder / "b-nov.csv", month_lines("2026-11", 2), opening=closing + Decimal("10.00"))
    source = SourceSettings(path=str(folder / "*.csv"), account="Chase checking")
    kinds, messages = routine(tmp_path, [source], dt.date(2026, 12, 3))
    oct_end = max(day for day, _, _ in month_lines("2026-10", 1))
    nov_start = min(day for day, _, _ in month_lines("2026-11", 2))
    assert kinds == ["balance-chain"]
    assert messages == [
        f"account Chase checking: {folder / 'b-nov.csv'} opens at {closing + 10} on {nov_start}, "
        f"but {folder / 'a-oct.csv'} closed at {closing} on {oct_end}; a statement between them may be missing."
    ]


def test_a_broken_chain_is_found_whichever_statement_arrives_first(tmp_path: Path) -> None:
    folder = tmp_path / "chase"
    closing = write_chase(folder / "b-oct.csv", month_lines("2026-10", 1), opening=Decimal("500.00"))
    write_chase(folder / "a-nov.csv", month_lines("2026-11", 2), opening=closing - Decimal("0.01"))
    source = SourceSettings(path=str(folder / "*.csv"), account="Chase checking")
    kinds, messages = routine(tmp_path, [source], dt.date(2026, 12, 3))
    assert kinds == ["balance-chain"]
    assert f"{folder / 'a-nov.csv'} opens at {closing - Decimal('0.01')}" in messages[0]
    assert f"but {folder / 'b-oct.csv'} closed at {closing}" in messages[0]


def test_a_joined_balance_chain_is_quiet(tmp_path: Path) -> None:
    folder = tmp_path / "chase"
    closing = write_chase(folder / "a-oct.csv", month_lines("2026-10", 1), opening=Decimal("500.00"))
    write_chase(folder / "b-nov.csv", month_lines("2026-11", 2), opening=closing)
    source = SourceSettings(path=str(folder / "*.csv"), account="Chase checking")
    assert routine(tmp_path, [source], dt.date(2026, 12, 3)) == ([], [])


def test_statement_balances_follow_the_running_balance_whatever_the_line_order() -> None:
    statement = parse_file(ROOT / "samples/csv/chase/chase-checking-2026-10.csv", ParseOptions())[0]
    opening, closing = balances(statement)
    assert closing == Decimal("2913.56")  # the balance after the last line, which the file lists first
    assert opening == closing - sum(t.amount for t in statement.transactions)


def test_a_locked_state_exits_3_and_imports_nothing(runner: CliRunner, tmp_path: Path) -> None:
    config = samples_config(tmp_path)
    with run_lock(tmp_path / "state.sqlite"):
        result = runner.invoke(main, ["run", "--config", str(config)])
    assert result.exit_code == 3
    assert "another importer run" in result.output and "this run stopped without importing anything" in result.output
    with State(tmp_path / "state.sqlite") as state:
        assert state.stored_transactions("ledger") == []


def test_the_log_file_records_the_run_beside_the_state(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["run", "--config", str(samples_config(tmp_path))])
    log = (tmp_path / "importer.log").read_text()
    assert "run started: 3 source(s)" in log and "checking-2026-10.ofx: 15 parsed, 15 new, 0 duplicate" in log
    assert "run finished: exit 0, 3 file(s)" in log


def test_the_log_file_rotates_and_never_holds_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALLET_TOKEN", "tok-1234567890")
    config = parse_config(
        "targets:\n  wallet: {type: wallet, token_env: WALLET_TOKEN}\nlog: {file: logs/i.log, max_bytes: 10000, backups: 2}\n",
        tmp_path / "importer.yaml",
    )
    log = setup_logging(config, tmp_path / "state.sqlite")
    for n in range(400):
        log.info("batch %d sent with tok-1234567890 and Authorization: Bearer abc.def", n)
    close_logging(log)
    written = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert written == ["i.log", "i.log.1", "i.log.2"]
    text = "".join((tmp_path / "logs" / name).read_text() for name in written)
    assert (
        "tok-1234567890" not in text
        and "abc.def" not in text
        and "batch 399 sent with *** and Authorization: Bearer ***" in text
    )


def test_redaction_masks_secret_shaped_pairs() -> None:
    redact = RedactSecrets(["s3cret-value"]).redact
    assert redact("url?token=abc123&x=1 password: hunter2 s3cret-value") == "url?token=***&x=1 password: *** ***"


def test_run_with_paths_warns_on_stderr_when_a_balance_chain_breaks(runner: CliRunner, tmp_path: Path) -> None:
    first = write_chase(tmp_path / "a-oct.csv", month_lines("2026-10", 1), opening=Decimal("100.00"))
    write_chase(tmp_path / "b-nov.csv", month_lines("2026-11", 2), opening=first - Decimal("1.00"))
    state = str(tmp_path / "state.sqlite")
    result = runner.invoke(main, ["run", str(tmp_path / "a-oct.csv"), "--state", state, "--json"])
    assert result.exit_code == 0 and result.stderr == ""
    result = runner.invoke(main, ["run", str(tmp_path / "b-nov.csv"), "--state", state, "--json"])
    assert json.loads(result.stdout)["files"][0]["new"] == 3
    assert result.stderr.startswith(f"warning: account Chase checking: {tmp_path / 'b-nov.csv'} opens at {first - 1}")


def test_a_bad_file_in_one_source_fails_the_run_but_not_the_other_sources(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "notes.csv").write_text("just,some\ntext,here\n")
    config = write_config(
        tmp_path, f"sources:\n  - path: {tmp_path / 'bad'}\n  - path: {ROOT / 'samples/ofx'}/checking-*.ofx\n"
    )
    result = runner.invoke(main, ["run", "--config", str(config), "--json"])
    summary = json.loads(result.stdout)
    assert result.exit_code == 1 and summary["exit_code"] == 1
    [bad], [ofx] = (run["files"] for run in summary["runs"])
    assert bad["error"].endswith(
        f"notes.csv: no parser recognises this file. Known formats: {KNOWN_FORMATS}. "
        "For a CSV from a bank we have no profile for, pass --profile NAME."
    )
    assert ofx["new"] == 15 and summary["targets"]["local"]["failed"] == 1
    assert summary["targets"]["local"]["files"] == 2
    assert summary["targets"]["local"]["errors"] == [{"path": bad["path"], "error": bad["error"]}]
