"""What a small CSV import imports: the CSV reader and nothing of the other formats or services.

Start-up time (issue 16: a 20-row import under 0.5 s) is mostly imports, so the boundary is pinned
here as a set of modules, never as a time: a real `importer run` of a Chase sample into the local
target, in a fresh interpreter, must not load the OFX, camt, MT940 or QIF readers (the parser
registry imports only the parser that claims the file), httpx, FastAPI, uvicorn or the sandbox,
any target module but the local ledger's (the target registry names its modules, importer/targets),
rich's table and progress bar (drawn only on a terminal), or the PostgreSQL store (the state is a file).
Nor pandas and numpy: a table under 1 MiB is read by the csv module and its dates in plain Python
(importer/parsers/csv/detect.py `read_grid`, importer/parsers/dates.py), for a bank profile as for
a layout detected from the cells, whose date format is then inferred.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from importer.internals.lazy import imported
from importer.parsers import FORMATS, REGISTRY, FileSample, ParseOptions
from importer.targets import REGISTRY as TARGETS_REGISTRY
from importer.targets import TARGETS
from importer.targets.local import LocalLedger
from tests.golden import ROOT, sample_files

CHASE = "samples/csv/chase/chase-checking-2026-10.csv"
NEVER_FOR_A_CSV = (
    "pandas",
    "numpy",
    "importer.parsers.ofx",
    "importer.parsers.camt",
    "importer.parsers.mt940",
    "importer.parsers.qif",
    "importer.sandbox",
    "httpx",
    "fastapi",
    "uvicorn",
    # The six services' modules: the target registry imports only the configured target's.
    "importer.targets.remote",
    "importer.targets.http",
    "importer.targets.limits",
    "importer.targets.wallet",
    "importer.targets.wallet_v1",
    "importer.targets.duitmyself",
    "importer.targets.pocketsmith",
    "importer.targets.toshl",
    "importer.targets.spendsense",
    # A `--json` run draws no table and no progress bar (no terminal either).
    "rich.table",
    "rich.progress",
    # The run lock of an SQLite state is flock (importer/run/lock.py); filelock is its reference.
    "filelock",
    # An SQLite state: the PostgreSQL store and its driver load only for a postgresql:// state
    # (importer/store/locate.py, importer/store/copy.py).
    "importer.store.postgres",
    "importer.store.postgres_workers",
    "psycopg",
)
# Runs `importer run` as the command line does, then lists what the interpreter imported.
RUN_THEN_LIST = """
import json, sys
from importer.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    print(json.dumps({"exit": done.code, "modules": sorted(sys.modules)}))
"""
IDENTIFY_THEN_LIST = """
import json, sys
from pathlib import Path
import importer.cli.run_cmd
from importer.parsers import ParseOptions, identify
print(json.dumps({"parser": identify(Path(sys.argv[1]), ParseOptions()).name, "modules": sorted(sys.modules)}))
"""


def _child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    """The JSON the last line of a fresh interpreter running `code` prints (cwd: this checkout)."""
    command = [sys.executable, "-c", code, *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True, env=env)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _among(modules: object, prefixes: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_a_csv_import_into_local_loads_no_other_format_and_no_http(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    run = _child(RUN_THEN_LIST, "run", CHASE, "--target", "local", "--state", state, "--json")
    assert run["exit"] == 0
    assert _among(run["modules"], NEVER_FOR_A_CSV) == []
    # It did read the file with the streaming CSV reader, and stored it in the state.
    assert _among(run["modules"], ("importer.parsers.csv.streaming", "importer.targets.local")) == [
        "importer.parsers.csv.streaming",
        "importer.targets.local",
    ]
    assert (tmp_path / "state.sqlite").stat().st_size > 0


def test_a_summary_printed_off_a_terminal_loads_no_rich_nor_the_postgresql_lock(tmp_path: Path) -> None:
    # stdout is a pipe: the summary is plain lines (importer/cli/console.py), and an SQLite state
    # takes its run lock without importer/store/postgres_lock.py.
    state = str(tmp_path / "state.sqlite")
    plain = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    run = _child(RUN_THEN_LIST, "run", CHASE, "--target", "local", "--state", state, env=plain)
    assert run["exit"] == 0
    assert _among(run["modules"], ("rich", "importer.store.postgres_lock")) == []


def test_a_csv_of_a_layout_no_profile_knows_is_detected_and_imported_without_pandas(tmp_path: Path) -> None:
    statement = tmp_path / "unknown-bank.csv"
    statement.write_text(
        "Booked,Text,Sum,Left\n30.10.2026,COFFEE ROASTERS,-4.50,95.50\n28.10.2026,SALARY ACME,100.00,100.00\n",
        encoding="utf-8",
    )
    state = str(tmp_path / "state.sqlite")
    argv = ["run", str(statement), "--target", "local", "--state", state, "--account", "Mine", "--currency", "EUR"]
    run = _child(RUN_THEN_LIST, *argv, "--json")
    assert run["exit"] == 0
    assert _among(run["modules"], NEVER_FOR_A_CSV) == []
    assert _among(run["modules"], ("importer.parsers.csv.streaming",)) == ["importer.parsers.csv.streaming"]


def test_identifying_a_csv_imports_neither_pandas_nor_another_reader() -> None:
    found = _child(IDENTIFY_THEN_LIST, CHASE)
    assert found["parser"] == "csv"
    assert _among(found["modules"], ("pandas", "numpy", *NEVER_FOR_A_CSV)) == []


def test_the_target_registry_imports_an_entry_on_lookup_and_keeps_what_a_test_sets() -> None:
    assert list(TARGETS_REGISTRY) == list(TARGETS) and len(TARGETS_REGISTRY) == 7
    assert TARGETS_REGISTRY["local"] is LocalLedger
    for name, path in TARGETS.items():
        assert path.startswith("importer.targets.") and TARGETS_REGISTRY[name] is imported(path)
        assert TARGETS_REGISTRY[name].name == name or name == "local"
    TARGETS_REGISTRY["stand-in"] = LocalLedger
    assert TARGETS_REGISTRY.pop("stand-in") is LocalLedger and "stand-in" not in TARGETS_REGISTRY


def test_every_format_claims_exactly_what_its_reader_identifies() -> None:
    # identify() asks FORMATS' claims, the readers' identify() is what other code calls: one answer.
    samples = [FileSample.read(path, ParseOptions()) for path in sample_files()]
    assert len(samples) > 40
    for sample in samples:
        claimed = {name for name, known in FORMATS.items() if known.claims(sample)}
        identified = {name for name in FORMATS if REGISTRY[name].identify(sample)}
        assert claimed == identified and len(claimed) == 1, sample.path


def test_the_registry_names_parsers_of_the_parsers_floor_under_their_format() -> None:
    # The lazy references obey the layout rule a plain import would (tests/test_layout.py).
    for name, known in FORMATS.items():
        assert known.claim.startswith("importer.parsers.") and known.parser.startswith("importer.parsers.")
        assert imported(known.parser).name == name == REGISTRY[name].name
        assert REGISTRY[name] is REGISTRY[name]  # built once: a test may patch it


def test_copying_an_sqlite_state_into_another_sqlite_file_loads_no_postgresql(tmp_path: Path) -> None:
    # `state migrate` between two files: the copy tells the engines apart without loading the
    # PostgreSQL store and its driver (importer/store/copy.py `side`).
    source, copy = str(tmp_path / "state.sqlite"), str(tmp_path / "copy.sqlite")
    assert _child(RUN_THEN_LIST, "run", CHASE, "--target", "local", "--state", source, "--json")["exit"] == 0
    migrated = _child(RUN_THEN_LIST, "state", "migrate", "--state", source, "--to", copy)
    assert migrated["exit"] == 0
    assert _among(migrated["modules"], ("importer.store.postgres", "psycopg")) == []
    assert (tmp_path / "copy.sqlite").stat().st_size > 0
