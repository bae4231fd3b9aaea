"""`importer watch`: the start-up banner, the counts of each file, and `--once` on a missing inbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.paths import default_rules_paths
from importer.rules import load_rules
from tests.inbox_statements import month_lines, write_chase


def once(runner: CliRunner, tmp_path: Path, *extra: str) -> list[str]:
    return ["watch", str(tmp_path / "inbox"), "--once", "--settle", "0", "--state", str(tmp_path / "s.sqlite"), *extra]


def test_the_banner_names_every_folder_the_target_the_rules_and_the_state(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    result = runner.invoke(main, once(runner, tmp_path))
    assert result.exit_code == 0, result.output
    rules = len(load_rules(default_rules_paths()))  # the repository's ./rules (tests run from its root)
    assert rules > 50
    assert result.stderr == (
        "importer watch\n"
        f"  inbox:   {tmp_path / 'inbox'}\n"
        f"  archive: {tmp_path / 'archive'}\n"
        f"  failed:  {tmp_path / 'failed'}\n"
        "  target:  local\n"
        f"  rules:   {rules} rule(s) from {Path('rules').absolute()}\n"
        f"  state:   {tmp_path / 's.sqlite'}\n"
    )
    assert result.stdout == ""


def test_no_rules_is_a_warning_naming_where_it_looked(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./rules here ...
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # ... nor in the user config folder
    (tmp_path / "inbox").mkdir()
    result = runner.invoke(main, once(runner, tmp_path))
    assert result.exit_code == 0, result.output
    looked = f"{tmp_path / 'rules'}, {tmp_path / 'config' / 'importer' / 'rules'}"
    assert f"  rules:   0 rule(s) from {looked}\n" in result.stderr
    assert result.stderr.endswith(
        f"warning: no rules loaded (looked in {looked}); every transaction stays uncategorised. "
        "Run `importer init --user` for the example rules, or set `rules:` in importer.yaml.\n"
    )


def test_each_file_says_what_it_added_not_only_where_it_went(runner: CliRunner, tmp_path: Path) -> None:
    write_chase(tmp_path / "inbox" / "oct.csv", month_lines("2026-10", 1))
    assert runner.invoke(main, once(runner, tmp_path)).exit_code == 0
    # The same rows again, in a differently named export: all three are duplicates.
    write_chase(tmp_path / "inbox" / "oct-again.csv", month_lines("2026-10", 1))
    result = runner.invoke(main, once(runner, tmp_path))
    assert result.exit_code == 0, result.output
    month = tmp_path / "archive" / dt.date.today().strftime("%Y-%m")
    assert result.stdout == f"imported: oct-again.csv -> {month / 'oct-again.csv'} (3 parsed, 0 new, 3 duplicate)\n"


def test_once_on_a_missing_inbox_is_an_error_that_creates_nothing(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, once(runner, tmp_path))
    inbox = tmp_path / "inbox"
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: the inbox folder {inbox} does not exist, so there is nothing to import. Create it "
        f"(mkdir -p {inbox}), or name another: `inbox:` in importer.yaml, or `importer watch INBOX --once`. "
        "(`importer watch` without --once creates its folders.)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []
