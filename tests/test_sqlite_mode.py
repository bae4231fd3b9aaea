"""The command line runs SQLite without memory statistics (importer/internals/sqlite_mode.py):
set only in a process that has opened nothing yet.

Each case runs in a fresh interpreter: the setting is the process's, and this test process has
databases open.  Memory statistics are the observable: with them on, an open connection shows
memory in use; off, SQLite reports none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.golden import ROOT

CHASE = "samples/csv/chase/chase-checking-2026-10.csv"
MEMORY_USED = """
import ctypes, _sqlite3
library = ctypes.CDLL(_sqlite3.__file__)
library.sqlite3_memory_used.restype = ctypes.c_int64
def memory_used():
    return library.sqlite3_memory_used()
"""


def _child(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", MEMORY_USED + code, *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_process_that_opened_nothing_takes_the_setting_once() -> None:
    found = _child("""
import json, sqlite3
from importer.internals.sqlite_mode import no_memory_statistics
took = no_memory_statistics()
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t (x)")
db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(1000)])
print(json.dumps({"took": took, "again": no_memory_statistics(), "used": memory_used(),
                  "rows": db.execute("SELECT count(*) FROM t").fetchone()[0]}))
""")
    assert found == {"took": True, "again": False, "used": 0, "rows": 1000}


def test_a_process_with_a_database_open_is_left_as_it_is() -> None:
    found = _child("""
import json, sqlite3
from importer.internals.sqlite_mode import no_memory_statistics
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t (x)")
took = no_memory_statistics()
db.execute("INSERT INTO t VALUES (1)")
print(json.dumps({"took": took, "used": memory_used() > 0, "rows": db.execute("SELECT count(*) FROM t").fetchone()[0]}))
""")
    assert found == {"took": False, "used": True, "rows": 1}


def test_the_command_line_runs_an_import_without_them(tmp_path: Path) -> None:
    found = _child(
        """
import json, sqlite3, sys
from importer.cli import command_line
try:
    command_line()
except SystemExit as done:
    db = sqlite3.connect(sys.argv[-2])
    stored = db.execute("SELECT count(*) FROM transactions").fetchone()[0]
    print(json.dumps({"exit": done.code, "stored": stored, "used": memory_used()}))
""",
        "run",
        CHASE,
        "--target",
        "local",
        "--state",
        str(tmp_path / "state.sqlite"),
        "--json",
    )
    assert found == {"exit": 0, "stored": 12, "used": 0}


def test_importing_the_package_leaves_sqlite_as_it_is() -> None:
    # A library user may have databases open: only the command line's entry point changes SQLite.
    found = _child("""
import json, sqlite3
import importer, importer.api, importer.cli
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t (x)")
print(json.dumps({"used": memory_used() > 0}))
""")
    assert found == {"used": True}


def test_help_opens_no_database_and_loads_neither_ctypes_nor_sqlite() -> None:
    # The setting is made when the first database is opened, so a command that opens none pays
    # nothing for it (start-up: issue 16).
    code = """
import json, sys
from importer.cli import command_line
try:
    command_line()
except SystemExit as done:
    print(json.dumps({"exit": done.code, "loaded": sorted({"ctypes", "_sqlite3", "sqlite3"} & set(sys.modules))}))
"""
    done = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"exit": 0, "loaded": []}
