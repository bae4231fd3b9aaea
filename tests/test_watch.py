"""The inbox: scripted events, settling, filing away, collisions, restarts."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.config.settings import AccountSettings, Config
from importer.parsers import REGISTRY
from importer.reports.summary import FileReport
from importer.rules import load_rules
from importer.run.pipeline import RunSettings
from importer.run.routine import inbox_importer
from importer.run.watch import Filed, Folders, Inbox, drain, move_once, watch_advice, watch_loop, write_error_note
from importer.store.sqlite import State
from tests.inbox_statements import month_lines, write_chase

KNOWN_FORMATS = ", ".join(sorted(REGISTRY))


TODAY = dt.date(2026, 11, 5)
SAMPLES = [Path("samples/ofx/checking-2026-10.ofx"), Path("samples/csv/chase/chase-checking-2026-10.csv")]


QUIET = logging.getLogger("tests.watch")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def state(state_path: Path) -> Iterator[State]:
    with State(state_path) as opened:
        yield opened


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    made = Folders(tmp_path / "inbox", tmp_path / "archive", tmp_path / "failed")
    made.create()
    return made


# The Chase exports name no account; the config says whose they are, as a user's would.
CONFIG = Config(accounts={"Chase checking": AccountSettings(profiles=("chase-checking",))})


def make_inbox(folders: Folders, state: State, settle: float = 0, clock: FakeClock | None = None) -> Inbox:
    importer = inbox_importer(CONFIG, load_rules([Path("rules")]), state, RunSettings(), QUIET, state.path)
    return Inbox(folders, importer, settle=settle, clock=clock or FakeClock(), today=lambda: TODAY)


def ledger_counts(state: State) -> tuple[int, int]:
    return state.db.execute("SELECT count(*), count(DISTINCT external_id) FROM ledger").fetchone()


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_scripted_events_import_and_archive_each_file(folders: Folders, state: State) -> None:
    filed: list[Filed] = []
    dropped = [shutil.copy(sample, folders.inbox) for sample in SAMPLES]
    (folders.inbox / "notes.csv").write_text("just,some\ntext,here\n")
    events = [[], [Path(dropped[0])], [Path(dropped[1]), folders.inbox / "notes.csv"], []]
    watch_loop(make_inbox(folders, state), events, filed.append)
    assert files_under(folders.archive) == ["2026-11/chase-checking-2026-10.csv", "2026-11/checking-2026-10.ofx"]
    assert files_under(folders.failed) == ["notes.csv", "notes.csv.error.txt"]
    assert list(folders.inbox.iterdir()) == []
    assert ledger_counts(state) == (15 + 12, 15 + 12)
    assert [f.error is None for f in filed].count(True) == 2


def test_error_note_says_what_went_wrong_and_how_to_retry(folders: Folders, state: State) -> None:
    (folders.inbox / "notes.csv").write_text("just,some\ntext,here\n")
    drain(make_inbox(folders, state), lambda filed: None)
    note = (folders.failed / "notes.csv.error.txt").read_text()
    assert note == (
        "importer could not import notes.csv:\n\n"
        f"    {folders.inbox / 'notes.csv'}: no parser recognises this file. Known formats: {KNOWN_FORMATS}. "
        "For a CSV from a bank we have no profile for, pass --profile NAME.\n\n"
        "What to do:\n"
        "  - Say its bank layout: `profile: NAME` on the source whose `path:` matches this file in "
        "importer.yaml (`importer detect FILE` suggests one).\n"
        f"Then move notes.csv back into {folders.inbox} and it will be imported.\n"
    )


def test_error_note_names_the_config_key_for_a_missing_currency(tmp_path: Path) -> None:
    filed = tmp_path / "checking.qif"
    error = f"{filed}: QIF does not say its currency. Pass --currency CODE."
    note = write_error_note(filed, error, tmp_path / "inbox").read_text()
    assert note.splitlines()[4:6] == [
        "What to do:",
        "  - Say its currency: `currency: CODE` (ISO 4217, e.g. USD) on the source whose `path:` matches this "
        "file in importer.yaml, or at the top level of importer.yaml for every such file.",
    ]
    assert "--currency" not in note.split("What to do:")[1]


def test_error_note_without_a_known_option_gives_the_generic_advice() -> None:
    assert watch_advice("x.ofx, line 3: the file ends inside a record.") == [
        "If the file is damaged or cut off, download it again; otherwise fix the cause above in importer.yaml."
    ]


def test_a_file_is_imported_only_after_it_stops_changing(folders: Folders, state: State) -> None:
    clock = FakeClock()
    inbox = make_inbox(folders, state, settle=2.0, clock=clock)
    path = folders.inbox / "october.csv"
    write_chase(path, month_lines("2026-10", 1))
    inbox.note([path])
    clock.now = 1.0
    assert inbox.step() == []
    write_chase(path, month_lines("2026-10", 1, count=5))  # still being written: the clock restarts
    path.touch()
    clock.now = 2.5
    assert inbox.step() == []
    clock.now = 5.0
    assert [f.destination for f in inbox.step()] == [folders.archive / "2026-11" / "october.csv"]
    assert ledger_counts(state) == (5, 5)


def test_partial_downloads_and_hidden_files_are_left_alone(folders: Folders, state: State) -> None:
    for name in ("statement.csv.crdownload", "statement.csv.part", ".statement.csv"):
        (folders.inbox / name).write_text("half a file")
    drain(make_inbox(folders, state), lambda filed: None)
    assert sorted(p.name for p in folders.inbox.iterdir()) == [
        ".statement.csv",
        "statement.csv.crdownload",
        "statement.csv.part",
    ]


def test_files_dropped_before_the_observer_started_are_picked_up_at_its_first_tick(
    folders: Folders, state: State
) -> None:
    def ticks() -> Iterator[list[Path]]:
        write_chase(folders.inbox / "early.csv", month_lines("2026-10", 1))  # after the first scan, before any event
        yield []

    watch_loop(make_inbox(folders, state), ticks(), lambda filed: None)
    assert files_under(folders.archive) == ["2026-11/early.csv"]


def test_files_that_arrived_while_down_are_picked_up_at_start(folders: Folders, state: State) -> None:
    for seed in range(3):
        write_chase(folders.inbox / f"file-{seed}.csv", month_lines("2026-10", seed))
    watch_loop(make_inbox(folders, state), [], lambda filed: None)
    assert files_under(folders.archive) == [f"2026-11/file-{seed}.csv" for seed in range(3)]
    assert ledger_counts(state) == (9, 9)


def test_archive_never_overwrites_a_different_file_of_the_same_name(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    first, second = tmp_path / "a" / "s.csv", tmp_path / "b" / "s.csv"
    write_chase(first, month_lines("2026-10", 1))
    write_chase(second, month_lines("2026-10", 2))
    keep = second.read_text()
    assert move_once(first, archive) == archive / "s.csv"
    assert move_once(second, archive) == archive / "s-1.csv"
    assert (archive / "s-1.csv").read_text() == keep and not first.exists() and not second.exists()


def test_an_identical_file_is_archived_once(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    first, again = tmp_path / "a" / "s.csv", tmp_path / "b" / "s.csv"
    write_chase(first, month_lines("2026-10", 1))
    again.parent.mkdir()
    shutil.copy(first, again)
    assert move_once(first, archive) == archive / "s.csv"
    assert move_once(again, archive) is None
    assert files_under(archive) == ["s.csv"] and not again.exists()


def test_the_same_export_dropped_twice_lands_once(folders: Folders, state: State) -> None:
    inbox = make_inbox(folders, state)
    write_chase(folders.inbox / "oct.csv", month_lines("2026-10", 7))
    drain(inbox, lambda filed: None)
    write_chase(folders.inbox / "oct.csv", month_lines("2026-10", 7))
    filed: list[Filed] = []
    drain(inbox, filed.append)
    assert [(f.source, f.destination, f.error, f.copy_removed) for f in filed] == [
        (folders.inbox / "oct.csv", None, None, True)
    ]
    assert filed[0].report is not None and (filed[0].report.parsed, filed[0].report.new, filed[0].report.duplicate) == (
        3,
        0,
        3,
    )
    assert files_under(folders.archive) == ["2026-11/oct.csv"]
    assert ledger_counts(state) == (3, 3)


def drop_many(folders: Folders, state: State, count: int) -> None:
    for seed in range(count):
        write_chase(folders.inbox / f"drop-{seed:04d}.csv", month_lines("2026-10", seed, count=2))
    drain(make_inbox(folders, state), lambda filed: None)
    assert len(files_under(folders.archive)) == count and list(folders.inbox.iterdir()) == []
    assert ledger_counts(state) == (2 * count, 2 * count)


def test_a_hundred_files_dropped_at_once(folders: Folders, state: State) -> None:
    drop_many(folders, state, 100)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("IMPORTER_SLOW") != "1", reason="slow trial: set IMPORTER_SLOW=1")
def test_a_thousand_files_dropped_at_once(folders: Folders, state: State) -> None:
    drop_many(folders, state, 1000)


def test_a_crash_between_import_and_move_files_each_file_once(folders: Folders, state: State) -> None:
    paths = [folders.inbox / f"f{seed}.csv" for seed in range(3)]
    for seed, path in enumerate(paths):
        write_chase(path, month_lines("2026-10", seed))
    make_inbox(folders, state).importer(paths)  # stored, then "killed" before anything moved
    drain(make_inbox(folders, state), lambda filed: None)
    assert files_under(folders.archive) == [f"2026-11/f{seed}.csv" for seed in range(3)]
    assert ledger_counts(state) == (9, 9)


def test_a_file_removed_before_it_is_filed_is_reported_not_fatal(folders: Folders, state: State) -> None:
    inbox = make_inbox(folders, state)
    importer = inbox.importer

    def import_then_lose(files: Sequence[Path]) -> list[FileReport]:
        reports = importer(files)
        (folders.inbox / "gone.csv").unlink()  # the user deleted it while it was being imported
        return reports

    inbox.importer = import_then_lose
    write_chase(folders.inbox / "gone.csv", month_lines("2026-10", 1))
    write_chase(folders.inbox / "kept.csv", month_lines("2026-10", 2))
    filed: list[Filed] = []
    drain(inbox, filed.append)
    assert [(f.source.name, f.error) for f in filed] == [
        ("gone.csv", "the file was removed from the inbox before it could be filed."),
        ("kept.csv", None),
    ]
    assert files_under(folders.archive) == ["2026-11/kept.csv"]


def test_an_event_naming_the_real_path_of_a_symlinked_inbox_is_one_file(
    folders: Folders, state: State, tmp_path: Path
) -> None:
    link = tmp_path / "linked-inbox"
    link.symlink_to(folders.inbox)
    inbox = make_inbox(Folders(link, folders.archive, folders.failed), state)
    write_chase(folders.inbox / "oct.csv", month_lines("2026-10", 1))
    inbox.scan()
    inbox.note([folders.inbox / "oct.csv"])
    assert list(inbox.pending) == [link / "oct.csv"]
    assert [f.error for f in inbox.step()] == [None]


def test_a_file_rewritten_during_its_import_is_imported_again_before_it_is_filed(
    folders: Folders, state: State
) -> None:
    inbox = make_inbox(folders, state)
    importer, path = inbox.importer, folders.inbox / "oct.csv"

    def import_while_rewritten(files: Sequence[Path]) -> list[FileReport]:
        reports = importer(files)
        if len(list(state.db.execute("SELECT 1 FROM ledger"))) == 3:
            write_chase(path, month_lines("2026-10", 1, count=4))  # the download finished only now
            os.utime(path, ns=(1, 1))
        return reports

    inbox.importer = import_while_rewritten
    write_chase(path, month_lines("2026-10", 1))
    filed: list[Filed] = []
    drain(inbox, filed.append)
    assert [f.source.name for f in filed] == ["oct.csv"] and files_under(folders.archive) == ["2026-11/oct.csv"]
    assert ledger_counts(state) == (4, 4)


def test_a_file_no_event_named_is_found_by_the_periodic_rescan(folders: Folders, state: State) -> None:
    clock = FakeClock()
    inbox = make_inbox(folders, state, clock=clock)

    def ticks() -> Iterator[list[Path]]:
        yield []  # the observer is running
        write_chase(folders.inbox / "unannounced.csv", month_lines("2026-10", 1))
        yield []  # ... but dropped the event for that file
        assert files_under(folders.archive) == []
        clock.now = 61.0
        yield []

    watch_loop(inbox, ticks(), lambda filed: None, rescan=60.0)
    assert files_under(folders.archive) == ["2026-11/unannounced.csv"]


def test_watch_once_from_the_command_line_exits_1_when_a_file_failed(runner: CliRunner, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_chase(inbox / "oct.csv", month_lines("2026-10", 1))
    (inbox / "notes.txt").write_text("not a statement\n")
    args = ["watch", str(inbox), "--once", "--settle", "0", "--state", str(tmp_path / "state.sqlite")]
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    archived = tmp_path / "archive" / dt.date.today().strftime("%Y-%m") / "oct.csv"
    assert result.stdout == f"imported: oct.csv -> {archived} (3 parsed, 3 new, 0 duplicate)\n"
    assert f"\nfailed: notes.txt -> {tmp_path / 'failed' / 'notes.txt'}: " in result.stderr
    write_chase(inbox / "nov.csv", month_lines("2026-11", 1))
    assert runner.invoke(main, args).exit_code == 0


def test_watch_without_an_inbox_says_how_to_name_one(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user importer.yaml
    result = runner.invoke(main, ["watch", "--once"])
    assert result.exit_code == 2
    assert result.output == "error: no inbox folder is configured. Add `inbox: PATH` to importer.yaml or pass INBOX.\n"


def test_an_archive_that_cannot_be_written_leaves_the_file_in_the_inbox(folders: Folders, state: State) -> None:
    write_chase(folders.inbox / "oct.csv", month_lines("2026-10", 1))
    (folders.archive / "2026-11").write_text("a file where the month folder should be\n")
    filed: list[Filed] = []
    drain(make_inbox(folders, state), filed.append)
    assert [f.error.split(":")[0] for f in filed if f.error] == ["imported, but could not be filed away"]
    assert (folders.inbox / "oct.csv").exists() and ledger_counts(state) == (3, 3)
