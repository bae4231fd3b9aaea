"""Ctrl-C for real: `python -m importer run` under a pseudo-terminal, SIGINT mid-upload and mid-parse.

The run must stop within about a second, say on stderr what it did and what is left, exit 130,
be marked `interrupted` in `importer history`, and a second run must land every record exactly
once on the loopback target (tests/loopback.py: not idempotent, so only the journal's lookup of a
batch cut in flight keeps it from landing twice).
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.crash_harness import ACCOUNTS, child_env, expected_ids
from tests.golden import ROOT
from tests.loopback import LoopbackServer
from tests.statements import Line, chase_csv, day

if TYPE_CHECKING:
    from importer.core.models import Statement
    from importer.reports.summary import FileReport, RunReport
    from importer.run.pipeline import Uploaded

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def big_chase(path: Path, rows: int) -> Path:
    """A Chase export of `rows` distinct lines over one month."""
    lines = [Line(day(1 + n % 28), f"-{1 + n % 97}.{n % 100:02d}", f"SHOP {n}") for n in range(rows)]
    return chase_csv(path, sorted(lines, key=lambda line: line.day), opening="1000000.00")


class Terminal:
    """`python -m importer ARGS` with stdin, stdout and stderr on a pseudo-terminal; reads what it draws."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        import pty

        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "importer", *args],
            cwd=ROOT,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, **child_env(), "COLUMNS": "140", "LINES": "40", "TERM": "xterm-256color", **(env or {})},
        )
        os.close(slave)
        self.screen = ""

    def read(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    return

    def wait_for(self, seen: Callable[[str], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            self.read(0.1)
            if seen(self.screen):
                return True
        return False

    def finish(self, timeout: float) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self.read(0.05)
        self.read(0.2)
        code = self.proc.wait(timeout=max(0.1, end - time.monotonic()))
        os.close(self.master)
        return code


def loopback_config(folder: Path, url: str, batch_size: int) -> Path:
    config = folder / "importer.yaml"
    box = {"type": "loopback", "base_url": url, "batch_size": batch_size}
    config.write_text(
        json.dumps({"targets": {"box": box}, "accounts": ACCOUNTS, "state": str(folder / "state.sqlite")})
    )
    return config


def history(config: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "importer", "history", "--config", str(config)],
        cwd=ROOT,
        env={**os.environ, **child_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def uploading_batch(screen: str) -> int:
    """The last batch number the display showed while uploading (0 before the first)."""
    found = re.findall(r"batch (\d+)/\d+", ANSI.sub("", screen))
    return int(found[-1]) if found else 0


def test_ctrl_c_mid_upload_stops_at_once_says_what_is_left_and_the_next_run_lands_each_record_once(
    tmp_path: Path,
) -> None:
    statement = big_chase(tmp_path / "big.csv", 3000)
    later = big_chase(tmp_path / "later.csv", 10)  # never started: named as left
    with LoopbackServer(delay=0.05) as server:
        config = loopback_config(tmp_path, server.url, batch_size=25)
        args = ["run", str(statement), str(later), "--target", "box", "--config", str(config)]
        term = Terminal(args)
        assert term.wait_for(lambda screen: uploading_batch(screen) >= 5, timeout=60), term.screen[-2000:]
        term.proc.send_signal(signal.SIGINT)
        landed_at_signal = len(server.service.markers())
        code = term.finish(timeout=10)
        text = ANSI.sub("", term.screen)
        assert code == 130, text[-2000:]
        # "At once" as a count, not a time (a loaded machine stretches any time): after the signal
        # at most the batch in flight lands, no further batch is started.
        assert len(server.service.markers()) - landed_at_signal <= 25
        assert f"interrupted while uploading {statement}: 0 file(s) done, 1 not started." in text
        assert re.search(
            rf"{re.escape(str(statement))}: \d+ batch\(es\) sent, \d+ not confirmed \(\d+ row\(s\)\)", text
        )
        assert f"not started: {later}" in text
        landed_before = len(server.service.markers())
        assert 0 < landed_before < 3000
        assert re.search(r"^\s*1\s+run\s+\S+\s+interrupted", history(config), re.M), history(config)

        again = subprocess.run(
            [sys.executable, "-m", "importer", *args, "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, **child_env()},
            timeout=120,
        )
        assert again.returncode == 0, again.stderr
        held = Counter(server.service.markers())
        assert set(held) == expected_ids([statement, later])
        assert max(held.values()) == 1  # exactly once, the batch cut in flight included
        listing = history(config)
        assert re.search(r"^\s*2\s+run\s+\S+\s+ok\s", listing, re.M), listing  # the second run finished
        assert re.search(r"^\s*1\s+run\s+\S+\s+interrupted", listing, re.M), listing


def test_ctrl_c_while_a_big_file_is_read_stores_nothing_of_it(tmp_path: Path) -> None:
    statement = big_chase(tmp_path / "big.csv", 200_000)
    config = tmp_path / "importer.yaml"
    config.write_text(json.dumps({"accounts": ACCOUNTS, "state": str(tmp_path / "state.sqlite")}))
    term = Terminal(["run", str(statement), "--config", str(config)])
    assert term.wait_for(lambda screen: "reading" in screen, timeout=60), term.screen[-2000:]
    time.sleep(0.5)  # well inside the parse of 200,000 rows
    term.proc.send_signal(signal.SIGINT)
    code = term.finish(timeout=10)  # a bound, not a speed: the read stops instead of running on
    text = ANSI.sub("", term.screen)
    assert code == 130, text[-2000:]
    # The file is read in batches, each categorised as it comes: the signal lands in one stage or
    # the other, both inside the file's one transaction.
    stage = re.search(rf"interrupted while (\w+) {re.escape(str(statement))}: 0 file\(s\) done, 0 not started\.", text)
    assert stage is not None and stage[1] in ("reading", "categorising"), text[-2000:]
    assert f"{statement}: nothing of it was stored." in text
    import sqlite3

    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        assert db.execute("SELECT count(*) FROM transactions").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM files").fetchone() == (0,)
        assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]


class Interrupting:
    """An observer that sends this process a SIGINT at a chosen moment, as a Ctrl-C would."""

    def __init__(self, when: str, batch: int = 0) -> None:
        self.when, self.batch = when, batch

    def stage(self, path: Path, stage: str, rows: int) -> None:
        if self.when == "batch" and stage == "categorising" and rows >= self.batch:  # a batch stored, the file not
            os.kill(os.getpid(), signal.SIGINT)

    def uploaded(self, path: Path, progress: Uploaded) -> None:
        if self.when == "upload" and progress.batches == self.batch:
            os.kill(os.getpid(), signal.SIGINT)

    def statements(self, path: Path, statements: list[Statement]) -> None:
        if self.when == "store":  # inside the file's storing, which must finish first
            os.kill(os.getpid(), signal.SIGINT)

    def file_done(self, report: FileReport) -> None:
        pass


def _import(tmp_path: Path, statement: Path, observer: Interrupting | None) -> RunReport:
    from importer.core.accounts import AccountSpec
    from importer.parsers import ParseOptions
    from importer.rules import RuleSet
    from importer.run.pipeline import RunSettings, run
    from importer.store.sqlite import State

    settings = RunSettings(
        parse=ParseOptions(account="Chase checking"), observer=observer, accounts=(AccountSpec("Chase checking"),)
    )
    with State(tmp_path / "state.sqlite") as state:
        return run([statement], RuleSet(()), state, settings)


def _ledger(tmp_path: Path) -> Counter[str]:
    import sqlite3

    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        return Counter(row[0] for row in db.execute("SELECT external_id FROM ledger"))


def test_a_ctrl_c_after_storing_leaves_the_file_stored_and_landed_in_the_local_ledger(tmp_path: Path) -> None:
    statement = big_chase(tmp_path / "big.csv", 1200)
    report = _import(tmp_path, statement, Interrupting("store"))
    assert report.interrupted is not None and report.exit_code == 130
    assert report.interrupted.stage == "uploading"
    assert report.interrupted.lines()[1] == f"{statement}: stored; nothing was left to send."
    import sqlite3

    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        assert db.execute("SELECT count(*) FROM transactions").fetchone() == (1200,)
        assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert len(_ledger(tmp_path)) == 1200  # the local ledger is the stored rows: they landed with the file
    again = _import(tmp_path, statement, None)
    assert again.exit_code == 0 and again.files[0].new == 0 and again.files[0].duplicate == 1200
    assert len(_ledger(tmp_path)) == 1200 and max(_ledger(tmp_path).values()) == 1


def test_a_ctrl_c_between_batches_of_a_file_stores_nothing_and_the_next_run_stores_it_once(tmp_path: Path) -> None:
    statement = big_chase(tmp_path / "big.csv", 45_000)  # three batches of at most 20,000 rows
    report = _import(tmp_path, statement, Interrupting("batch", batch=20_000))
    assert report.interrupted is not None and report.interrupted.stage == "categorising"
    assert report.interrupted.lines()[1] == f"{statement}: nothing of it was stored."
    assert _ledger(tmp_path) == Counter()
    again = _import(tmp_path, statement, None)
    assert again.files[0].new == 45_000 and again.files[0].duplicate == 0
    assert len(_ledger(tmp_path)) == 45_000 and max(_ledger(tmp_path).values()) == 1
