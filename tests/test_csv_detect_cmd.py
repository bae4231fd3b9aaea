"""`importer detect`: the evidence it prints, and the profile `--save` writes, which then reads the file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.parsers import ParseOptions, parse_file
from importer.parsers.csv.profiles import all_profiles, load_profile

STATEMENT = (
    "Kontoauszug 01.10.2026 - 31.10.2026\n\n"
    "Buchungstag;Empfänger;Verwendungszweck;Betrag;Währung\n"
    "01.10.2026;ACME GmbH;Gehalt Oktober;2.500,00;EUR\n"
    "14.10.2026;Stadtwerke;Abschlag;-86,00;EUR\n"
    "31.10.2026;Vermieter;Miete;-1.100,00;EUR\n"
)


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(STATEMENT.encode("cp1252"))
    return path


def test_detect_prints_layout_and_evidence(runner: CliRunner, statement: Path) -> None:
    result = runner.invoke(main, ["detect", str(statement)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "detected layout (no profile matched)"
    for expected in (
        "  encoding: cp1252",
        "  delimiter: semicolon (5 fields per row)",
        "  preamble: 2 line(s) before the table",
        "  header: line 3",
        "  column 1 'Buchungstag': date (from header)",
        "  column 4 'Betrag': amount (from header)",
        "  rows read: 3 transaction(s)",
    ):
        assert expected in lines


def test_detect_names_a_matching_profile(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["detect", "samples/csv/revolut/account-statement_2026-10-01_2026-10-31_en_4f1c2a.csv"]
    )
    assert result.output.splitlines()[0] == "profile revolut (Revolut)"
    assert "  running balance (EUR): 4 links hold, rows oldest first" in result.output.splitlines()


def test_save_writes_a_profile_that_reads_the_file(runner: CliRunner, statement: Path, tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    result = runner.invoke(main, ["detect", str(statement), "--save", "meine-bank", "--profile-dir", str(folder)])
    assert result.exit_code == 0, result.output
    profile = load_profile(folder / "meine-bank.yaml")
    assert (profile.date_format, profile.decimal, profile.encoding, profile.delimiter) == (
        "%d.%m.%Y",
        ",",
        "cp1252",
        ";",
    )
    assert profile.columns.amount == "Betrag" and profile.header[0] == "Buchungstag"
    all_profiles.cache_clear()
    [parsed] = parse_file(statement, ParseOptions(profile_dirs=(folder,)))
    assert parsed.account == "meine-bank" and parsed.transactions[2].amount == Decimal("-1100.00")


def test_save_refuses_to_overwrite(
    runner: CliRunner, statement: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORTER_PROFILE_DIR", str(tmp_path))
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    result = runner.invoke(main, ["detect", str(statement), "--save", "mine"])
    assert result.exit_code == 2
    assert "a profile file already exists at" in result.output


def test_detect_explains_what_blocks_reading(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "us.csv"
    path.write_text("Date,Description,Amount\n01/02/2026,A,-1.00\n03/04/2026,B,-2.00\n")
    result = runner.invoke(main, ["detect", str(path)])
    assert "  cannot read it yet:" in result.output and "--date-format" in result.output


def test_detect_refuses_a_file_that_is_not_csv(runner: CliRunner) -> None:
    result = runner.invoke(main, ["detect", "samples/ofx/checking-2026-10.ofx"])
    assert result.exit_code == 1
    assert result.output == (
        "error: samples/ofx/checking-2026-10.ofx: is not a CSV statement we recognise (no bank "
        "profile matches and no column of dates next to a column of amounts was found).\n"
    )
