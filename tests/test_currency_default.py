"""A currency is never invented: it comes from the file, or from something the user configured.

Precedence for a file that names none, most specific first: --currency, its source's
`currency:`, $IMPORTER_CURRENCY, the config's top-level `currency:`.  The repository's own
importer.yaml says USD, so the README's first command imports the US QIF sample as USD.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from tests.golden import ROOT

QIF = "samples/qif/checking-2026-10.qif"  # a US checking account; QIF never says its currency
QIF_ROWS = 8  # the rows of its first account (the file has two)


def currencies(runner: CliRunner, *args: str) -> set[str]:
    result = runner.invoke(main, ["parse", QIF, "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return {json.loads(line)["currency"] for line in result.stdout.splitlines()}


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "importer.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True)
def _no_env_currency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMPORTER_CURRENCY", raising=False)


def test_the_repository_config_gives_the_qif_sample_usd(runner: CliRunner) -> None:
    assert (ROOT / "importer.yaml").is_file()
    assert currencies(runner) == {"USD"}


def test_the_top_level_currency_applies(runner: CliRunner, tmp_path: Path) -> None:
    assert currencies(runner, "--config", config(tmp_path, "currency: cad\n")) == {"CAD"}


def test_the_environment_beats_the_config_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORTER_CURRENCY", "gbp")
    assert currencies(runner, "--config", config(tmp_path, "currency: CAD\n")) == {"GBP"}


def test_the_flag_beats_the_environment(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPORTER_CURRENCY", "GBP")
    assert currencies(runner, "--config", config(tmp_path, "currency: CAD\n"), "--currency", "eur") == {"EUR"}


def stored_currencies(state: Path) -> dict[str, int]:
    with sqlite3.connect(state) as db:
        return dict(db.execute("SELECT currency, count(*) FROM transactions GROUP BY currency").fetchall())


def test_a_sources_currency_beats_the_environment_and_the_top_level(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORTER_CURRENCY", "GBP")
    path = config(tmp_path, f"currency: CAD\nsources:\n  - path: {ROOT / QIF}\n    currency: CHF\n")
    result = runner.invoke(main, ["run", "--config", path, "--state", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    assert set(stored_currencies(tmp_path / "s.sqlite")) == {"CHF"}


def test_a_source_without_currency_takes_the_environment(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORTER_CURRENCY", "GBP")
    path = config(tmp_path, f"currency: CAD\nsources:\n  - path: {ROOT / QIF}\n")
    result = runner.invoke(main, ["run", "--config", path, "--state", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    assert set(stored_currencies(tmp_path / "s.sqlite")) == {"GBP"}


def test_the_readme_first_command_imports_every_sample_without_xxx(runner: CliRunner, tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite"
    result = runner.invoke(main, ["run", "samples/", "--state", str(state)])
    assert result.exit_code == 0, result.output
    stored = stored_currencies(state)
    assert "XXX" not in stored and stored["USD"] >= QIF_ROWS
    assert "XXX" not in result.output


def test_a_bad_environment_currency_is_a_configuration_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORTER_CURRENCY", "EURO")
    result = runner.invoke(main, ["parse", QIF])
    assert result.exit_code == 2
    assert result.output == "error: $IMPORTER_CURRENCY: 'EURO' is not an ISO 4217 currency code (e.g. USD, EUR).\n"


def test_a_bad_currency_flag_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["parse", QIF, "--currency", "EURO"])
    assert (
        result.exit_code == 2
        and "Invalid value for --currency: 'EURO' is not an ISO 4217 currency code" in result.output
    )


def test_a_bad_top_level_currency_names_the_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["parse", QIF, "--config", config(tmp_path, "# mine\ncurrency: ZZQ\n")])
    assert result.exit_code == 2
    assert result.output == (
        f"error: {tmp_path / 'importer.yaml'}, line 2: key currency: 'ZZQ' is not an ISO 4217 "
        "currency code (e.g. USD, EUR)\n"
    )


def test_init_writes_the_default_currency(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    result = runner.invoke(main, ["init", "--path", str(path), "--default-currency", "eur", "--no-interactive"])
    assert result.exit_code == 0, result.output
    assert 'currency: "eur"' in path.read_text()
    assert currencies(runner, "--config", str(path)) == {"EUR"}


def test_init_asks_again_until_the_currency_is_iso_4217(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    answers = "\n".join(["in", "", "", "", "", "dollars", "usd"]) + "\n"
    result = runner.invoke(main, ["init", "--path", str(path), "--interactive"], input=answers)
    assert result.exit_code == 0, result.output
    assert "Error: 'dollars' is not an ISO 4217 currency code (e.g. USD, EUR)" in result.output
    assert 'currency: "USD"' in path.read_text()
