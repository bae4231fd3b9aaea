"""`importer history` and `importer undo`: runs with their files and batches; taking a run back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.state_location import Location
from importer.store.locate import open_store
from tests.loopback import LoopbackServer, registered
from tests.pgserver import cli_arg
from tests.test_cli import RULED_CSV, RULED_SAMPLES, SAMPLE_OFX


@pytest.fixture
def state_path(any_state: Location) -> Location:
    """Each test here runs on SQLite and on PostgreSQL (tests/conftest.py `any_state`)."""
    return any_state


def cli(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, list(args))
    return result.exit_code, result.output


def counts(state_path: Path) -> dict[str, int]:
    """Rows per table; `accepted` counts what every target holds, the local ledger's included
    (those are its stored rows, marked landed: `accepted_records`)."""
    with open_store(state_path) as state:
        tables = {
            "transactions": "transactions",
            "accepted": "accepted_records",
            "ledger": "ledger",
            "files": "files",
            "run_files": "run_files",
            "batches": "batches",
        }
        return {name: state.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for name, table in tables.items()}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running, registered():
        yield running


def test_history_lists_runs_files_and_batches(runner: CliRunner, state_path: Path) -> None:
    cli(runner, "run", *RULED_SAMPLES, "--state", cli_arg(state_path))
    cli(runner, "run", SAMPLE_OFX, "--state", cli_arg(state_path))  # nothing new: a quiet run
    code, out = cli(runner, "history", "--state", cli_arg(state_path), "--json")
    assert code == 0
    runs = json.loads(out)
    assert [(r["id"], r["command"], r["files"], r["stored"], r["sent"], r["batches"]) for r in runs] == [
        (1, "run", 3, 37, 37, {"done": 3}),
    ]
    code, out = cli(runner, "history", "1", "--state", cli_arg(state_path))
    assert code == 0
    assert "  file   samples/ofx/checking-2026-10.ofx [ofx]: 15 parsed, 15 stored" in out.splitlines()
    assert sum("-> local: done" in line for line in out.splitlines()) == 3


def test_dry_runs_and_runs_that_change_nothing_take_no_run_number(runner: CliRunner, state_path: Path) -> None:
    state = ["--state", cli_arg(state_path)]
    cli(runner, "run", *RULED_CSV, *state, "--dry-run")
    assert json.loads(cli(runner, "run", *RULED_CSV, *state, "--json")[1])["run_id"] == 1
    assert json.loads(cli(runner, "run", *RULED_CSV, *state, "--json")[1])["run_id"] == 2  # it printed 2...
    cli(runner, "run", *RULED_CSV, *state, "--dry-run")
    _code, out = cli(runner, "run", SAMPLE_OFX, *state, "--json")
    assert json.loads(out)["run_id"] == 2  # ...and gave the number back: this run changed something
    listing = cli(runner, "history", *state)[1].splitlines()
    assert [line.split()[:2] for line in listing] == [["run", "kind"], ["2", "run"], ["1", "run"]]
    every = json.loads(cli(runner, "history", "--all", *state, "--json")[1])
    assert [(r["id"], r["command"], r["files"], r["stored"]) for r in every] == [
        (2, "run", 1, 15),
        (None, "dry-run", 0, 0),
        (None, "run", 2, 0),
        (1, "run", 2, 22),
        (None, "dry-run", 0, 0),
    ]
    _code, out = cli(runner, "history", "--all", *state)
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["2", "run"],
        ["-", "dry-run"],
        ["-", "run"],
        ["1", "run"],
        ["-", "dry-run"],
    ]


def test_history_shows_the_kind_and_interrupted_runs(runner: CliRunner, state_path: Path) -> None:
    with open_store(state_path) as state:
        watch = state.begin_run("watch")
        state.store_transactions([], watch, None)
        routine = state.begin_run("routine")  # the watcher was killed: its run is marked interrupted
        state.finish_run(routine, "interrupted")  # Ctrl-C
        with pytest.raises(ValueError, match="unknown run status 'stopped'"):
            state.finish_run(routine, "stopped")
    _code, out = cli(runner, "history", "--state", cli_arg(state_path))
    assert [(line.split()[:2], line.split()[3]) for line in out.splitlines()[1:]] == [
        (["2", "routine"], "interrupted"),
        (["1", "watch"], "interrupted"),
    ]
    assert "interrupted (stopped before the end)" in out
    _code, out = cli(runner, "history", "2", "--state", cli_arg(state_path))
    assert out.startswith("run 2 (routine, interrupted (stopped before the end)) started ")


def test_undo_forgets_a_run_so_its_files_import_again(runner: CliRunner, state_path: Path) -> None:
    cli(runner, "run", *RULED_SAMPLES, "--state", cli_arg(state_path))
    code, out = cli(runner, "undo", "1", "--yes", "--state", cli_arg(state_path))
    assert (code, out) == (0, "Undid run 1: forgot 37 transaction(s); removed 37 from local.\n")
    assert counts(state_path) == dict.fromkeys(counts(state_path), 0)
    code, out = cli(runner, "run", *RULED_SAMPLES, "--state", cli_arg(state_path), "--json")
    assert json.loads(out)["totals"]["new"] == 37


def test_undo_of_a_later_run_leaves_the_earlier_one(runner: CliRunner, state_path: Path) -> None:
    cli(runner, "run", *RULED_CSV, "--state", cli_arg(state_path))
    cli(runner, "run", *RULED_SAMPLES, "--state", cli_arg(state_path))
    cli(runner, "undo", "2", "--yes", "--state", cli_arg(state_path))
    assert counts(state_path) | {"batches": 0} == {
        "transactions": 22,
        "accepted": 22,
        "ledger": 22,
        "files": 2,
        "run_files": 2,
        "batches": 0,
    }


def test_undo_deletes_remotely_through_the_target(
    runner: CliRunner, state_path: Path, tmp_path: Path, server: LoopbackServer
) -> None:
    config = tmp_path / "importer.yaml"
    config.write_text(f"targets:\n  box:\n    type: loopback\n    base_url: {server.url}\n")
    base = ["--state", cli_arg(state_path), "--config", str(config)]
    cli(runner, "run", SAMPLE_OFX, "--target", "box", *base)
    assert len(server.service.markers()) == 15
    code, out = cli(runner, "undo", "1", "--yes", *base)
    assert (code, out) == (0, "Undid run 1: forgot 15 transaction(s); removed 15 from loopback.\n")
    assert server.service.markers() == []
    cli(runner, "run", SAMPLE_OFX, "--target", "box", *base)
    assert len(server.service.markers()) == 15


def test_undo_keep_remote_leaves_the_service_alone(
    runner: CliRunner, state_path: Path, tmp_path: Path, server: LoopbackServer
) -> None:
    config = tmp_path / "importer.yaml"
    config.write_text(f"targets:\n  box:\n    type: loopback\n    base_url: {server.url}\n")
    base = ["--state", cli_arg(state_path), "--config", str(config)]
    cli(runner, "run", SAMPLE_OFX, "--target", "box", *base)
    code, out = cli(runner, "undo", "1", "--yes", "--keep-remote", *base)
    assert code == 0 and out.splitlines()[-1] == "Left 15 record(s) in loopback (--keep-remote)."
    assert len(server.service.markers()) == 15


def test_undo_names_a_run_that_does_not_exist(runner: CliRunner, state_path: Path) -> None:
    code, out = cli(runner, "undo", "7", "--yes", "--state", cli_arg(state_path))
    assert code == 2
    assert out == f"error: there is no run 7 in {state_path}; `importer history` lists the runs.\n"


def test_a_run_cannot_be_undone_twice(runner: CliRunner, state_path: Path) -> None:
    cli(runner, "run", SAMPLE_OFX, "--state", cli_arg(state_path))
    cli(runner, "undo", "1", "--yes", "--state", cli_arg(state_path))
    assert cli(runner, "undo", "1", "--yes", "--state", cli_arg(state_path)) == (
        2,
        "error: run 1 was already undone.\n",
    )
