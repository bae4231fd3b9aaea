"""`importer init` on a terminal: each answer is checked as it is typed, re-asked with the reason,
and the answers already given are kept."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from importer.cli import main
from importer.config.settings import SourceSettings, load_config

CHASE = Path("samples/csv/chase/chase-checking-2026-10.csv")  # tests run from the repository root
PROFILE_QUESTION = "Bank CSV profile of those files (empty: detect; ? lists them; or name a file you downloaded and I'll detect its layout): "


def answer(runner: CliRunner, path: Path, *lines: str) -> tuple[int, str]:
    result = runner.invoke(main, ["init", "--path", str(path), "--interactive"], input="\n".join(lines) + "\n")
    return result.exit_code, result.output


def test_a_bad_profile_is_asked_again_with_close_names_and_the_other_answers_are_kept(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "importer.yaml"
    code, output = answer(runner, path, "in", "dl/*.csv", "", "", "", "Joint", "chse", "chase-checking", "EUR", "")
    assert code == 0, output
    assert output.count(PROFILE_QUESTION) == 2
    assert (
        "Error: no bank profile named 'chse'. Did you mean chase-checking or chase-credit-card? Type ? for the "
        in output
    )
    config = load_config(path)
    assert config.inbox == tmp_path / "in"
    assert config.sources == (
        SourceSettings(path=str(tmp_path / "dl/*.csv"), account="Joint", profile="chase-checking", currency="EUR"),
    )


def test_a_question_mark_lists_the_profiles(runner: CliRunner, tmp_path: Path) -> None:
    code, output = answer(runner, tmp_path / "importer.yaml", "in", "dl/*.csv", "", "", "", "", "?", "amex", "", "")
    assert code == 0, output
    listed = output.split("Error: the known profiles are: ")[1].split(".\n")[0].split(", ")
    assert {"amex", "chase-checking", "barclays"} <= set(listed) and listed == sorted(listed)
    assert load_config(tmp_path / "importer.yaml").sources[0].profile == "amex"


def test_a_downloaded_file_named_for_the_profile_is_detected(runner: CliRunner, tmp_path: Path) -> None:
    code, output = answer(
        runner, tmp_path / "importer.yaml", "in", "dl/*.csv", "", "", "", "", str(CHASE.absolute()), "", ""
    )
    assert code == 0, output
    assert "profile chase-checking (Chase)" in output and "rows read: 12 transaction(s)" in output
    assert "  using profile chase-checking\n" in output
    assert load_config(tmp_path / "importer.yaml").sources[0].profile == "chase-checking"


def test_a_file_that_is_no_statement_is_refused_and_asked_again(runner: CliRunner, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("just some words\n")
    code, output = answer(runner, tmp_path / "importer.yaml", "in", "dl/*.csv", "", "", "", "", str(notes), "", "", "")
    assert code == 0, output
    assert (
        f"Error: {notes}: is not a CSV statement we recognise" in output
        and "Name another file, or a profile." in output
    )
    assert output.count(PROFILE_QUESTION) == 2
    assert load_config(tmp_path / "importer.yaml").sources[0].profile is None


def test_a_file_where_a_folder_belongs_and_a_bad_currency_are_asked_again(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file\n")
    code, output = answer(runner, tmp_path / "importer.yaml", "taken", "in", "", "", "", "", "EURO", "gbp")
    assert code == 0, output
    assert (
        f"Error: {tmp_path / 'taken'} is a file, not a folder; name a folder (it is created when missing).\n" in output
    )
    assert "Error: 'EURO' is not an ISO 4217 currency code (e.g. USD, EUR)\n" in output
    config = load_config(tmp_path / "importer.yaml")
    assert config.inbox == tmp_path / "in" and config.currency == "GBP"


def test_an_account_name_with_a_control_character_is_asked_again(runner: CliRunner, tmp_path: Path) -> None:
    code, output = answer(
        runner, tmp_path / "importer.yaml", "in", "dl/*.csv", "", "", "", "Joint\tcard", "Joint card", "", "", ""
    )
    assert code == 0, output
    assert "Error: an account name is one line of printable text, e.g. Chase checking.\n" in output
    assert load_config(tmp_path / "importer.yaml").sources[0].account == "Joint card"


def test_a_bad_flag_is_a_usage_error_before_anything_is_written(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    result = runner.invoke(main, ["init", "--path", str(path), "--source", "dl/*.csv", "--profile", "chse"])
    assert result.exit_code == 2
    assert (
        "Invalid value for --profile: no bank profile named 'chse'. Did you mean chase-checking or chase-credit-card? Known profiles: amex, "
        in result.output
    )
    assert not path.exists() and not (tmp_path / "rules").exists()
