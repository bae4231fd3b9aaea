"""The benchmark machinery, run on tiny statements so that `python -m benchmarks` cannot rot.

Nothing here asserts a speed: the figures of a shared machine vary; what is asserted is that each
figure is measured and carried to the tables and the saved results.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks import generate, results, stages, workers
from benchmarks.__main__ import SHIPPED_RULES, compiled_env, main, stage_jobs
from benchmarks.child import measure
from benchmarks.compare import write_hledger_rules, write_our_rules
from benchmarks.data import data_file
from benchmarks.startup import timed_runs
from benchmarks.table import Result, disk_grid, growth, ratio, render_markdown, render_text
from benchmarks.where import STEPS, profile_run, step_seconds
from importer.core.batch import TxBatch
from importer.rules.engine import RuleSet
from tests import pgserver


def test_tiny_run_times_stages_disk_and_start_up_and_saves(tmp_path: Path) -> None:
    markdown, saved = tmp_path / "bench.md", tmp_path / "after.json"
    argv = [
        "--sizes",
        "200",
        "--no-compare",
        "--data",
        str(tmp_path / "data"),
        "--markdown",
        str(markdown),
        "--only",
        "parse chase",
        "rules (chase",
        "end to end",
        "import importer",
        "--limit",
        "120",
        "--repeat",
        "2",
        "--save",
        str(saved),
    ]
    found = main(argv)
    assert [r.name for r in found] == [
        'python -c "import importer"',
        "parse chase.csv",
        "rules (chase.csv)",
        "end to end: importer run, 100 rules",
    ]
    startup, *stages = found
    assert startup.best_seconds and startup.seconds and startup.best_seconds <= startup.seconds
    assert all(r.rows == 200 and r.rate and r.cpu_rate and r.peak_mb for r in stages), stages
    end = stages[-1]
    assert end.db_growth_bytes and end.db_growth_bytes > 200 * 50  # every transaction is stored
    assert end.written_bytes and end.written_bytes >= end.db_growth_bytes  # the database was written to disk
    text = markdown.read_text()
    assert "| parse chase.csv | " in text and "| end to end: importer run, 100 rules | 200 |" in text
    assert results.load(saved)[1] == found


def test_compare_prints_before_and_after_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = [
        Result("parse chase.csv", 1000, 1000, 1.0, 90, None, 1.0),
        Result("store", 1000, None, None, None, "failed: x"),
    ]
    after = [Result("parse chase.csv", 1000, 1000, 1.0, 80, None, 0.25)]
    old, new = results.save(tmp_path / "before.json", before), results.save(tmp_path / "after.json", after)
    main(["--compare", str(old), "--after", str(new), "--markdown", str(tmp_path / "cmp.md")])
    printed = capsys.readouterr().out
    assert "1,000 / 1,000 (90 MB)" in printed and "1,000 / 4,000 (80 MB)" in printed and "4.00x" in printed
    assert "| store | 1,000 | failed: x | not run | - |" in (tmp_path / "cmp.md").read_text()


def test_disk_figures_per_transaction_and_per_byte_of_growth() -> None:
    run = Result("end to end", 1000, 1000, 2.0, 90, None, 1.5, written_bytes=900_000, db_growth_bytes=300_000)
    assert run.bytes_per_txn == 300 and run.write_ratio == 3.0
    assert disk_grid([run])[1] == ["end to end", "1,000", "300", "0.9", "0.3", "3.00x"]


def test_the_parent_reads_what_the_child_wrote_before_reaping_it(tmp_path: Path) -> None:
    code = f"open({str(tmp_path / 'out')!r}, 'wb').write(b'x' * 3_000_000)"
    done = measure([sys.executable, "-c", code], 60)
    assert done.returncode == 0 and done.written_bytes is not None and done.written_bytes >= 3_000_000


def test_start_up_takes_best_and_median_of_fresh_processes() -> None:
    found = timed_runs("python -c pass", lambda i: [sys.executable, "-c", "pass"], 3, {})
    assert found.kind == "startup" and found.best_seconds and found.seconds and found.best_seconds <= found.seconds
    assert "python -c pass" in render_text([found])


def test_generated_statement_is_streamed_newest_first_and_keyed_by_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = data_file("chase.csv", 250, tmp_path / "whole")
    monkeypatch.setattr(generate, "CHUNK", 40)  # spilled and reversed in 7 chunks: the same file
    chunked = data_file("chase.csv", 250, tmp_path / "chunked")
    assert whole.name == f"chase-250-g{generate.VERSION}.csv" and whole.read_text() == chunked.read_text()
    lines = whole.read_text().splitlines()
    assert lines[0] == generate.CHASE_HEADER and len(lines) == 251 and list(chunked.parent.iterdir()) == [chunked]
    assert (
        lines[1].split(",")[1] == "01/08/2020" and lines[-1].split(",")[1] == "01/02/2020"
    )  # 40 rows a day, newest first


def test_a_10m_row_statement_ends_within_the_years_a_bank_date_may_have() -> None:
    # 40 a day up to 1M rows (the files measured before are unchanged), 400 a day at 10M: its last
    # day is 25,000 days after 2020-01-02, not in year 2704, which the parser refuses.
    for count, per_day in ((1_000_000, 40), (10_000_000, 400)):
        days = [row.day for row in itertools.islice(generate.rows(count), per_day + 1)]
        assert days[:per_day] == [dt.date(2020, 1, 2)] * per_day and days[per_day] == dt.date(2020, 1, 3)
    assert dt.date(2020, 1, 1) + dt.timedelta(days=25_000) <= dt.date(2088, 6, 30)


def test_the_uploads_statement_is_the_chase_one_held_to_past_days(tmp_path: Path) -> None:
    # The services refuse a date more than a day ahead; the 1M Chase statement runs to 2088.
    past, chase = data_file("chase-past.csv", 250, tmp_path), data_file("chase.csv", 250, tmp_path)
    assert past.name == f"chase-past-250-g{generate.VERSION}.csv" and past.read_text() == chase.read_text()
    [upload] = [job for job in stage_jobs(250, tmp_path, 60, "wallet") if job.name.startswith("upload")]
    assert str(past) in upload.command()
    # Up to 100k rows it is the Chase statement itself (whose figures are compared across stops);
    # above, more rows a day end it on the 100k statement's last day, in the past.
    assert [generate.rows_per_day(n, generate.PAST_DAYS) for n in (100_000, 1_000_000, 10_000_000)] == [40, 400, 4000]
    last = generate.FIRST_DAY + dt.timedelta(days=generate.PAST_DAYS)
    assert last == dt.date(2026, 11, 5) < dt.datetime.now(dt.UTC).date()
    days = [row.day for row in generate.rows(5_000, days=30)]  # 167 a day
    assert days[166] == days[0] == dt.date(2020, 1, 2) < days[167] and days[-1] <= dt.date(2020, 1, 31)


def test_the_rules_stage_times_the_batches_the_import_categorises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chase, sent = data_file("chase.csv", 250, tmp_path), []
    apply_batch = RuleSet.apply_batch

    def counted(rules: RuleSet, batch: TxBatch) -> tuple[TxBatch, list[bool]]:
        sent.append(len(batch))
        return apply_batch(rules, batch)

    monkeypatch.setattr(RuleSet, "apply_batch", counted)
    rows, seconds = stages.stage_rules(chase, SHIPPED_RULES)
    assert rows == sum(sent) == 250 and seconds > 0
    # The whole-file reference is kept, as parse_whole and ids_whole are.
    assert stages.stage_rules_whole(chase, SHIPPED_RULES)[0] == 250 and sum(sent) == 250


def test_growth_compares_time_with_rows() -> None:
    found = [Result("parse", 10_000, 10_000, 2.0, 90, None), Result("parse", 100_000, 100_000, 25.0, 200, None)]
    assert growth(found, "parse") == "12.5x time for 10x rows"


def test_ratio_of_a_reference_that_did_not_finish_is_a_bound() -> None:
    ours = Result("parse sgml.ofx", 100_000, 100_000, 4.0, 90, None)
    theirs = Result("ofxparse sgml.ofx", 100_000, None, None, None, "did not finish in 120 s")
    assert ratio(ours, theirs) == "> 30.0x (did not finish in 120 s)"
    assert "did not finish in 120 s" in render_markdown([ours, theirs])


def test_ratio_is_of_cpu_rates_when_both_sides_have_one() -> None:
    ours = Result("end to end", 100_000, 100_000, 90.0, 500, None, 25.0)  # 4,000 rows per CPU second
    theirs = Result("hledger print", 100_000, 100_000, 150.0, 800, None, 150.0)  # wall says 1.7x
    assert ratio(ours, theirs) == "6.0x"


def test_rule_files_name_the_same_merchants(tmp_path: Path) -> None:
    ours = write_our_rules(tmp_path / "r.yaml", 10).read_text()
    theirs = write_hledger_rules(tmp_path / "r.rules", 10).read_text()
    assert ours.count("- id: m") == theirs.count("\nif %description ") == 10
    assert '"TRADER JOE\'S"' in ours and "if %description TRADER JOE'S" in theirs


def test_where_the_time_goes_names_every_step_of_a_real_run() -> None:
    stats = profile_run(Path("samples/csv/chase/chase-checking-2026-10.csv"), Path("rules"), "local")
    seconds = dict(step_seconds(stats))
    assert list(seconds) == [label for label, _, _ in STEPS]
    # Transfers are paired only when another account is known (file_import._store): with one, none runs.
    assert seconds.pop("transfers") == 0
    assert all(value > 0 for value in seconds.values()), seconds  # each other step was found and ran


# many workers and kill trials (benchmarks/workers.py, benchmarks/trials.py) ---------------------------


def test_workers_and_kill_trials_run_checked_on_postgresql_and_are_saved(
    tmp_path: Path, pg_server: pgserver.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORTER_TEST_PG", pg_server.url)  # the session's server, not a second one
    markdown, saved = tmp_path / "workers.md", tmp_path / "workers.json"
    sizes = ["--files", "8", "--file-rows", "5", "--workers", "2", "--trials", "2", "--trial-files", "6"]
    rest = ["--data", str(tmp_path / "data"), "--no-startup", "--markdown", str(markdown), "--save", str(saved)]
    found = main(["--only", "workers", "trials", *sizes, *rest])
    sqlite, pg, trials = found
    assert [r.name for r in (sqlite, pg)] == ["workers: SQLite, 1 worker", "workers: PostgreSQL, 2 workers"]
    for run in (sqlite, pg):  # checked: every file archived once, the SQLite run's ids, none twice
        assert run.note is None and run.rows == 40 and run.files == 8, run.note
        assert run.seconds and run.cpu_seconds and run.peak_mb
    assert trials.kind == "trials" and trials.size == 2 and trials.note and trials.note.startswith("0 failed; kills ")
    text = markdown.read_text()
    assert (
        "| workers: PostgreSQL, 2 workers (8 x 5) | " in text
        and "| kill trials: 4 workers, 6 files x 5 rows | 2 |" in text
    )
    assert results.load(saved)[1] == found


def test_a_run_check_names_files_not_archived_once_and_ids_lost_or_twice(tmp_path: Path) -> None:
    inbox = workers.write_inbox(tmp_path / "made", 3, 2)
    run = workers.prepare(inbox, tmp_path / "run")
    (run.archive / "2026-12").mkdir(parents=True)
    (run.inbox / "s0000-a00.csv").rename(run.archive / "2026-12" / "s0000-a00.csv")
    (run.inbox / "s0001-a01.csv").rename(run.archive / "2026-12" / "s0001-a01-1.csv")  # a second copy's name
    found = workers.problems(run, inbox, ["a", "b", "b", "c", "d"], ["a", "b", "c", "d", "e", "f"])
    assert found == [
        "archive: 2 file(s) missing, 1 extra (e.g. ['s0001-a01-1.csv'])",
        "1 file(s) left in the inbox (e.g. ['s0002-a02.csv'])",
        "5 transactions stored, 6 generated",
        "1 external id(s) stored twice",
        "the ids differ from the reference run's: 2 missing, 0 not in it",
    ]


def test_the_generated_inbox_interleaves_accounts_and_chains_each_accounts_balance(tmp_path: Path) -> None:
    inbox = workers.write_inbox(tmp_path / "inbox", workers.ACCOUNTS + 1, 3)
    assert inbox.names[:3] == ["s0000-a00.csv", "s0001-a01.csv", "s0002-a02.csv"] and inbox.total_rows == 63
    first, second = (_lines(inbox.folder / name) for name in ("s0000-a00.csv", "s0020-a00.csv"))
    assert first[0] == generate.CHASE_HEADER and len(first) == 4  # header, then newest first
    closing, opening = first[1].split(",")[5], second[-1].split(",")
    assert Decimal(closing) + Decimal(opening[3]) == Decimal(opening[5])  # the next file goes on from it
    assert _day(opening[1]) > _day(first[1].split(",")[1])  # later: an account's files never share a day


def _day(text: str) -> dt.date:
    month, day, year = map(int, text.split("/"))
    return dt.date(year, month, day)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_the_servers_cpu_time_is_read_from_its_processes(pg_server: pgserver.Server) -> None:
    if pg_server.folder is None:
        assert workers.server_cpu(pg_server) is None  # a server of the environment's: not ours to read
        return
    before = workers.server_cpu(pg_server)
    with workers.fresh_schema(pg_server, "bench_cpu_probe") as url:
        assert workers.stored_ids(url) == []
    after = workers.server_cpu(pg_server)
    assert before is not None and after is not None and after > 0 and after >= before


def test_the_timed_children_read_our_bytecode_compiled_once(tmp_path: Path) -> None:
    # PYTHONDONTWRITEBYTECODE would make every end-to-end run compile the package again.
    env = compiled_env(tmp_path)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    compiled = list((tmp_path / "bytecode").rglob("importer/run/pipeline.*.pyc"))  # the prefix mirrors the tree
    assert len(compiled) == 1
