"""The commands: `importer targets list|check`, `importer sandbox` helpers, `run --dry-run`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from importer.cli import main
from importer.cli.sandbox_cmd import parse_faults, sandbox_config
from importer.core.errors import ConfigError
from importer.sandbox import SERVICES, Sandbox
from importer.sandbox.common import Faults
from tests.sandbox_fixtures import held, reset
from tests.test_cli import STORED_SAMPLES


def config_file(sandbox: Sandbox, tmp_path: Path, **changes: dict[str, object]) -> Path:
    config = sandbox_config(sandbox)
    for name, extra in changes.items():
        config["targets"][name.replace("_", "-")].update(extra)  # type: ignore[index]
    path = tmp_path / "importer.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_targets_list_names_every_registry_entry(runner: CliRunner) -> None:
    result = runner.invoke(main, ["targets", "list"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == ["local", *SERVICES]


def test_targets_check_reads_without_writing(sandbox: Sandbox, runner: CliRunner, tmp_path: Path) -> None:
    reset(sandbox, "wallet-v1")
    result = runner.invoke(main, ["targets", "check", "wallet-v1", "--config", str(config_file(sandbox, tmp_path))])
    assert result.exit_code == 0, result.output
    assert "category 'Food:Groceries' → 'Groceries': found" in result.output
    assert result.output.endswith("wallet-v1: ok\n")
    assert held(sandbox, "wallet-v1") == [] and sandbox.fakes["wallet-v1"].accounts == {}


def test_targets_check_reports_missing_mapping(sandbox: Sandbox, runner: CliRunner, tmp_path: Path) -> None:
    path = config_file(sandbox, tmp_path, pocketsmith={"accounts": {"chase-checking": "Chequing"}})
    result = runner.invoke(main, ["targets", "check", "pocketsmith", "--config", str(path)])
    assert result.exit_code == 1
    assert "account 'chase-checking' → 'Chequing': MISSING" in result.output


def test_targets_check_with_a_bad_token_is_a_clean_error(
    sandbox: Sandbox, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOSHL_TOKEN", "not-the-token")
    result = runner.invoke(main, ["targets", "check", "toshl", "--config", str(config_file(sandbox, tmp_path))])
    assert result.exit_code == 1
    assert result.output.startswith("error: target toshl, batch - (HTTP 401): GET /toshl/accounts answered 401: ")
    assert "not-the-token" not in result.output


def test_dry_run_prints_the_requests_with_tokens_masked(sandbox: Sandbox, runner: CliRunner, tmp_path: Path) -> None:
    reset(sandbox, "wallet")
    path = config_file(sandbox, tmp_path)
    result = runner.invoke(main, ["run", "samples/ofx", "--config", str(path), "--target", "wallet", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        f"POST {sandbox.url('wallet')}/v1/api/records?returnData=false\nAuthorization: Bearer ***\n[{{" in result.output
    )
    assert SERVICES["wallet"].token not in result.output
    assert held(sandbox, "wallet") == [] and sandbox.fakes["wallet"].accounts == {}


def test_two_commands_land_the_samples(sandbox: Sandbox, runner: CliRunner, tmp_path: Path) -> None:
    reset(sandbox, "wallet")
    path = config_file(sandbox, tmp_path)
    result = runner.invoke(main, ["run", "samples/", "--config", str(path), "--target", "wallet"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["run", "samples/", "--config", str(path), "--target", "wallet", "--json"])
    assert '"new": 0' in again.output
    assert len(held(sandbox, "wallet")) == STORED_SAMPLES


def test_sandbox_config_points_every_target_at_the_sandbox(sandbox: Sandbox) -> None:
    config = sandbox_config(sandbox)
    assert config["default_target"] == "wallet"
    targets = config["targets"]
    assert isinstance(targets, dict) and list(targets) == list(SERVICES)
    assert all(t["base_url"] == sandbox.url(n) and t["token_env"] == SERVICES[n].token_env for n, t in targets.items())


def test_faults_option_parses_and_refuses_unknown_names() -> None:
    assert parse_faults("latency=0.05, error_rate=0.1,maintenance") == Faults(
        latency=0.05, error_rate=0.1, maintenance=True
    )
    with pytest.raises(
        ConfigError, match="--faults 'explode=1' is not understood .* Known faults: latency, error_rate"
    ):
        parse_faults("explode=1")


def test_a_missing_name_anywhere_in_a_file_stops_it_before_any_request(
    sandbox: Sandbox, runner: CliRunner, tmp_path: Path
) -> None:
    reset(sandbox, "wallet-v1")
    categories = {k: v for k, v in SERVICES["wallet-v1"].settings["categories"].items() if k != "Income:Interest"}
    path = config_file(sandbox, tmp_path, wallet_v1={"categories": categories, "batch_size": 2})
    result = runner.invoke(main, ["run", "samples/ofx", "--config", str(path), "--target", "wallet-v1"])
    assert result.exit_code == 1
    assert "category names not found on wallet-v1: Income:Interest. Nothing was sent" in result.output
    assert held(sandbox, "wallet-v1") == []
