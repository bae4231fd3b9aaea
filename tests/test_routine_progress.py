"""The run display (importer/reports/progress.py): drawn on a terminal from what the pipeline tells its
observer, erased when done; nothing at all elsewhere.  And each kind of run is named in history."""

from __future__ import annotations

import io
import re
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from importer.cli import main
from importer.reports.progress import Live, run_display
from importer.run.pipeline import CATEGORISING, READING, UPLOADING, Uploaded

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SAMPLE = Path("samples/csv/chase/chase-checking-2026-10.csv")


def test_the_display_names_the_file_being_read_its_stage_rows_batches_rate_and_eta() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with run_display(2, console=console) as display:
        assert isinstance(display, Live)
        now = [100.0]
        display.clock = lambda: now[0]
        display.stage(SAMPLE, READING, 0)
        reading = frame(display)
        display.stage(SAMPLE, UPLOADING, 2000)
        now[0] += 10.0
        display.uploaded(SAMPLE, Uploaded(batches=5, of_batches=20, rows=500, of_rows=2000))
        uploading = frame(display)
        display.file_done(SAMPLE)
    assert "file 1/2" in reading and "chase-checking-2026-10.csv (1 KB)" in reading  # 1,033 bytes
    assert re.search(r"^reading .* rows not known until it is read$", reading, re.M), reading
    # 500 rows in 10 s: 50 rows/s, 1,500 left: 30 s.
    assert re.search(r"^uploading .* 500/2,000 rows · batch 5/20 · 50 rows/s · ETA 0:00:30$", uploading, re.M), (
        uploading
    )
    drawn = ANSI.sub("", screen.getvalue())
    assert f"{SAMPLE.name} done" in drawn
    assert screen.getvalue().endswith("\x1b[2K")  # transient: the lines are erased at the end


def frame(display: Live) -> str:
    """The display's lines as its next refresh draws them, without colours."""
    out = io.StringIO()
    Console(file=out, width=160, force_terminal=False).print(display.bar.make_tasks_table(display.bar.tasks))
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def test_the_file_count_moves_when_a_file_is_done_and_names_the_next_one() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    with run_display(3, console=console) as display:
        assert isinstance(display, Live)
        display.stage(SAMPLE, CATEGORISING, 12)
        assert display.bar.tasks[0].description == "file 1/3"
        assert display.bar.tasks[1].fields["detail"] == "12 rows"
        display.file_done(SAMPLE)
        assert display.bar.tasks[0].completed == 1 and not display.bar.tasks[1].visible
        display.stage(Path("samples/ofx/checking-2026-10.ofx"), READING, 0)
        assert display.bar.tasks[0].description == "file 2/3"
        assert display.bar.tasks[0].fields["detail"].startswith("checking-2026-10.ofx (")


def test_nothing_is_drawn_off_a_terminal() -> None:
    out = io.StringIO()
    with run_display(3, console=Console(file=out, force_terminal=False)) as display:
        display.stage(SAMPLE, READING, 0)
        display.uploaded(SAMPLE, Uploaded(1, 2, 10, 20))
        display.file_done(SAMPLE)
    assert out.getvalue() == ""


def test_history_names_each_kind_of_run(tmp_path: Path) -> None:
    """A run from the command line is `run`, the configured sources `routine`, the watcher's
    imports `watch` (tests/test_watch.py drives it), a dry run `dry-run` (listed with --all)."""
    from importer.config.settings import Config
    from importer.parsers import ParseOptions
    from importer.rules import RuleSet
    from importer.run.pipeline import RunSettings
    from importer.run.routine import inbox_importer
    from importer.store.sqlite import State
    from tests.inbox_statements import month_lines, write_chase

    runner = CliRunner()
    config = tmp_path / "importer.yaml"
    folder = tmp_path / "in"
    folder.mkdir()
    config.write_text(
        f"state: {tmp_path / 'state.sqlite'}\nsources:\n  - path: {folder}/a-*.csv\n    account: Chase checking\n"
    )
    write_chase(folder / "a-1.csv", month_lines("2026-01", seed=1))
    write_chase(folder / "b-1.csv", month_lines("2026-02", seed=2))
    write_chase(folder / "c-1.csv", month_lines("2026-03", seed=3))
    assert runner.invoke(main, ["run", "--config", str(config), "--dry-run"]).exit_code == 0
    assert runner.invoke(main, ["run", "--config", str(config)]).exit_code == 0
    assert (
        runner.invoke(
            main, ["run", str(folder / "b-1.csv"), "--config", str(config), "--account", "Chase checking"]
        ).exit_code
        == 0
    )
    with State(tmp_path / "state.sqlite") as state:
        settings = RunSettings(parse=ParseOptions(account="Chase checking"))
        importer = inbox_importer(Config(), RuleSet(()), state, settings, _quiet_log(), tmp_path / "state.sqlite")
        assert importer([folder / "c-1.csv"])[0].new == 3
    listing = runner.invoke(main, ["history", "--all", "--config", str(config)]).output
    kinds = [line.split()[1] for line in listing.splitlines()[1:] if line.split()[0].isdigit()]
    assert kinds == ["watch", "run", "routine"]  # newest first
    assert re.search(r"^\s+-\s+dry-run\s", listing, re.M), listing  # quiet: unnumbered


def _quiet_log():  # type: ignore[no-untyped-def]
    import logging

    log = logging.getLogger("test-kinds")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return log
