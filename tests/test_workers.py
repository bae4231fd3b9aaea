"""Many watchers on one PostgreSQL state, for real: processes, a shared inbox, kills, held accounts.

Every file is archived exactly once, the state holds what one worker would have stored (the same
external ids, none twice), a killed worker's claimed files are taken over once its lease passes,
two accounts import at once while one account waits, and only a dead owner's run is interrupted.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from importer import api
from importer.cli import main
from importer.config.settings import AccountSettings, Config, SourceSettings
from importer.config.state_location import Location, PgUrl
from importer.core.accounts import name_key
from importer.rules import load_rules
from importer.run.claims import Claimer, content_key
from importer.run.lock import LockedError
from importer.run.pipeline import RunSettings
from importer.run.routine import inbox_importer
from importer.run.watch import Folders, Inbox
from importer.store.locate import open_store
from importer.store.postgres import PostgresStore
from importer.store.postgres_lock import advisory_lock
from importer.store.sql_workers import Claim
from tests.inbox_statements import month_lines, write_chase
from tests.pgserver import cli_arg
from tests.statements import Line, chase_csv, day
from tests.test_watch import QUIET

ACCOUNTS = 4


def write_inbox(inbox: Path, count: int) -> list[str]:
    """`count` Chase exports over ACCOUNTS accounts (`a<k>-<n>.csv`); their names."""
    names = [f"a{seed % ACCOUNTS}-{seed:03d}.csv" for seed in range(count)]
    for seed, name in enumerate(names):
        write_chase(inbox / name, month_lines("2026-10", seed))
    return names


def write_config(folder: Path, inbox: Path) -> Path:
    """importer.yaml naming each file's account by its name (`a<k>-*` is account `Bank <k>`)."""
    sources = "".join(
        f'  - path: "{inbox}/a{k}-*.csv"\n    account: "Bank {k}"\n    profile: chase-checking\n'
        for k in range(ACCOUNTS)
    )
    path = folder / "importer.yaml"
    path.write_text(f"sources:\n{sources}", encoding="utf-8")
    return path


def watcher(config: Path, inbox: Path, state: Location, *extra: str, crash: str | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "importer", "watch", str(inbox), "--once", "--settle", "0"]
    command += ["--state", cli_arg(state), "--rules", "rules", "--config", str(config), *extra]
    env = {**os.environ, **({"IMPORTER_CRASH_AT": crash} if crash else {})}
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def finished(process: subprocess.Popen[str], timeout: float = 240) -> int:
    _, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return process.returncode


def archived(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def external_ids(url: PgUrl) -> list[str]:
    with psycopg.connect(url.url) as db:
        return sorted(row[0] for row in db.execute("SELECT external_id FROM transactions"))


def single_worker_ids(tmp_path: Path, inbox: Path) -> list[str]:
    """What one watcher stores from a copy of `inbox` into an SQLite state of its own."""
    alone = tmp_path / "alone"
    shutil.copytree(inbox, alone / "inbox")
    finished(watcher(write_config(alone, alone / "inbox"), alone / "inbox", alone / "state.sqlite"))
    with closing(sqlite3.connect(alone / "state.sqlite")) as db:
        return sorted(row[0] for row in db.execute("SELECT external_id FROM transactions"))


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    made = Folders(tmp_path / "inbox", tmp_path / "archive", tmp_path / "failed")
    made.create()
    return made


# many watchers, one inbox -------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [2, 4])
def test_watchers_sharing_an_inbox_archive_every_file_once_and_store_what_one_would(
    workers: int, tmp_path: Path, folders: Folders, pg_url: PgUrl
) -> None:
    names = write_inbox(folders.inbox, 40)
    expected = single_worker_ids(tmp_path, folders.inbox)
    config = write_config(tmp_path, folders.inbox)
    running = [watcher(config, folders.inbox, pg_url) for _ in range(workers)]
    for process in running:
        finished(process)
    assert archived(folders.archive) == sorted(names)  # each once: a second copy would be `-1`
    assert list(folders.inbox.iterdir()) == [] and archived(folders.failed) == []
    stored = external_ids(pg_url)
    assert len(expected) == 3 * 40 and stored == expected  # the same ids, none twice


def test_a_worker_killed_holding_claims_loses_them_after_the_lease(
    tmp_path: Path, folders: Folders, pg_url: PgUrl
) -> None:
    names = write_inbox(folders.inbox, 12)
    expected = single_worker_ids(tmp_path, folders.inbox)
    config = write_config(tmp_path, folders.inbox)
    # Killed once its second file is stored: the file is in the state, its claim held, not filed away.
    killed = watcher(config, folders.inbox, pg_url, "--lease", "2", crash="store:2")
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    left = sorted(p.name for p in folders.inbox.iterdir())
    with psycopg.connect(pg_url.url) as db:
        held = [row[0] for row in db.execute("SELECT name FROM claims WHERE status = 'working' ORDER BY name")]
    assert held and set(held) <= set(left) and len(external_ids(pg_url)) >= 3  # a claimed file stored, not filed
    finished(watcher(config, folders.inbox, pg_url, "--lease", "2"))
    assert archived(folders.archive) == sorted(names) and list(folders.inbox.iterdir()) == []
    assert external_ids(pg_url) == expected


def test_a_copy_of_a_file_another_worker_filed_away_is_only_removed(
    tmp_path: Path, folders: Folders, pg_url: PgUrl
) -> None:
    write_inbox(folders.inbox, 1)
    config = write_config(tmp_path, folders.inbox)
    spare = tmp_path / "spare.csv"
    shutil.copy(folders.inbox / "a0-000.csv", spare)
    finished(watcher(config, folders.inbox, pg_url))
    shutil.copy(spare, folders.inbox / "a0-000.csv")  # the shared inbox still lists it: the move raced
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "importer",
            "watch",
            str(folders.inbox),
            "--once",
            "--settle",
            "0",
            "--state",
            cli_arg(pg_url),
            "--rules",
            "rules",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    assert "a0-000.csv -> (identical copy already filed; removed from the inbox)" in process.stdout
    assert list(folders.inbox.iterdir()) == [] and len(archived(folders.archive)) == 1
    assert len(external_ids(pg_url)) == 3


# claims on both engines -------------------------------------------------------------------------


def test_a_claim_is_one_workers_until_its_lease_passes_or_it_ends(any_state: Location) -> None:
    with open_store(any_state) as state:
        assert state.claim_file("k", "f.csv", "w1", lease=60) is Claim.TAKEN
        assert state.claim_file("k", "f.csv", "w2", lease=60) is Claim.BUSY
        assert state.claim_file("k", "f.csv", "w1", lease=60) is Claim.TAKEN  # its own again
        state.renew_claims(["k"], "w1", lease=-1)  # its heartbeat stopped a while ago
        assert state.claim_file("k", "f.csv", "w2", lease=60) is Claim.TAKEN  # taken over
        state.end_claim("k", "w1", filed=True)  # the old owner no longer has it: nothing changes
        assert state.claim_file("k", "f.csv", "w3", lease=60) is Claim.BUSY
        state.end_claim("k", "w2", filed=True)
        assert state.claim_file("k", "f.csv", "w3", lease=60) is Claim.FILED
        state.end_claim("k", "w3", filed=False)  # given back: anyone may take it now
        assert state.claim_file("k", "f.csv", "w1", lease=60) is Claim.TAKEN


# accounts: different ones at once, the same one in turn ---------------------------------------------

ACCOUNT_LOCK = "SELECT pg_advisory_xact_lock(hashtext('importer account ' || current_schema()), hashtext(%s))"


@pytest.fixture
def holding_bank_0(pg_url: PgUrl) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Another worker importing into `Bank 0`: its account lock, held until the test commits."""
    PostgresStore(pg_url).close()  # the schema exists: current_schema() is the state's
    with psycopg.connect(pg_url.url) as db:
        db.execute(ACCOUNT_LOCK, (name_key("Bank 0"),))
        yield db


def run_file(path: Path, state: PgUrl, account: str, wait: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "importer",
        "run",
        str(path),
        "--state",
        state.url,
        "--rules",
        "rules",
        "--account",
        account,
        "--profile",
        "chase-checking",
        "--wait",
        wait,
    ]


def test_another_account_imports_while_one_is_held_and_the_held_one_waits_then_lands(
    tmp_path: Path, pg_url: PgUrl, holding_bank_0: psycopg.Connection[tuple[object, ...]]
) -> None:
    write_inbox(tmp_path / "files", 2)  # a0-000.csv, a1-001.csv
    waiting = subprocess.Popen(
        run_file(tmp_path / "files" / "a0-000.csv", pg_url, "Bank 0", "120"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    other = subprocess.run(
        run_file(tmp_path / "files" / "a1-001.csv", pg_url, "Bank 1", "0"), capture_output=True, text=True, timeout=120
    )
    assert other.returncode == 0, other.stderr
    with psycopg.connect(pg_url.url) as db:
        by_account = dict(db.execute("SELECT account, count(*) FROM transactions GROUP BY account").fetchall())
    assert by_account == {"Bank 1": 3}  # Bank 0's file is still waiting for its account
    assert waiting.poll() is None
    holding_bank_0.commit()  # the other worker's file is done
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    with psycopg.connect(pg_url.url) as db:
        by_account = dict(db.execute("SELECT account, count(*) FROM transactions GROUP BY account").fetchall())
    assert by_account == {"Bank 0": 3, "Bank 1": 3}


def test_wait_0_on_a_held_account_is_the_locked_error(
    tmp_path: Path, pg_url: PgUrl, holding_bank_0: psycopg.Connection[tuple[object, ...]]
) -> None:
    write_inbox(tmp_path / "files", 1)
    path = tmp_path / "files" / "a0-000.csv"
    result = CliRunner().invoke(main, run_file(path, pg_url, "Bank 0", "0")[3:])
    assert result.exit_code == 3, result.output
    assert (
        f"another importer run is using account Bank 0 in {pg_url}; this run stopped before importing {path} "
        "(files before it were imported). Try again later, or pass --wait SECONDS."
    ) in result.output
    assert external_ids(pg_url) == []


def test_a_watcher_leaves_a_file_of_a_held_account_for_later(
    folders: Folders, pg_url: PgUrl, holding_bank_0: psycopg.Connection[tuple[object, ...]]
) -> None:
    names = write_inbox(folders.inbox, 2)
    config = Config(
        sources=[
            SourceSettings(path=f"{folders.inbox}/a{k}-*.csv", account=f"Bank {k}", profile="chase-checking")
            for k in (0, 1)
        ],
        accounts={"Bank 0": AccountSettings(), "Bank 1": AccountSettings()},
    )
    rules = load_rules([Path("rules")])
    with PostgresStore(pg_url, lock_wait=0) as state, PostgresStore(pg_url) as own:
        box = Inbox(folders, inbox_importer(config, rules, state, RunSettings(), QUIET, pg_url), settle=0)
        with Claimer(own, lease=60).running() as claims:
            box.claims = claims
            box.scan()
            first = box.step()
            assert [f.source.name for f in first] == []  # the chunk met the held account: all left
            assert sorted(p.name for p in folders.inbox.iterdir()) == names
            holding_bank_0.commit()
            second = box.step()
    assert sorted(f.source.name for f in second) == names and all(f.error is None for f in second)
    assert archived(folders.archive) == names and len(external_ids(pg_url)) == 6


# transfers: the other leg's account is locked before its row is written ------------------------

ADVISORY_WAITERS = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"


def transfer_legs(folder: Path, pg_url: PgUrl) -> Path:
    """Savings' leg stored (committed); the checking export holding the other leg, to import."""
    folder.mkdir()
    savings = chase_csv(folder / "savings.csv", [Line(day(15), "200.00", "TRANSFER FROM CHECKING")])
    stored = subprocess.run(run_file(savings, pg_url, "Savings", "0"), capture_output=True, text=True, timeout=120)
    assert stored.returncode == 0, stored.stderr
    return chase_csv(folder / "checking.csv", [Line(day(14), "-200.00", "ONLINE TRANSFER TO SAVINGS")])


def waits_for_an_account(url: PgUrl, process: subprocess.Popen[str]) -> bool:
    """Whether `process` came to wait for an account lock (waited for up to a minute), seen from a
    session of its own: one inside a transaction sees the activity as it was when that began."""
    with psycopg.connect(url.url, autocommit=True) as db:
        for _ in range(600):
            if db.execute(ADVISORY_WAITERS).fetchone() == (1,):
                return process.poll() is None
            if process.poll() is not None:
                return False
            time.sleep(0.1)
    return False


def pairs(url: PgUrl) -> dict[str, tuple[object, object]]:
    with psycopg.connect(url.url) as db:
        rows = db.execute("SELECT account, pair_id, transfer_to FROM transactions").fetchall()
    return {str(account): (pid, to) for account, pid, to in rows}


def test_pairing_waits_for_the_other_legs_account_and_decides_on_what_its_worker_left(
    tmp_path: Path, pg_url: PgUrl
) -> None:
    """Another worker importing into Savings pairs Savings' leg elsewhere while it holds the
    account: the checking import waits for the account (not for the row), then sees the leg taken
    and leaves its own unpaired, where it used to overwrite the other worker's pair."""
    checking = transfer_legs(tmp_path / "files", pg_url)
    with psycopg.connect(pg_url.url) as other_worker:
        other_worker.execute(ACCOUNT_LOCK, (name_key("Savings"),))
        other_worker.execute("UPDATE transactions SET pair_id = 't:elsewhere', transfer_to = 'Brokerage'")
        importing = subprocess.Popen(
            run_file(checking, pg_url, "Checking", "120"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert waits_for_an_account(pg_url, importing)
        other_worker.commit()
    _, err = importing.communicate(timeout=120)
    assert importing.returncode == 0, err
    # Checking's leg names Savings by a rule (rules/70-money.yaml), but is paired with nothing.
    assert pairs(pg_url) == {"Savings": ("t:elsewhere", "Brokerage"), "Checking": (None, "Savings")}


def test_pairing_with_an_account_another_worker_holds_for_the_whole_wait_is_the_locked_error(
    tmp_path: Path, pg_url: PgUrl
) -> None:
    checking = transfer_legs(tmp_path / "files", pg_url)
    with psycopg.connect(pg_url.url) as other_worker:
        other_worker.execute(ACCOUNT_LOCK, (name_key("Savings"),))
        held = subprocess.run(run_file(checking, pg_url, "Checking", "0"), capture_output=True, text=True, timeout=120)
        other_worker.commit()
    assert held.returncode == 3 and "Traceback" not in held.stderr
    assert (
        f"another importer run is using account Savings in {pg_url}; this run stopped before importing {checking}"
        in (held.stdout + held.stderr)
    )
    assert pairs(pg_url) == {"Savings": (None, None)}  # nothing of the checking file was kept
    again = subprocess.run(run_file(checking, pg_url, "Checking", "0"), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    paired = pairs(pg_url)
    assert paired["Savings"][1] == "Checking" and paired["Checking"][1] == "Savings"
    assert paired["Savings"][0] == paired["Checking"][0] is not None


# runs: only a dead owner's is interrupted, once ------------------------------------------------------

DIE_IN_A_RUN = """
import os, signal, sys
from importer.config.state_location import PgUrl
from importer.store.postgres import PostgresStore
from importer.store.postgres_lock import advisory_lock
state = PostgresStore(PgUrl(sys.argv[1]))
print(state.begin_run("watch"), state.db.execute("SELECT pg_backend_pid()").fetchone()[0], flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def session_ended(url: PgUrl, backend: int) -> None:
    """Wait (up to 30 s) until the server has ended session `backend`: a client's death or close
    reaches the server a moment later, and only then are its session's advisory locks released."""
    with psycopg.connect(url.url, autocommit=True) as db:
        for _ in range(300):
            if db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone() is None:
                return
            time.sleep(0.1)
    raise AssertionError(f"PostgreSQL session {backend} did not end within 30 s")


def run_status(url: PgUrl, run_id: int) -> str:
    with psycopg.connect(url.url) as db:
        return str(db.execute("SELECT status FROM runs WHERE id = %s", (run_id,)).fetchone()[0])  # type: ignore[index]


def test_a_live_workers_run_is_never_interrupted_a_dead_ones_is_once(pg_url: PgUrl) -> None:
    with PostgresStore(pg_url) as alive, PostgresStore(pg_url) as one, PostgresStore(pg_url) as two:
        live = alive.begin_run("watch")
        dead, backend = map(
            int,
            subprocess.run(
                [sys.executable, "-c", DIE_IN_A_RUN, pg_url.url], capture_output=True, text=True, timeout=60
            ).stdout.split(),
        )
        session_ended(pg_url, backend)
        assert run_status(pg_url, dead) == "running"
        assert one.dead_runs() == [(dead, "watch")]  # held by `one` while it marks it...
        assert two.dead_runs() == []  # ...so no other worker takes it too; the live run is nobody's
        one.release_dead([dead])
        second = two.begin_run("watch")
        assert run_status(pg_url, dead) == "interrupted" and run_status(pg_url, live) == "running"
        one.begin_run("watch")
        assert run_status(pg_url, live) == "running" and run_status(pg_url, second) == "running"
        alive.finish_run(live, "failed")
        assert run_status(pg_url, live) == "failed"


def test_a_live_runs_pending_batch_is_its_own_a_dead_runs_is_reconciled_by_one(pg_url: PgUrl) -> None:
    with PostgresStore(pg_url) as alive, PostgresStore(pg_url) as one, PostgresStore(pg_url) as two:
        live = alive.begin_run("watch")
        batch = alive.begin_batch("remote", "key", live, ["x1"])
        mine = one.begin_run("watch")
        assert one.orphan_batches("remote", mine) == []  # the live worker settles it itself
        backend = int(alive.db.execute("SELECT pg_backend_pid()").fetchone()[0])
        alive.close()  # the worker dies: the server ends its session, and its run's lock
        session_ended(pg_url, backend)
        mine = one.begin_run("watch")
        assert run_status(pg_url, live) == "interrupted"
        assert [row[:3] for row in one.orphan_batches("remote", mine)] == [(batch, "key", ("x1",))]
        assert one.claim_batch(batch) and not two.claim_batch(batch)  # one reconciler
        one.fail_batch(batch, "failed", "refused")
        one.release_batch(batch)
        assert not two.claim_batch(batch)  # settled meanwhile: nothing left to do


class RacedClaimer(Claimer):
    """Reads a file just before another worker's move of it lands."""

    def take(self, path: Path) -> Claim | None:
        claim = super().take(path)
        path.unlink()
        return claim


def test_a_file_filed_away_by_another_worker_while_it_was_claimed_is_forgotten(
    folders: Folders, tmp_path: Path
) -> None:
    write_inbox(folders.inbox, 1)
    path = folders.inbox / "a0-000.csv"
    key, imported = content_key(path), list[Path]()
    with open_store(tmp_path / "claims.sqlite") as own:
        other = Claimer(own, worker="other")
        assert other.take(path) is Claim.TAKEN
        other.end(path, filed=True)  # the other worker filed it away: its move is about to land
        box = Inbox(folders, lambda files: imported.extend(files) or [], settle=0, claims=RacedClaimer(own))
        box.scan()
        assert box.step() == [] and box.pending == {} and imported == []
        assert key is not None and own.claim_file(key, "a0-000.csv", "third", 60) is Claim.FILED  # still filed


def test_a_run_lock_is_released_before_its_session_closes(pg_url: PgUrl) -> None:
    # The server frees a closed session's advisory locks only once its backend has exited, after
    # the client's close returned: an exclusive run (undo) started just after a run ended found the
    # state locked (seen once in CI; a narrow race, so without the fix this test fails only now and
    # then).  The lock is released explicitly, so it is gone at once.
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url.url, autocommit=True) as watcher:
        for shared in (True, False) * 10:
            with advisory_lock(pg_url, 0, shared=shared):
                assert _advisory_locks(watcher) == 1
            assert _advisory_locks(watcher) == 0


def _advisory_locks(db: psycopg.Connection[tuple[int]]) -> int:
    return int(db.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0])  # type: ignore[index]


def test_runs_on_postgresql_share_the_state_and_undo_keeps_them_out(pg_url: PgUrl) -> None:
    with api.session(Config(), pg_url, wait=0), api.session(Config(), pg_url, wait=0):
        with pytest.raises(LockedError, match=r"another importer run is using postgresql://importer:\*\*\*@"):
            api.undo(1, Config(), state=pg_url, wait=0)
    with api.session(Config(), pg_url, wait=0, exclusive=True):
        with pytest.raises(LockedError, match="this run stopped without importing anything"):
            with api.session(Config(), pg_url, wait=0):
                pass
