"""The progress display for real: `python -m importer run` on a pseudo-terminal draws the stage,
the file being worked on, rows, batches, rate and ETA on stderr; off a terminal, or with
`--json`, stderr has none of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.crash_harness import child_env
from tests.golden import ROOT
from tests.loopback import LoopbackServer
from tests.test_interrupt import ANSI, Terminal, big_chase, loopback_config, uploading_batch


def test_on_a_terminal_the_display_shows_stage_file_rows_batches_rate_and_eta(tmp_path: Path) -> None:
    statement = big_chase(tmp_path / "big.csv", 600)
    with LoopbackServer(delay=0.05) as server:
        config = loopback_config(tmp_path, server.url, batch_size=20)
        term = Terminal(["run", str(statement), "--target", "box", "--config", str(config)])
        assert term.wait_for(lambda screen: uploading_batch(screen) >= 3, timeout=60), term.screen[-2000:]
        code = term.finish(timeout=60)
    text = ANSI.sub("", term.screen)
    assert code == 0, text[-2000:]
    assert "file 1/1" in text and "big.csv (" in text  # the file being worked on, and its size
    assert "reading" in text
    assert "uploading" in text and "/600 rows · batch " in text and "/30 · " in text
    assert " rows/s · ETA 0:00:" in text
    assert "Run 1" in text and "loopback" in text  # then the summary, the display erased before it


def test_off_a_terminal_and_with_json_stderr_has_no_display(tmp_path: Path) -> None:
    statement = big_chase(tmp_path / "big.csv", 100)
    with LoopbackServer() as server:
        config = loopback_config(tmp_path, server.url, batch_size=20)
        args = [sys.executable, "-m", "importer", "run", str(statement), "--target", "box", "--config", str(config)]
        piped = subprocess.run(
            args, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **child_env()}, timeout=120
        )
        assert piped.returncode == 0 and piped.stderr == ""
        assert "reading" not in piped.stdout and "rows/s" not in piped.stdout
        term = Terminal([*args[3:], "--json", "--dry-run"])
        code = term.finish(timeout=60)
    assert code == 0
    text = ANSI.sub("", term.screen)
    assert "\x1b[" not in term.screen  # nothing drawn: no cursor movement, no colour
    assert "reading" not in text and "rows/s" not in text and "batch" not in text
    summary = json.loads(text[text.index("{") :])
    assert summary["files"][0]["parsed"] == 100 and summary["dry_run"] is True
