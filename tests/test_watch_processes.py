"""The watcher for real: the OS observer on a real folder, and a watcher killed mid-import."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from importer.rules import load_rules
from importer.run.pipeline import RunSettings
from importer.run.routine import inbox_importer
from importer.run.watch import Folders, Inbox, folder_events, watch_loop
from importer.store.sqlite import State
from tests.inbox_statements import month_lines, write_chase
from tests.test_watch import CONFIG, QUIET


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def archived(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_real_observer_imports_files_dropped_into_a_real_folder(tmp_path: Path) -> None:
    folders = Folders(tmp_path / "inbox", tmp_path / "archive", tmp_path / "failed")
    folders.create()
    stop, filed = threading.Event(), []

    def watcher() -> None:
        with State(tmp_path / "state.sqlite") as state:
            importer = inbox_importer(CONFIG, load_rules([Path("rules")]), state, RunSettings(), QUIET, state.path)
            watch_loop(Inbox(folders, importer, settle=0.2), folder_events(folders.inbox, stop, tick=0.1), filed.append)

    thread = threading.Thread(target=watcher)
    thread.start()
    try:
        time.sleep(0.3)
        for seed in range(5):
            # As a browser does: write a partial file, then rename it when complete.
            partial = folders.inbox / f"download-{seed}.csv.crdownload"
            write_chase(partial, month_lines("2026-10", seed))
            partial.rename(folders.inbox / f"download-{seed}.csv")
        assert wait_for(lambda: len(archived(folders.archive)) == 5, timeout=20), archived(folders.archive)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert archived(folders.archive) == [f"download-{seed}.csv" for seed in range(5)]
    assert all(f.error is None for f in filed) and list(folders.inbox.iterdir()) == []
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        assert db.execute("SELECT count(*), count(DISTINCT external_id) FROM ledger").fetchone() == (15, 15)


def stored_rows(tmp_path: Path) -> int:
    """Ledger rows now (0 before the watcher has created the database)."""
    try:
        with sqlite3.connect(f"file:{tmp_path / 'state.sqlite'}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM ledger").fetchone()[0])
    except sqlite3.Error:
        return 0


def watcher_process(tmp_path: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "importer",
        "watch",
        str(tmp_path / "inbox"),
        "--once",
        "--settle",
        "0",
        "--state",
        str(tmp_path / "state.sqlite"),
        "--rules",
        "rules",
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_watcher_killed_mid_import_and_restarted_stores_and_archives_each_once(tmp_path: Path) -> None:
    count = 120
    for seed in range(count):
        write_chase(tmp_path / "inbox" / f"s-{seed:03d}.csv", month_lines("2026-10", seed))
    first = watcher_process(tmp_path)
    # Kill it mid-import: some files' transactions are stored while those files are still in the inbox.
    assert wait_for(lambda: stored_rows(tmp_path) > 3 * len(archived(tmp_path / "archive")), timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    left = len(list((tmp_path / "inbox").iterdir()))
    assert stored_rows(tmp_path) > 3 * (count - left), "killed with stored transactions whose files were not filed"
    second = watcher_process(tmp_path)
    assert second.wait(timeout=120) == 0, second.stderr.read().decode() if second.stderr else ""
    assert archived(tmp_path / "archive") == [f"s-{seed:03d}.csv" for seed in range(count)]
    assert list((tmp_path / "inbox").iterdir()) == []
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        rows = db.execute("SELECT count(*), count(DISTINCT external_id) FROM ledger").fetchone()
    assert rows == (3 * count, 3 * count)


def test_the_watcher_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    write_chase(tmp_path / "inbox" / "waiting.csv", month_lines("2026-10", 1))
    command = [
        sys.executable,
        "-m",
        "importer",
        "watch",
        str(tmp_path / "inbox"),
        "--settle",
        "0.2",
        "--state",
        str(tmp_path / "state.sqlite"),
    ]
    watcher = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: archived(tmp_path / "archive") == ["waiting.csv"], timeout=60)
        write_chase(tmp_path / "inbox" / "dropped.csv", month_lines("2026-10", 2))
        assert wait_for(lambda: len(archived(tmp_path / "archive")) == 2, timeout=20)
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=20)
    assert watcher.returncode == 0, err
    assert out.splitlines()[0].startswith("imported: waiting.csv -> ")
    # The long-running watcher creates its missing folders, and its banner says so.
    assert f"  archive: {tmp_path / 'archive'} (created)\n  failed:  {tmp_path / 'failed'} (created)\n" in err
    log = (tmp_path / "importer.log").read_text()
    assert f"watching {tmp_path / 'inbox'}" in log and "dropped.csv -> " in log
