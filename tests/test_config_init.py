"""importer.yaml: sources, folders, log settings, errors that say what is allowed; `importer init`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.cli.options import open_rules
from importer.config.settings import SourceSettings, load_config, parse_config
from importer.config.starter import example_rules
from importer.core.errors import ConfigError
from importer.rules import load_rules


def test_an_unknown_key_lists_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config("sources:\n  - path: x.csv\n    acount: Chase\n", tmp_path / "importer.yaml")
    assert str(err.value) == (
        f"{tmp_path / 'importer.yaml'}, line 3: key sources.0.acount: unknown key; "
        "allowed keys here: path, account, profile, currency, date_format, target, allow_partial"
    )


def test_a_source_naming_an_unconfigured_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config("sources:\n  - path: x.csv\n    target: wallet\n", tmp_path / "importer.yaml")
    assert str(err.value) == (
        f"{tmp_path / 'importer.yaml'}, line 3: key sources.0.target: 'wallet' is not a configured target; allowed: local."
    )


def test_a_source_profile_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config("sources:\n  - path: x.csv\n    profile: chse\n", tmp_path / "importer.yaml")
    message = str(err.value)
    assert message.startswith(
        f"{tmp_path / 'importer.yaml'}, line 3: key sources.0.profile: no bank profile named 'chse'; allowed: "
    )
    assert "chase-checking, " in message


def test_a_source_currency_must_be_iso_4217(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 3: key sources.0.currency: 'EURO' is not an ISO 4217 currency code"):
        parse_config("sources:\n  - path: x.csv\n    currency: EURO\n", tmp_path / "importer.yaml")


def test_relative_paths_are_taken_from_the_config_files_folder(tmp_path: Path) -> None:
    config = parse_config(
        "state: s.sqlite\ninbox: in\nsources:\n  - path: dl/*.csv\nlog: {file: logs/i.log}\n",
        tmp_path / "importer.yaml",
    )
    assert config.state == tmp_path / "s.sqlite" and config.inbox == tmp_path / "in"
    assert config.sources[0].path == str(tmp_path / "dl/*.csv") and config.log.file == tmp_path / "logs/i.log"
    assert config.folders() == (tmp_path / "in", tmp_path / "archive", tmp_path / "failed")


def test_a_source_claims_its_files_by_glob_or_folder(tmp_path: Path) -> None:
    glob = SourceSettings(path=str(tmp_path / "dl" / "chase*.csv"))
    folder = SourceSettings(path=str(tmp_path / "dl"))
    assert glob.matches(tmp_path / "inbox" / "chase-2026-10.csv") and not glob.matches(tmp_path / "dl" / "amex.csv")
    assert folder.matches(tmp_path / "dl" / "amex.csv") and not folder.matches(tmp_path / "inbox" / "amex.csv")


def test_init_with_flags_writes_a_commented_config_that_loads(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    args = [
        "init",
        "--path",
        str(path),
        "--inbox",
        "inbox",
        "--source",
        "~/Downloads/chase*.csv",
        "--account",
        "Chase checking",
        "--profile",
        "chase-checking",
        "--currency",
        "usd",
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert text.startswith("# importer configuration.") and "# targets:" in text
    config = load_config(path)
    assert config.inbox == tmp_path / "inbox"
    assert config.sources == (
        SourceSettings(
            path="~/Downloads/chase*.csv", account="Chase checking", profile="chase-checking", currency="USD"
        ),
    )


def test_init_asks_on_a_terminal(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    answers = "\n".join(["in", "dl/*.csv", "", "", "", "Joint", "", "EUR", "GBP"]) + "\n"
    result = runner.invoke(main, ["init", "--path", str(path), "--interactive"], input=answers)
    assert result.exit_code == 0, result.output
    config = load_config(path)
    assert config.inbox == tmp_path / "in" and config.archive == tmp_path / "archive"
    assert config.sources == (SourceSettings(path=str(tmp_path / "dl/*.csv"), account="Joint", currency="EUR"),)
    assert config.currency == "GBP"


def test_init_never_overwrites_without_force(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    path.write_text("state: mine.sqlite\n")
    result = runner.invoke(main, ["init", "--path", str(path)])
    assert result.exit_code == 2 and path.read_text() == "state: mine.sqlite\n"
    assert (
        result.output
        == f"error: {path}: already exists; edit it, or pass --force to replace it with a fresh starter.\n"
    )


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CONFIG_HOME names the user config folder on Linux only")
def test_init_user_writes_to_the_user_config_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    result = runner.invoke(main, ["init", "--user", "--inbox", str(tmp_path / "inbox")])
    assert result.exit_code == 0, result.output
    assert load_config(tmp_path / "config" / "importer" / "importer.yaml").inbox == tmp_path / "inbox"


REPO_RULES = sorted(p.relative_to("rules").as_posix() for p in Path("rules").rglob("*.yaml"))  # tests run from the root


def test_the_package_ships_the_repositorys_rules_as_the_example_rules() -> None:
    shipped = {str(relative): source.read_text(encoding="utf-8") for relative, source in example_rules()}
    assert sorted(shipped) == REPO_RULES and "shared/subscriptions.yaml" in shipped
    assert all(shipped[name] == (Path("rules") / name).read_text(encoding="utf-8") for name in REPO_RULES)


def test_init_copies_the_example_rules_and_points_the_config_at_them(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "importer.yaml"
    result = runner.invoke(main, ["init", "--path", str(path), "--inbox", "inbox"])
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[0]
        == f"copied {len(REPO_RULES)} example rule file(s) to {tmp_path / 'conf' / 'rules'}"
    )
    config = load_config(path)
    assert config.rules == (tmp_path / "conf" / "rules",)
    assert f'rules: ["{tmp_path / "conf" / "rules"}"]' in path.read_text()
    assert len(open_rules((), config)) == len(load_rules([Path("rules")])) > 50


def test_init_never_overwrites_a_rule_file_and_says_which_it_kept(runner: CliRunner, tmp_path: Path) -> None:
    mine = tmp_path / "rules" / "30-food.yaml"
    mine.parent.mkdir()
    mine.write_text("rules: []\n")
    result = runner.invoke(main, ["init", "--path", str(tmp_path / "importer.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        f"copied {len(REPO_RULES) - 1} example rule file(s) to {tmp_path / 'rules'}",
        f"kept 1 rule file(s) already in {tmp_path / 'rules'}, unchanged: 30-food.yaml",
    ]
    assert mine.read_text() == "rules: []\n"
    again = runner.invoke(main, ["init", "--path", str(tmp_path / "importer.yaml"), "--force"])
    assert again.output.splitlines()[0].startswith(
        f"kept {len(REPO_RULES)} rule file(s) already in {tmp_path / 'rules'}"
    )


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CONFIG_HOME names the user config folder on Linux only")
def test_init_user_rules_are_found_from_any_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert runner.invoke(main, ["init", "--user", "--inbox", str(tmp_path / "inbox")]).exit_code == 0
    monkeypatch.chdir(tmp_path)  # as cron does: not the repository, no ./rules, no ./importer.yaml
    config = load_config()
    assert config.rules == (tmp_path / "config" / "importer" / "rules",)
    assert len(open_rules((), config)) == len(load_rules([Path(__file__).parents[1] / "rules"]))
