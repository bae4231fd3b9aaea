"""A dry run counts what the real run stores: per file, new, duplicate and held are the same,
also when files of one run overlap (the dry run remembers what it would have stored:
`pipeline.DryRunMemory`), and the dry run leaves the state as it found it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from importer.config.settings import default_currency, load_config
from importer.core.accounts import AccountSpec
from importer.parsers import ParseOptions
from importer.reports.summary import RunReport
from importer.rules import RuleSet, load_rules
from importer.run.pipeline import RunSettings, run
from importer.store.sqlite import State
from tests.crash_harness import write_inputs
from tests.golden import ROOT
from tests.statements import Line, chase_csv, day, ofx

CHASE = (AccountSpec("Chase checking", profiles=("chase-checking",)),)
Counts = dict[str, tuple[int, int, int, int, bool]]


def counts(report: RunReport) -> Counts:
    """Per file: parsed, new, duplicate, held, and whether it failed."""
    return {Path(f.path).name: (f.parsed, f.new, f.duplicate, f.held, f.error is not None) for f in report.files}


def table_sizes(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables if t not in ("runs", "quiet_runs")
        }


def dry_then_real(state_path: Path, paths: list[Path], settings: RunSettings, rules: RuleSet) -> tuple[Counts, Counts]:
    before = table_sizes(state_path) if state_path.exists() else None
    with State(state_path) as state:
        dry = run(paths, rules, state, RunSettings(**{**settings.__dict__, "dry_run": True}))
    if before is not None:
        assert table_sizes(state_path) == before  # the dry run stored nothing
    with State(state_path) as state:
        real = run(paths, rules, state, settings)
    return counts(dry), counts(real)


def test_two_overlapping_chase_exports_and_an_ofx(tmp_path: Path) -> None:
    files = write_inputs(tmp_path)
    dry, real = dry_then_real(tmp_path / "state.sqlite", files, RunSettings(accounts=CHASE), RuleSet(()))
    assert dry == real
    # The second export shares the days 10-15 with the first: 6 shops, 3 coffees and the transfer.
    assert real["checking-early.csv"] == (21, 21, 0, 0, False)
    assert real["checking-late.csv"] == (23, 13, 10, 0, False)


def test_overlapping_exports_after_an_earlier_import(tmp_path: Path) -> None:
    early, late, savings = write_inputs(tmp_path)
    state_path = tmp_path / "state.sqlite"
    with State(state_path) as state:
        run([early], RuleSet(()), state, RunSettings(accounts=CHASE))
    again = chase_csv(
        tmp_path / "checking-late-again.csv", [Line(day(n), f"-{10 + n}.25", f"SHOP {n}") for n in range(20, 30)]
    )
    dry, real = dry_then_real(state_path, [late, again, savings], RunSettings(accounts=CHASE), RuleSet(()))
    assert dry == real
    assert real["checking-late-again.csv"][1:3] == (1, 9)  # only the 29th is new


def test_a_csv_and_an_ofx_of_the_same_account(tmp_path: Path) -> None:
    """The OFX of the month after its CSV: other-format duplicates, one held as probable (same
    amount, another description), and its own new lines."""
    lines = [Line(day(n), f"-{20 + n}.10", f"GROCER {n}") for n in range(1, 11)]
    csv = chase_csv(tmp_path / "a-checking.csv", lines)
    other = [Line(ln.day, ln.amount, ln.description + " STORE") for ln in lines[:8]]
    other += [Line(day(9), "-29.10", "PARKING GARAGE"), Line(day(20), "-5.00", "NEW LINE")]
    statement = ofx(tmp_path / "b-checking.ofx", other)
    settings = RunSettings(accounts=CHASE, parse=ParseOptions(account="Chase checking"))
    dry, real = dry_then_real(tmp_path / "state.sqlite", [csv, statement], settings, RuleSet(()))
    assert dry == real
    assert real["b-checking.ofx"] == (10, 1, 8, 1, False)


def test_the_samples_folder_twice(tmp_path: Path) -> None:
    """Every sample, then the samples again in the same run (each file overlaps itself)."""
    samples = ROOT / "samples"
    config = load_config(ROOT / "importer.yaml")  # the samples' accounts and the QIF's currency
    rules = load_rules([ROOT / "rules"])
    settings = RunSettings(accounts=config.account_specs(), default_currency=default_currency(config))
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in sorted(samples.rglob("*")):
        if path.is_file() and path.suffix.lower() not in (".md", ".json", ".yaml", ".golden"):
            (copy / f"again-{path.name}").write_bytes(path.read_bytes())
    dry, real = dry_then_real(tmp_path / "state.sqlite", [samples, copy], settings, rules)
    assert dry == real
    assert not [name for name, c in real.items() if c[4]]  # every sample was read
    originals = {name: c for name, c in real.items() if not name.startswith("again-")}
    # As `importer run samples/` counts them (the README): bunq's two exports of one account overlap.
    assert sum(c[1] for c in originals.values()) == 284 and sum(c[2] for c in originals.values()) == 6
    for name, (parsed, _new, _duplicate, _held, _) in originals.items():  # each copy: all of it duplicate
        assert real["again-" + name] == (parsed, 0, parsed, 0, False)
