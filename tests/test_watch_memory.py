"""A long-running watcher does not grow: what one run learns is dropped before the next.

Found by the workers benchmark (a watcher's peak memory grew with every file it had imported).
The cause was the rule set's batch caches (plans, value codes, signature scans: importer/rules/
plans.py), kept across batches on purpose and capped only at a few hundred thousand entries, so
a watcher, whose rule set lives as long as it does, grew by about 50 KB per 100 rows imported.
The bound below is on Python's traced memory, not on time: what is measured is what is kept.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import tracemalloc
from decimal import Decimal
from pathlib import Path

from importer.config.settings import AccountSettings, Config
from importer.config.state_location import PgUrl
from importer.rules import load_rules
from importer.run.claims import Claimer
from importer.run.pipeline import RunSettings
from importer.run.routine import inbox_importer
from importer.run.watch import Folders, Inbox
from importer.store.postgres import PostgresStore
from importer.store.sqlite import State
from tests.inbox_statements import Line, write_chase

QUIET = logging.getLogger("tests.watch_memory")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False
CONFIG = Config(accounts={"Chase checking": AccountSettings(profiles=("chase-checking",))})
ROWS = 80  # per file, each row's description new: what a cache keyed by text would keep
WARM, RUNS = 6, 30


def test_a_watcher_keeps_nothing_per_run(tmp_path: Path) -> None:
    folders = Folders(tmp_path / "inbox", tmp_path / "archive", tmp_path / "failed")
    folders.create()
    rules = load_rules([Path("rules")])
    with State(tmp_path / "state.db") as state:
        importer = inbox_importer(CONFIG, rules, state, RunSettings(), QUIET, state.path)
        inbox = Inbox(folders, importer, settle=0, today=lambda: dt.date(2026, 11, 5))
        tracemalloc.start()
        try:
            traced = [_one_run(inbox, folders, run) for run in range(RUNS)]
        finally:
            tracemalloc.stop()
    # Before the fix: about 12 KB a run here (24 runs: 300 KB); after: under 2 KB in all.
    assert traced[-1] - traced[WARM] < 100_000, [round(t / 1000) for t in traced]
    assert all(not rules.matcher.plans.get(mode) for mode in rules.matcher.plans)
    assert not any(signer.seen for signer in rules.matcher.signers.values())


def test_a_postgresql_watcher_with_claims_keeps_nothing_per_run(tmp_path: Path, pg_url: PgUrl) -> None:
    """The same on a shared state, as a worker among others runs: claims (their heartbeat on a
    connection of its own), the driver's statement caches.  (The workers benchmark's 574 MB "per
    PostgreSQL worker" was the benchmark's own memory: benchmarks/child.py `own_peak_mb`.)"""
    folders = Folders(tmp_path / "inbox", tmp_path / "archive", tmp_path / "failed")
    folders.create()
    rules = load_rules([Path("rules")])
    with PostgresStore(pg_url) as state, PostgresStore(pg_url) as own:
        importer = inbox_importer(CONFIG, rules, state, RunSettings(), QUIET, state.path)
        inbox = Inbox(folders, importer, settle=0, today=lambda: dt.date(2026, 11, 5))
        with Claimer(own, lease=60).running() as claims:
            inbox.claims = claims
            tracemalloc.start()
            try:
                traced = [_one_run(inbox, folders, run) for run in range(RUNS)]
            finally:
                tracemalloc.stop()
        assert not claims.held and not claims.keys and not claims.waits  # every file forgotten once filed
    assert traced[-1] - traced[WARM] < 100_000, [round(t / 1000) for t in traced]


def _one_run(inbox: Inbox, folders: Folders, run: int) -> int:
    """Drop one new statement into the inbox, import and file it away; the memory traced after."""
    write_chase(folders.inbox / f"chase-{run:03d}.csv", _new_lines(run))
    inbox.scan()
    filed = inbox.step()
    assert [(f.error, f.report.parsed if f.report else None) for f in filed] == [(None, ROWS)]
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _new_lines(run: int) -> list[Line]:
    """ROWS purchases whose descriptions no earlier run had, in letters (the rules' scans see
    digits as "0", so "SHOP 12" and "SHOP 13" would be one text to them)."""
    first = dt.date(2026, 10, 1)
    lines = []
    for i in range(ROWS):
        number = run * ROWS + i
        name = "".join(chr(ord("A") + int(digit)) for digit in f"{number:05d}")
        lines.append(
            (first + dt.timedelta(days=i % 28), f"SHOP {name} MARKET", -Decimal(f"{i % 50 + 1}.{i % 100:02d}"))
        )
    return lines
