"""`importer undo` deletes records, so it shows what and asks on a terminal, refuses off one
without --yes, and with --dry-run only says what it would delete, here and in each target."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main, undo_cmd
from tests.loopback import LoopbackServer, registered
from tests.test_cli import RULED_CSV, SAMPLE_OFX
from tests.test_history import counts

PLAN_OF_THE_CSV_RUN = [
    "Run 1 (run, ok, started ...): undo would",
    "  forget 22 transaction(s) it stored, the first 5:",
    "      2026-10-01     2800.00 USD  GUSTO PAYROLL PPD ID: 9876543210",  # same day: in external id order
    "      2026-10-01     -200.00 EUR  Max Mustermann Sparplan Tagesgeld",
]


def cli(runner: CliRunner, *args: str, answer: str | None = None) -> tuple[int, str]:
    result = runner.invoke(main, list(args), input=answer)
    return result.exit_code, result.output


def imported(runner: CliRunner, state_path: Path) -> dict[str, int]:
    cli(runner, "run", *RULED_CSV, "--state", str(state_path))
    return counts(state_path)


def test_off_a_terminal_undo_refuses_without_yes_and_deletes_nothing(runner: CliRunner, state_path: Path) -> None:
    before = imported(runner, state_path)
    code, out = cli(runner, "undo", "1", "--state", str(state_path))
    assert code == 2
    assert out.splitlines()[-1] == (
        "Error: undo deletes records and this is not a terminal to ask on; pass --yes to "
        "undo run 1 (or --dry-run to see what it would delete)."
    )
    assert counts(state_path) == before and before["ledger"] == 22
    code, out = cli(runner, "undo", "1", "--yes", "--state", str(state_path))
    assert (code, out) == (0, "Undid run 1: forgot 22 transaction(s); removed 22 from local.\n")


def test_on_a_terminal_undo_shows_what_it_deletes_and_asks(
    runner: CliRunner, state_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = imported(runner, state_path)
    monkeypatch.setattr(undo_cmd, "is_interactive", lambda: True)
    code, out = cli(runner, "undo", "1", "--state", str(state_path), answer="n\n")
    lines = out.splitlines()
    assert code == 1 and lines[-2:] == ["Undo run 1? [y/N]: n", "Nothing was undone."]
    assert lines[0].startswith("Run 1 (run, ok, started 2026-") and lines[1:4] == PLAN_OF_THE_CSV_RUN[1:]
    assert "  delete 22 record(s) in the local ledger, the first 5:" in lines
    assert counts(state_path) == before
    code, out = cli(runner, "undo", "1", "--state", str(state_path), answer="y\n")
    assert code == 0 and out.splitlines()[-1] == "Undid run 1: forgot 22 transaction(s); removed 22 from local."
    assert counts(state_path)["ledger"] == 0


def test_dry_run_lists_per_target_what_would_go_and_deletes_nothing(
    runner: CliRunner, state_path: Path, tmp_path: Path
) -> None:
    with LoopbackServer() as server, registered():
        config = tmp_path / "importer.yaml"
        config.write_text(f"targets:\n  box:\n    type: loopback\n    base_url: {server.url}\n")
        base = ["--state", str(state_path), "--config", str(config)]
        cli(runner, "run", SAMPLE_OFX, *base)  # to the local ledger
        cli(runner, "run", SAMPLE_OFX, "--target", "box", *base)  # and the same records to the box
        code, out = cli(runner, "undo", "1", "--dry-run", *base)
        assert len(server.service.markers()) == 15
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "Nothing was deleted (--dry-run)."
    assert lines[1] == "  forget 15 transaction(s) it stored, the first 5:"
    assert lines.index("  delete 15 record(s) in loopback, the first 5:") > lines.index(
        "  delete 15 record(s) in the local ledger, the first 5:"
    )
    assert sum(line.startswith("      2026-") for line in lines) == 15  # five rows under each heading
    code, out = cli(runner, "undo", "1", "--dry-run", "--keep-remote", *base)
    assert "  leave 15 record(s) in loopback, the first 5:" in out.splitlines()
    assert counts(state_path)["accepted"] == 30


def test_dry_run_of_a_run_that_is_not_there_says_so(runner: CliRunner, state_path: Path) -> None:
    code, out = cli(runner, "undo", "4", "--dry-run", "--state", str(state_path))
    assert (code, out) == (2, f"error: there is no run 4 in {state_path}; `importer history` lists the runs.\n")
