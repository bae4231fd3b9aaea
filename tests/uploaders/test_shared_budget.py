"""One API budget shared by every worker on a state: limiters over one store, on a fake clock.

Each limiter gets its own handle on the store's budget (`open_rates`: a connection of its own, as
a second worker process would have), so what one books the other sees only through the store."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from benchmarks.budget_trial import run_trial
from importer.config.settings import TargetSettings
from importer.config.state_location import Location, PgUrl
from importer.core.errors import StateError
from importer.sandbox import Sandbox, target_settings
from importer.store.base import Store
from importer.store.locate import open_store
from importer.store.migrations import MIGRATIONS
from importer.store.postgres import PostgresStore
from importer.store.sql_budget import SharedRates
from importer.targets.duitmyself import Duitmyself
from importer.targets.limits import RateLimiter, SharedRateLimiter, token_key
from tests.sandbox_fixtures import held, reset

TOKEN = "dm_live_0123456789abcdef"
MINUTE = {"X-RateLimit-Limit-Minute": "5", "X-RateLimit-Remaining-Minute": "5"}
WINDOWS = {"-Minute": 60.0, "-Day": 86400.0}


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(any_state: Location) -> Iterator[Store]:
    with open_store(any_state) as opened:
        yield opened


@pytest.fixture
def rates(store: Store) -> Iterator[list[SharedRates]]:
    """Two handles on the store's budget, one per worker; closed at the end."""
    handles = [store.open_rates(), store.open_rates()]  # type: ignore[attr-defined]
    yield handles
    for handle in handles:
        handle.close()


def shared(rates: SharedRates, clock: Clock, *, bucket: bool = False, token: str = TOKEN) -> SharedRateLimiter:
    windows = {"": 100.0} if bucket else WINDOWS
    return SharedRateLimiter(rates, "duitmyself", token, windows, bucket=bucket, clock=clock)


def test_two_workers_spend_one_window_exactly(rates: list[SharedRates]) -> None:
    clock = Clock()
    one, two = shared(rates[0], clock), shared(rates[1], clock)
    one.observe(MINUTE, 200)  # five a minute, all left
    booked = [one.attempt(1)[1], two.attempt(1)[1], one.attempt(1)[1], two.attempt(1)[1]]
    clock.now += 10
    assert all(booked) and two.attempt(1)[1] is not None  # the fifth, ten seconds later
    assert one.attempt(1) == (50.0, None)  # the first booking ages out 60 s after it was made
    assert two.attempt(1) == (50.0, None)
    clock.now += 50  # the four of the first second age out together; the fifth 10 s later
    assert [limiter.attempt(1)[0] for limiter in (one, two, two, one)] == [0.0] * 4
    assert two.attempt(1) == (10.0, None)


def test_two_workers_share_one_bucket_exactly(rates: list[SharedRates]) -> None:
    clock = Clock()
    one, two = shared(rates[0], clock, bucket=True), shared(rates[1], clock, bucket=True)
    one.observe({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "10"}, 200)  # one token per 10 s
    taken = [limiter.attempt(1)[1] is not None for limiter in (one, two) * 5]
    assert taken == [True] * 10
    assert one.attempt(1) == (10.0, None) and two.attempt(1) == (10.0, None)
    clock.now += 25
    assert two.attempt(1)[0] == 0.0 and one.attempt(1)[0] == 0.0  # 2.5 tokens came back: two fit
    assert one.attempt(1) == pytest.approx((5.0, None))


def test_a_retry_after_one_worker_met_pauses_the_other(rates: list[SharedRates]) -> None:
    clock = Clock()
    one, two = shared(rates[0], clock), shared(rates[1], clock)
    one.observe(MINUTE, 200)
    one.observe({"Retry-After": "7", "X-RateLimit-Limit-Minute": "5", "X-RateLimit-Remaining-Minute": "5"}, 429)
    clock.now += 1
    assert two.attempt(1) == (6.0, None)
    clock.now += 6
    assert two.attempt(1)[1] is not None


def test_a_429_without_retry_after_books_what_the_server_counted(rates: list[SharedRates]) -> None:
    clock = Clock()
    one, two = shared(rates[0], clock), shared(rates[1], clock)
    # Another client spent three of five: the first answer books the three for everyone.
    one.observe({"X-RateLimit-Limit-Minute": "5", "X-RateLimit-Remaining-Minute": "2"}, 200)
    assert two.attempt(2)[1] is not None
    assert one.attempt(1) == (60.0, None)


def test_settled_bookings_age_from_the_answer(rates: list[SharedRates]) -> None:
    clock = Clock()
    one, two = shared(rates[0], clock), shared(rates[1], clock)
    one.observe({"X-RateLimit-Limit-Minute": "1", "X-RateLimit-Remaining-Minute": "1"}, 200)
    _, booked = one.attempt(1)
    clock.now += 2  # the answer came two seconds later: the server counted it then at the earliest
    one.settle(booked or [])
    assert two.attempt(1) == (60.0, None)


def test_a_booking_is_stamped_when_the_answer_came_not_when_settled(rates: list[SharedRates]) -> None:
    clock = Clock()
    one, two = shared(rates[0], clock), shared(rates[1], clock)
    one.observe({"X-RateLimit-Limit-Minute": "1", "X-RateLimit-Remaining-Minute": "1"}, 200)
    _, booked = one.attempt(1)
    clock.now += 2
    one.observe({"X-RateLimit-Limit-Minute": "1", "X-RateLimit-Remaining-Minute": "0"}, 200)  # answered at 1002
    clock.now += 1  # the shared row was busy: settled at 1003
    one.settle(booked or [])
    assert two.attempt(1) == (59.0, None)  # free at 1062, a window after the answer


def test_other_tokens_and_services_have_budgets_of_their_own(rates: list[SharedRates]) -> None:
    clock = Clock()
    one, other = shared(rates[0], clock), shared(rates[1], clock, token="dm_live_another")
    one.observe({"X-RateLimit-Limit-Minute": "1", "X-RateLimit-Remaining-Minute": "0"}, 200)
    assert one.attempt(1)[1] is None
    assert other.attempt(1)[1] is not None
    assert token_key("duitmyself", TOKEN) != token_key("toshl", TOKEN)


def test_the_token_is_never_stored(store: Store, rates: list[SharedRates]) -> None:
    clock = Clock()
    one = shared(rates[0], clock)
    one.observe(MINUTE, 200)
    one.attempt(1)
    dumped = [
        str(row)
        for table in ("rate_limits", "rate_budgets", "rate_spent")
        for row in store.db.execute(f"SELECT * FROM {table}").fetchall()  # type: ignore[attr-defined]
    ]
    assert len(dumped) == 5  # the token's row, its two windows, the booking in each
    assert not any(TOKEN in row for row in dumped)
    assert all(token_key("duitmyself", TOKEN) in row for row in dumped)


def test_the_budget_is_taken_while_the_files_transaction_is_open(store: Store, rates: list[SharedRates]) -> None:
    clock = Clock()
    one = shared(rates[0], clock)
    if isinstance(store.path, PgUrl):
        with store.transaction():  # on SQLite the file's write lock would make it wait: never shared there
            store.begin_run("import")
            one.observe(MINUTE, 200)
            assert one.attempt(1)[1] is not None
    else:
        one.observe(MINUTE, 200)
        assert one.attempt(1)[1] is not None


@pytest.mark.parametrize("bucket", [False, True], ids=["window", "bucket"])
def test_one_worker_decides_as_its_own_limiter_does(rates: list[SharedRates], bucket: bool) -> None:
    """The shared limiter alone is the in-process one, step for step (the reference)."""
    clock = Clock()
    windows = {"": 100.0} if bucket else WINDOWS
    mine = RateLimiter(windows, bucket=bucket, clock=clock)
    ours = shared(rates[0], clock, bucket=bucket)
    rng = random.Random(17)
    for _ in range(400):  # as Http steps: wait for the budget, send, learn from the answer, settle
        clock.now += rng.choice([0.0, 0.5, 3.0, 20.0])
        cost = rng.randint(1, 3)
        (wait_mine, got_mine), (wait_ours, got_ours) = mine.attempt(cost), ours.attempt(cost)
        assert wait_ours == pytest.approx(wait_mine) and (got_ours is None) == (got_mine is None)
        if got_mine is None or got_ours is None:
            continue
        clock.now += rng.choice([0.01, 0.3])
        if rng.random() < 0.3:
            headers = _headers(rng, bucket)
            mine.observe(headers, 200)
            ours.observe(headers, 200)
        mine.settle(got_mine)
        ours.settle(got_ours)


def _headers(rng: random.Random, bucket: bool) -> dict[str, str]:
    if bucket:
        return {"X-RateLimit-Limit": "8", "X-RateLimit-Remaining": str(rng.randint(0, 8))}
    return {
        "X-RateLimit-Limit-Minute": "12",
        "X-RateLimit-Remaining-Minute": str(rng.randint(0, 12)),
        "X-RateLimit-Limit-Day": "40",
        "X-RateLimit-Remaining-Day": str(rng.randint(0, 40)),
    }


def test_targets_share_the_budget_only_on_a_shared_state(
    any_state: Location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUITMYSELF_TOKEN", TOKEN)
    settings = TargetSettings(type="duitmyself", base_url="http://127.0.0.1:9/duitmyself", token_env="DUITMYSELF_TOKEN")
    with open_store(any_state) as state:
        target = Duitmyself(state, 1, settings)
        try:
            kind = type(target.http.limiter)
        finally:
            target.close()
    assert kind is (SharedRateLimiter if isinstance(any_state, PgUrl) else RateLimiter)


def test_two_worker_processes_keep_to_the_limit_together(pg_url: PgUrl) -> None:
    """The trial, short: two processes, one token, one PostgreSQL state, duitmyself's limit on
    (12 requests per 1.2 s).  Counted by the sandbox: no 429 at all (the server's window starts
    empty with the trial, and the first answer teaches both workers the limit before the budget
    is half spent), never more than the limit in any rolling window, both workers sending, and
    the pair not starved by sharing (a loose floor: a loaded machine stalls a process for a window
    or two, so who sent in which window is the trial's figure, not an assertion here;
    `python -m benchmarks.budget_trial` gives the figures)."""
    figures = run_trial(pg_url.url, rows=30, window_scale=0.02, budget_scale=0.02)
    assert (figures["limit"], figures["window_seconds"]) == (12, pytest.approx(1.2))
    assert figures["server_429"] == 0 and figures["worker_429"] == {1: 0, 2: 0}
    assert figures["landed"] == {1: 30, 2: 30}
    assert figures["most_in_a_rolling_window"] <= 12
    whole = figures["whole_windows"]
    assert whole >= 4  # about 70 requests at 12 a window
    assert all(sum(counts) > 0 for counts in figures["per_worker_per_window"].values())
    assert sum(figures["combined_per_window"]) >= 0.5 * whole * 12


def test_a_postgresql_state_of_schema_7_gains_the_claims_and_budget_tables(pg_url: PgUrl) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url.url, autocommit=True) as db:  # as the importer before migration 8 left it
        db.execute("DROP TABLE rate_limits, rate_budgets, rate_spent, claims")
        db.execute("ALTER TABLE runs DROP COLUMN owner")
        db.execute("UPDATE schema_version SET version = 7")
    with PostgresStore(pg_url) as state:
        assert state.db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        assert state.db.execute("SELECT count(*) FROM rate_budgets").fetchone() == (0,)
        assert state.db.execute("SELECT count(*) FROM claims").fetchone() == (0,)


def test_a_worker_that_waited_for_the_row_sees_what_the_holder_wrote(pg_url: PgUrl) -> None:
    """Under READ COMMITTED a read that waited for a lock can see rows as they were before the
    holder wrote them; the budget's rows must be read after the lock is granted."""
    clock = Clock()
    with PostgresStore(pg_url) as store:
        holder, waiter = store.open_rates(), store.open_rates()
        one, two = shared(holder, clock), shared(waiter, clock)
        one.observe(MINUTE, 200)
        waiting = waiter.db.execute("SELECT pg_backend_pid()").fetchone()[0]
        got: list[tuple[float, object]] = []
        with holder.hold(one.key) as held:
            thread = threading.Thread(target=lambda: got.extend(two.attempt(1) for _ in range(2)))
            thread.start()
            while not _waits_for_a_lock(store, waiting):
                thread.join(0.01)
            holder.book(held, "-Minute", clock.now, 4.0)  # what a limiter does for a cost of 4
            held.level("-Minute").level += 4.0
        thread.join()
        holder.close(), waiter.close()
    assert got[0][1] is not None  # the fifth unit
    assert got[1] == (60.0, None)  # and no sixth: the four booked while it waited count


def _waits_for_a_lock(store: Store, pid: int) -> bool:
    query = "SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'"
    return bool(store.db.execute(query, (pid,)).fetchone()[0])  # type: ignore[attr-defined]


# a database error at the budget: the state's error, never the driver's traceback ----------------

# The budget's connection ends its own session the moment it first writes the token's row: the
# server terminating the backend mid-transaction, as a restart or an operator's
# pg_terminate_backend would, at the one step only the budget's connection takes.
END_THE_BUDGETS_SESSION = """
CREATE FUNCTION end_session() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
CREATE TRIGGER end_session BEFORE INSERT ON rate_limits FOR EACH ROW EXECUTE FUNCTION end_session();
"""


def run_cli(folder: Path, state: PgUrl, sample: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "importer", "run", str(sample), "--target", "svc", "--rules", "rules"]
    command += ["--config", str(folder / "importer.yaml"), "--state", state.url]
    return subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=240)


def test_a_budget_session_the_server_ends_is_a_state_error_and_the_next_run_sends(
    pg_url: PgUrl, sandbox: Sandbox, tmp_path: Path
) -> None:
    reset(sandbox, "duitmyself")
    target = {**target_settings("duitmyself", sandbox.url("duitmyself")), "batch_size": 4}
    accounts = {"Chase checking": {"profiles": ["chase-checking"]}}
    (tmp_path / "importer.yaml").write_text(json.dumps({"targets": {"svc": target}, "accounts": accounts}))
    sample = Path("samples/csv/chase/chase-checking-2026-10.csv")
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url.url, autocommit=True) as db:
        db.execute(END_THE_BUDGETS_SESSION)
    failed = run_cli(tmp_path, pg_url, sample)
    said = failed.stdout + failed.stderr  # the file's error is in the run's report (stdout)
    assert failed.returncode == 1 and "Traceback" not in said
    assert f"error: cannot use the API rate budget kept in the state database {pg_url}: " in said
    assert "terminating connection due to administrator command" in said
    assert "run again: what was stored is kept, and the next run sends what was not sent" in said
    assert "postgresql://importer:***@" in said and pg_url.passwords[0] not in said
    assert held(sandbox, "duitmyself") == []  # nothing went out without its budget
    with psycopg.connect(pg_url.url, autocommit=True) as db:
        db.execute("DROP TRIGGER end_session ON rate_limits")
    again = run_cli(tmp_path, pg_url, sample)
    assert again.returncode == 0, again.stderr
    assert len(held(sandbox, "duitmyself")) == 12  # the file's twelve, sent by the next run


def test_a_budget_connection_ended_from_outside_is_a_state_error(pg_url: PgUrl) -> None:
    clock = Clock()
    with PostgresStore(pg_url) as store:
        rates = store.open_rates()
        limiter = shared(rates, clock)
        limiter.observe(MINUTE, 200)
        backend = rates.db.execute("SELECT pg_backend_pid()").fetchone()[0]
        store.db.execute("SELECT pg_terminate_backend(?, 10000)", (backend,))
        with pytest.raises(StateError) as raised:
            limiter.attempt(1)
        with pytest.raises(StateError):  # the connection stays gone: every later step says so too
            limiter.settle(["a-booking"])
        rates.close()
    message = str(raised.value)
    assert message.startswith(f"cannot use the API rate budget kept in the state database {pg_url}: ")
    assert "\n" not in message and pg_url.passwords[0] not in message and "***" in message


def test_a_missing_budget_table_is_a_state_error_on_either_engine(store: Store, rates: list[SharedRates]) -> None:
    limiter = shared(rates[0], Clock())
    store.db.execute("DROP TABLE rate_spent")  # type: ignore[attr-defined]
    with pytest.raises(StateError, match=r"kept in the state database .*: .*rate_spent") as raised:
        limiter.observe({"X-RateLimit-Limit-Minute": "5", "X-RateLimit-Remaining-Minute": "2"}, 200)
    assert "Traceback" not in str(raised.value)
