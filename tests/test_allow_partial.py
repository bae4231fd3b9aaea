"""--allow-partial: a cut-off file imports its complete part, with a warning; never silently.

Without the option a `TruncatedError` refuses the file as before.  The parser's side (which
records were complete) is its own work; here a parser is made to raise `TruncatedError` with
the statements of a real sample cut short, and one test runs a really truncated bank CSV.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.core.errors import TruncatedError
from importer.core.models import Statement
from importer.parsers import REGISTRY, ParseOptions
from importer.parsers.base import StatementFile
from importer.parsers.stream import Event, events_of
from tests.golden import ROOT

QIF = ROOT / "samples/qif/checking-2026-10.qif"
CHASE = ROOT / "samples/csv/chase/chase-checking-2026-10.csv"
CUT_LINE = 23
KEPT = 3  # transactions of the first account before the cut
WARNING = (
    f"{QIF}, line {CUT_LINE}: the file ends inside a transaction record. Imported only the {KEPT} "
    "transaction(s) before the cut (allow partial); the rest of the file was not imported: "
    "download it again to get it."
)


def cut_short(path: Path, options: ParseOptions) -> list[Statement]:
    """The real statements of the QIF sample, as a parser that found the file cut at line 23 sees it."""
    whole = REGISTRY["qif"].__class__().parse(path, options)
    first = whole[0].model_copy(update={"transactions": whole[0].transactions[:KEPT]})
    raise TruncatedError(path, "the file ends inside a transaction record.", line=CUT_LINE, partial=[first])


def streamed(parse: Callable[[Path, ParseOptions], list[Statement]]) -> Callable[..., Iterator[Event]]:
    """`parse` as a streaming parser's `stream`: the statements' events (or, for a cut file, those
    of its complete records, then the error, as a streaming parser meets the cut)."""

    def stream(source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        source.read()
        try:
            statements = parse(source.path, options)
        except TruncatedError as exc:
            yield from events_of(exc.partial)
            raise TruncatedError(exc.path, exc.reason, line=exc.line, expected=exc.expected, found=exc.found) from None
        yield from events_of(statements)

    return stream


def patch_qif(monkeypatch: pytest.MonkeyPatch, parse: Callable[[Path, ParseOptions], list[Statement]]) -> None:
    monkeypatch.setattr(REGISTRY["qif"], "parse", parse)
    monkeypatch.setattr(REGISTRY["qif"], "stream", streamed(parse))


@pytest.fixture
def truncated_qif(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_qif(monkeypatch, cut_short)


def run_json(runner: CliRunner, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(main, ["run", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.usefixtures("truncated_qif")
def test_without_the_option_a_cut_off_file_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    code, report = run_json(runner, str(QIF), "--state", str(tmp_path / "s.sqlite"))
    assert code == 1 and report["totals"]["new"] == 0
    assert report["files"][0]["error"] == f"{QIF}, line {CUT_LINE}: the file ends inside a transaction record."
    assert report["files"][0]["warnings"] == []


@pytest.mark.usefixtures("truncated_qif")
def test_with_the_option_the_complete_part_is_imported_with_a_warning(runner: CliRunner, tmp_path: Path) -> None:
    code, report = run_json(runner, str(QIF), "--allow-partial", "--state", str(tmp_path / "s.sqlite"))
    assert code == 0 and report["totals"]["new"] == KEPT and report["files"][0]["error"] is None
    assert report["files"][0]["warnings"] == [WARNING]


@pytest.mark.usefixtures("truncated_qif")
def test_the_text_summary_shows_the_warning(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["run", str(QIF), "--allow-partial", "--state", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0
    assert f"warning: {WARNING}" in result.output.splitlines()


@pytest.mark.usefixtures("truncated_qif")
def test_parse_prints_the_partial_rows_and_the_warning_on_stderr(runner: CliRunner) -> None:
    result = runner.invoke(main, ["parse", str(QIF), "--allow-partial", "--format", "jsonl"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["amount"] for row in rows] == ["3250.00", "-1450.00", "-84.27"]
    assert result.stderr == f"warning: {WARNING}\n"


def test_a_truncation_with_nothing_complete_stays_an_error(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nothing(path: Path, options: ParseOptions) -> list[Statement]:
        raise TruncatedError(path, "the file ends before its first record.", line=2)

    patch_qif(monkeypatch, nothing)
    code, report = run_json(runner, str(QIF), "--allow-partial", "--state", str(tmp_path / "s.sqlite"))
    assert code == 1 and report["files"][0]["error"] == f"{QIF}, line 2: the file ends before its first record."


@pytest.mark.usefixtures("truncated_qif")
def test_a_source_may_allow_partial_files(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "importer.yaml"
    config.write_text(f"currency: USD\nsources:\n  - path: {QIF}\n    allow_partial: true\n", encoding="utf-8")
    result = runner.invoke(main, ["run", "--config", str(config), "--state", str(tmp_path / "s.sqlite"), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["targets"]["local"]["new"] == KEPT
    assert report["runs"][0]["files"][0]["warnings"] == [WARNING]
    assert "WARNING [" in (tmp_path / "importer.log").read_text() and WARNING in (tmp_path / "importer.log").read_text()


def test_a_parsers_notes_are_shown_as_warnings(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def noted(path: Path, options: ParseOptions) -> list[Statement]:
        statements = REGISTRY["qif"].__class__().parse(path, options)
        return [
            statements[0].model_copy(update={"notes": ("the closing balance is in EUR, not checked.",)})
        ] + statements[1:]

    patch_qif(monkeypatch, noted)
    result = runner.invoke(main, ["run", str(QIF), "--state", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0
    assert f"warning: {QIF}: the closing balance is in EUR, not checked." in result.output.splitlines()


def test_a_really_truncated_csv_imports_its_complete_rows(runner: CliRunner, tmp_path: Path) -> None:
    lines = CHASE.read_text(encoding="utf-8").splitlines(keepends=True)
    cut = tmp_path / "chase-checking-2026-10.csv"
    cut.write_text("".join(lines[:6]) + 'DEBIT,10/20/2026,"SHELL OIL 5744', encoding="utf-8")  # a quote never closed
    refused = runner.invoke(main, ["run", str(cut), "--state", str(tmp_path / "a.sqlite"), "--json"])
    assert refused.exit_code == 1 and json.loads(refused.stdout)["totals"]["new"] == 0
    code, report = run_json(runner, str(cut), "--allow-partial", "--state", str(tmp_path / "b.sqlite"))
    assert code == 0 and report["totals"]["new"] == 5
    assert report["files"][0]["warnings"][0].startswith(f"{cut}, line 7: ")
