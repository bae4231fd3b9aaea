"""The benchmark machinery, run on a tiny statement so that `python -m benchmarks` cannot rot."""

from __future__ import annotations

from pathlib import Path

from benchmarks.__main__ import main
from benchmarks.compare import write_hledger_rules, write_our_rules
from benchmarks.table import Result, growth, ratio, render_markdown
from benchmarks.where import STEPS, profile_run, step_seconds


def test_tiny_run_times_stages_and_writes_markdown(tmp_path: Path) -> None:
    markdown = tmp_path / "bench.md"
    argv = ["--sizes", "200", "--no-compare", "--data", str(tmp_path / "data"), "--markdown", str(markdown),
            "--only", "parse chase", "rules (chase", "end to end", "--limit", "120"]  # fmt: skip
    results = main(argv)
    assert [r.name for r in results] == ["parse chase.csv", "rules (chase.csv)", "end to end: importer run, shipped rules"]
    assert all(r.rows == 200 and r.rate and r.peak_mb for r in results), results
    assert "| parse chase.csv | " in markdown.read_text()


def test_growth_compares_time_with_rows() -> None:
    results = [Result("parse", 10_000, 10_000, 2.0, 90, None), Result("parse", 100_000, 100_000, 25.0, 200, None)]
    assert growth(results, "parse") == "12.5x time for 10x rows"


def test_ratio_of_a_reference_that_did_not_finish_is_a_bound() -> None:
    ours = Result("parse sgml.ofx", 100_000, 100_000, 4.0, 90, None)
    theirs = Result("ofxparse sgml.ofx", 100_000, None, None, None, "did not finish in 120 s")
    assert ratio(ours, theirs) == "> 30.0x (did not finish in 120 s)"
    assert "did not finish in 120 s" in render_markdown([ours, theirs])


def test_rule_files_name_the_same_merchants(tmp_path: Path) -> None:
    ours = write_our_rules(tmp_path / "r.yaml", 10).read_text()
    theirs = write_hledger_rules(tmp_path / "r.rules", 10).read_text()
    assert ours.count("- id: m") == theirs.count("\nif %description ") == 10
    assert '"TRADER JOE\'S"' in ours and "if %description TRADER JOE'S" in theirs


def test_where_the_time_goes_names_every_step_of_a_real_run() -> None:
    stats = profile_run(Path("samples/csv/chase/chase-checking-2026-10.csv"), Path("rules"), "local")
    seconds = dict(step_seconds(stats))
    assert list(seconds) == [label for label, _, _ in STEPS]
    assert all(value > 0 for value in seconds.values()), seconds  # each step was found and ran
