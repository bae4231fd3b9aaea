"""What the tool writes about the user's money is readable by the user only.

The state database and its -wal/-shm, the run lock and its .pid, the log and its rotated
backups, failed/*.error.txt: 0600.  The folders the tool creates for them: 0700.  Checked with
a umask of 022, under which a plain open() would have made them 0644 and 0755.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.settings import Config, LogSettings
from importer.run.logs import close_logging, setup_logging
from importer.run.watch import Folders
from importer.store.sqlite import State
from tests.golden import ROOT

GOOD_QFX = ROOT / "samples/ofx/lakeside-cu-2026-10.qfx"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def _umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_run_creates_a_private_state_folder_database_and_lock(runner: CliRunner, tmp_path: Path) -> None:
    state = tmp_path / "new" / "data" / "state.sqlite"
    result = runner.invoke(main, ["run", str(GOOD_QFX), "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert {p.name: oct(mode(p)) for p in state.parent.iterdir()} == {
        "state.sqlite": "0o600",
        "state.sqlite.lock": "0o600",
        "state.sqlite.lock.pid": "0o600",
    }
    assert mode(tmp_path / "new") == 0o700 and mode(state.parent) == 0o700


def test_sqlite_side_files_are_private_while_open(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with State(path) as state:
        state.begin_run("run")
        sides = sorted(p.name for p in tmp_path.iterdir())
        assert sides == ["state.sqlite", "state.sqlite-shm", "state.sqlite-wal"]
        assert [oct(mode(tmp_path / name)) for name in sides] == ["0o600"] * 3


def test_the_log_and_its_rotated_backups_are_private(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "importer.log"
    config = Config(log=LogSettings(file=log_file, max_bytes=10_000, backups=2))
    log = setup_logging(config, tmp_path / "state.sqlite")
    try:
        for number in range(400):
            log.info("line %d of a log that rotates %s", number, "x" * 40)
    finally:
        close_logging(log)
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["importer.log", "importer.log.1", "importer.log.2"]
    assert [oct(mode(log_file.parent / name)) for name in files] == ["0o600"] * 3
    assert mode(log_file.parent) == 0o700


def test_watch_once_creates_private_folders_notes_and_log(runner: CliRunner, tmp_path: Path) -> None:
    inbox = tmp_path / "box" / "inbox"
    state = tmp_path / "state" / "state.sqlite"
    # --once on a missing inbox is an error that creates nothing; the long-running watcher creates
    # its folders (Folders.create), private.
    result = runner.invoke(main, ["watch", str(inbox), "--once", "--settle", "0", "--state", str(state)])
    assert result.exit_code == 2 and not (tmp_path / "box").exists()
    assert Folders(inbox, tmp_path / "box" / "archive", tmp_path / "box" / "failed").create() == [
        inbox,
        tmp_path / "box" / "archive",
        tmp_path / "box" / "failed",
    ]
    (inbox / "good.qfx").write_bytes(GOOD_QFX.read_bytes())
    (inbox / "bad.csv").write_text("not,a,statement\n1,2,3\n", encoding="utf-8")
    result = runner.invoke(main, ["watch", str(inbox), "--once", "--settle", "0", "--state", str(state)])
    assert result.exit_code == 1
    failed, archive = tmp_path / "box" / "failed", tmp_path / "box" / "archive"
    assert [oct(mode(p)) for p in (inbox, failed, archive, *archive.iterdir(), state.parent)] == ["0o700"] * 5
    assert mode(failed / "bad.csv.error.txt") == 0o600
    assert mode(state.parent / "importer.log") == 0o600 and mode(state) == 0o600


def test_an_existing_folder_keeps_its_mode(runner: CliRunner, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    result = runner.invoke(main, ["run", str(GOOD_QFX), "--state", str(shared / "state.sqlite")])
    assert result.exit_code == 0, result.output
    assert mode(shared) == 0o755 and mode(shared / "state.sqlite") == 0o600
