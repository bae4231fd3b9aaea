"""One file's failure never stops the others, and nothing a file can be makes the run hang.

A bad currency code, a 3,000-level nesting, a FIFO, a link to /dev/zero: each becomes that file's
error (named, no traceback), the files after it are still imported, the summary is printed and
the exit code is 1.  The CLI runs in a subprocess with a timeout, so a hang fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.parsers import REGISTRY
from tests.golden import ROOT

SAMPLE_OFX = ROOT / "samples/ofx/checking-2026-10.ofx"
GOOD_QFX = ROOT / "samples/ofx/lakeside-cu-2026-10.qfx"  # 7 transactions
GOOD_QFX_ROWS = 7


def importer(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`importer ARGS` in a subprocess; a run that hangs past `timeout` fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "importer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def bad_folder(folder: Path) -> Path:
    """A folder with an OFX whose CURDEF is ZZQ, a 3,000-level nested OFX, then a good statement."""
    folder.mkdir()
    text = SAMPLE_OFX.read_text(encoding="utf-8")
    assert "<CURDEF>USD" in text
    (folder / "a-curdef.ofx").write_text(text.replace("<CURDEF>USD", "<CURDEF>ZZQ"), encoding="utf-8")
    deep = "<X>" * 3000 + "</X>" * 3000
    (folder / "b-deep.ofx").write_text(text.replace("<BANKMSGSRSV1>", "<BANKMSGSRSV1>" + deep, 1), encoding="utf-8")
    (folder / "c-good.qfx").write_bytes(GOOD_QFX.read_bytes())
    return folder


def test_bad_currency_and_deep_nesting_do_not_stop_the_run(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path / "statements")
    result = importer("run", str(folder), "--state", str(tmp_path / "state.sqlite"))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert (
        f"     {GOOD_QFX_ROWS}    {GOOD_QFX_ROWS}          0        0              2       0  {folder / 'c-good.qfx'}"
        in lines
    )
    # The OFX reader names both faults itself (the pipeline's catch-all is only the safety net).
    assert error_line(lines, folder / "a-curdef.ofx").endswith(
        "currency is not an ISO 4217 code; the file may be damaged: download it again. "
        "Expected a currency code such as USD or EUR, found 'ZZQ'."
    )
    assert "nests elements more than 200 deep" in error_line(lines, folder / "b-deep.ofx")


def error_line(lines: list[str], path: Path) -> str:
    """The summary's error line for `path` (its message may add `, line N`)."""
    return next(line for line in lines if line.startswith(f"error: {path}"))


def test_json_summary_names_each_failed_file(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path / "statements")
    result = importer("run", str(folder), "--state", str(tmp_path / "state.sqlite"), "--json")
    report = json.loads(result.stdout)
    assert report["exit_code"] == 1 and report["totals"]["new"] == GOOD_QFX_ROWS
    assert [(Path(f["path"]).name, f["error"] is not None) for f in report["files"]] == [
        ("a-curdef.ofx", True),
        ("b-deep.ofx", True),
        ("c-good.qfx", False),
    ]


def test_parse_over_several_files_shows_the_good_one_and_names_the_bad(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path / "statements")
    files = sorted(str(p) for p in folder.iterdir())
    result = importer("parse", *files, "--format", "jsonl")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == GOOD_QFX_ROWS and {row["source"].split("#")[0] for row in rows} == {files[2]}
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["error", "error"]
    assert files[0] in result.stderr and files[1] in result.stderr


def test_an_unexpected_exception_is_reported_as_a_bug_without_traceback(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> list[object]:
        raise KeyError("TRNAMT")

    monkeypatch.setattr(REGISTRY["ofx"], "parse", broken)  # `parse` reads with it,
    monkeypatch.setattr(REGISTRY["ofx"], "stream", broken)  # `run` streams
    result = runner.invoke(
        main,
        ["run", str(SAMPLE_OFX), str(ROOT / "samples/qif/checking-2026-10.qif"), "--state", str(tmp_path / "s.sqlite")],
    )
    assert (result.exit_code == 1 and result.exception is None) or isinstance(result.exception, SystemExit)
    assert (
        f"error: {SAMPLE_OFX}: could not be read: KeyError: 'TRNAMT'. This is a bug in importer, not in your "
        "file: please report it with this message"
    ) in result.output
    assert "samples/qif/checking-2026-10.qif" in result.output and "Traceback" not in result.output


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "statement.csv"
    os.mkfifo(path)
    return path


FIFO_MESSAGE = "is a named pipe (FIFO), not a regular file; save the statement to a file and import that."


@pytest.mark.parametrize("command", ["parse", "run"])
def test_a_fifo_is_refused_at_once(command: str, fifo: Path, tmp_path: Path) -> None:
    extra = ["--state", str(tmp_path / "state.sqlite")] if command == "run" else []
    result = importer(command, str(fifo), *extra, timeout=30)
    assert result.returncode == 1
    assert f"error: {fifo}: {FIFO_MESSAGE}" in (result.stdout + result.stderr).splitlines()


@pytest.mark.parametrize("command", ["parse", "run"])
def test_a_link_to_dev_zero_is_refused_at_once(command: str, tmp_path: Path) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    extra = ["--state", str(tmp_path / "state.sqlite")] if command == "run" else []
    result = importer(command, str(link), *extra, timeout=30)
    assert result.returncode == 1
    expected = (
        f"error: {link}: is a device or socket, not a regular file; save the statement to a file and import that."
    )
    assert expected in (result.stdout + result.stderr).splitlines()


def test_a_fifo_inside_a_folder_is_reported_not_waited_on(tmp_path: Path) -> None:
    folder = tmp_path / "statements"
    folder.mkdir()
    os.mkfifo(folder / "a-pipe.csv")
    (folder / "b-good.qfx").write_bytes(GOOD_QFX.read_bytes())
    result = importer("run", str(folder), "--state", str(tmp_path / "state.sqlite"), "--json", timeout=30)
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["totals"]["new"] == GOOD_QFX_ROWS
    assert report["files"][0]["error"] == f"{folder / 'a-pipe.csv'}: {FIFO_MESSAGE}"


def test_max_statement_bytes_comes_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "importer.yaml"
    config.write_text("max_statement_bytes: 1000\n", encoding="utf-8")
    size = GOOD_QFX.stat().st_size
    result = importer("run", str(GOOD_QFX), "--config", str(config), "--state", str(tmp_path / "s.sqlite"))
    assert result.returncode == 1
    assert (
        f"error: {GOOD_QFX}: is {size:,} bytes, more than the largest statement allowed (1,000 bytes). "
        "If it really is one statement, raise max_statement_bytes in importer.yaml."
    ) in result.stdout.splitlines()
    parsed = importer("parse", str(GOOD_QFX), "--config", str(config))
    assert parsed.returncode == 1 and "more than the largest statement allowed (1,000 bytes)" in parsed.stderr


def test_watch_files_a_bad_file_in_failed_and_imports_the_rest(tmp_path: Path) -> None:
    inbox = bad_folder(tmp_path / "inbox")
    result = importer("watch", str(inbox), "--once", "--settle", "0", "--state", str(tmp_path / "s.sqlite"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    failed = tmp_path / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "a-curdef.ofx",
        "a-curdef.ofx.error.txt",
        "b-deep.ofx",
        "b-deep.ofx.error.txt",
    ]
    assert "nests elements more than 200 deep" in (failed / "b-deep.ofx.error.txt").read_text()
    assert [p.name for p in (tmp_path / "archive").rglob("*.qfx")] == ["c-good.qfx"]


def test_the_routine_goes_on_after_a_bad_source_file(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path / "statements")
    config = tmp_path / "importer.yaml"
    config.write_text(f"sources:\n  - path: {folder}\n", encoding="utf-8")
    result = importer("run", "--config", str(config), "--state", str(tmp_path / "s.sqlite"), "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["targets"]["local"]["new"] == GOOD_QFX_ROWS
    assert [Path(e["path"]).name for e in report["targets"]["local"]["errors"]] == ["a-curdef.ofx", "b-deep.ofx"]
