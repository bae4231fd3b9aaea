"""The upload journal: pending before sending, done after confirming, reconciled before anything new."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from importer.cli.console import PlainConsole
from importer.config.settings import TargetSettings
from importer.config.state_location import Location
from importer.core.errors import UploadError
from importer.core.models import Transaction, UploadResult
from importer.parsers import ParseOptions
from importer.reports.summary import RunReport, render_text
from importer.rules import RuleSet
from importer.run.journal import LONGEST_SEND, Journal, Reconciliation
from importer.run.pipeline import RunSettings, batch_key, run
from importer.store.locate import open_store
from importer.store.sqlite import State
from importer.targets import make_target
from importer.targets.base import Ability
from importer.targets.local import LocalLedger
from tests.loopback import LoopbackServer, LoopbackTarget, registered
from tests.statements import Line, chase_csv, day
from tests.test_dedupe_layers import ACCOUNT, import_files


@pytest.fixture
def state_path(any_state: Location) -> Location:
    """Each test here runs on SQLite and on PostgreSQL (tests/conftest.py `any_state`)."""
    return any_state


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running, registered():
        yield running


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    return chase_csv(tmp_path / "oct.csv", [Line(day(n), f"-{n}.00", f"SHOP {n}") for n in range(1, 11)])


def stored(state_path: Path, statement: Path) -> list[Transaction]:
    """Store the statement's transactions without sending them (a dry import into the state)."""
    import_files(state_path, statement)
    with open_store(state_path) as state:
        txns = state.stored_transactions()
        state.db.execute("DELETE FROM accepted")
        state.db.execute("UPDATE transactions SET ledger_run = NULL")  # nothing in the local ledger
        state.db.execute("DELETE FROM batches")
        state.db.commit()
    return txns


def loopback(state: State, server: LoopbackServer) -> LoopbackTarget:
    return LoopbackTarget(state, 1, TargetSettings(type="loopback", base_url=server.url, batch_size=4))


def journal_pending(state: State, target: LoopbackTarget, txns: list[Transaction]) -> None:
    """`txns` journalled as one pending batch to `target` by a run that then died."""
    Journal(state, target, state.begin_run("test"))._begin(
        batch_key(target.name, txns), [t.external_id or "" for t in txns]
    )


def batch_rows(state: State) -> list[tuple[str, str, int]]:
    return state.db.execute("SELECT status, target, size FROM batches ORDER BY id").fetchall()


class Remote(LocalLedger):
    """The local ledger journalled as if it were a remote service (without `Ability.IN_STATE`),
    under its own name: what "local" holds is the ledger itself, landed or not, while what this
    one holds is what the journal recorded as accepted."""

    name = "remote"
    abilities = LocalLedger.abilities - {Ability.IN_STATE}


def batch_content(state: State) -> list[tuple[str | None, int | None]]:
    """(external ids, one a line, while pending; how many confirmed, once done) of every batch."""
    return state.db.execute("SELECT external_ids, confirmed FROM batches ORDER BY id").fetchall()


def test_a_batch_is_pending_while_sent_and_done_with_remote_ids_after(state_path: Path, statement: Path) -> None:
    txns = stored(state_path, statement)
    seen: list[list[tuple[str, str, int]]] = []
    content: list[list[tuple[str | None, int | None]]] = []

    class Watching(Remote):
        def send(self, batch: Sequence[Transaction], idempotency_key: str = "") -> list[UploadResult]:
            seen.append(batch_rows(self.state))  # what the journal says while the target works
            content.append(batch_content(self.state))
            return super().send(batch, idempotency_key)

    with open_store(state_path) as state:
        Journal(state, Watching(state, 1), state.begin_run("test")).send(txns, batch_key("remote", txns))
        assert seen == [[("pending", "remote", 10)]]
        assert content == [[("\n".join(t.external_id or "" for t in txns), None)]]
        assert batch_rows(state) == [("done", "remote", 10)]
        # Done, the batch keeps a count, not its items: what each target holds is `accepted`'s.
        assert batch_content(state) == [(None, 10)]
        assert state.accepted_ids("remote", [t.external_id or "" for t in txns]) == {t.external_id for t in txns}


def test_an_idempotent_target_gets_a_pending_batch_again_under_the_same_key(state_path: Path, statement: Path) -> None:
    txns = stored(state_path, statement)
    keys: list[str] = []

    class Recording(Remote):
        def send(self, batch: Sequence[Transaction], idempotency_key: str = "") -> list[UploadResult]:
            keys.append(idempotency_key)
            return super().send(batch, idempotency_key)

    with open_store(state_path) as state:
        target = Recording(state, 1)
        Journal(state, target, state.begin_run("test"))._begin(
            batch_key("remote", txns), [t.external_id or "" for t in txns]
        )
        target.send(txns, batch_key("remote", txns))  # it landed, then the run died before `done`
        outcome = Journal(state, target, state.begin_run("test")).reconcile()
        assert (outcome.batches, outcome.resent) == (1, 10)
        assert keys == [batch_key("remote", txns)] * 2
        assert batch_rows(state) == [("done", "remote", 10)]
        assert len(state.stored_transactions("ledger")) == 10
        assert len(state.accepted_ids("local", [t.external_id or "" for t in txns])) == 10


def test_a_target_without_keys_is_asked_what_it_holds_and_gets_only_the_rest(
    state_path: Path, statement: Path, server: LoopbackServer
) -> None:
    txns = stored(state_path, statement)
    with open_store(state_path) as state:
        target = loopback(state, server)
        journal_pending(state, target, txns)
        target.send(txns[:6], "")  # six landed before the connection (and the run) died
        target.in_flight_grace = 2.0
        waits: list[float] = []
        outcome = Journal(state, target, state.begin_run("test"), sleep=waits.append).reconcile()
        assert (outcome.batches, outcome.found, outcome.sent, outcome.resent) == (1, 6, 4, 0)
        # the four missing may still have been on their way: looked for again after the grace
        assert len(waits) == 1 and 1.0 < waits[0] <= 2.0 and outcome.waited == waits[0]
        assert server.service.log == ["POST 6", "GET", "GET", "POST 4"]
        assert [status for status, _, _ in batch_rows(state)] == ["done", "done"]
        assert len(state.accepted_ids("loopback", [t.external_id or "" for t in txns])) == 10
    assert Counter(server.service.markers()) == Counter({t.external_id: 1 for t in txns})


def test_records_of_a_killed_run_still_landing_are_found_after_the_grace_not_sent_again(
    state_path: Path, statement: Path, server: LoopbackServer
) -> None:
    txns = stored(state_path, statement)
    with open_store(state_path) as state:
        target = loopback(state, server)
        journal_pending(state, target, txns)
        target.send(txns[:3], "")

        def meanwhile(seconds: float) -> None:  # the killed run's last request is stored now
            target.send(txns[3:], "")

        outcome = Journal(state, target, state.begin_run("test"), sleep=meanwhile).reconcile()
        assert (outcome.batches, outcome.found, outcome.sent) == (1, 10, 0)
        assert 29.0 < outcome.waited <= 30.0  # the default grace, from this run's start
    assert Counter(server.service.markers()) == Counter({t.external_id: 1 for t in txns})


def test_a_batch_journalled_longer_ago_than_any_send_lasts_is_trusted_at_once(
    state_path: Path, statement: Path, server: LoopbackServer
) -> None:
    txns = stored(state_path, statement)
    with open_store(state_path) as state:
        target = loopback(state, server)
        journal_pending(state, target, txns)
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=LONGEST_SEND + 31)
        state.db.execute("UPDATE batches SET created_at = ?", (long_ago.isoformat(timespec="seconds"),))
        state.db.commit()
        waits: list[float] = []
        outcome = Journal(state, target, state.begin_run("test"), sleep=waits.append).reconcile()
        assert (outcome.found, outcome.sent, outcome.waited, waits) == (0, 10, 0.0, [])


@pytest.mark.parametrize(("settings", "grace"), [({}, 30.0), ({"timeout": 5}, 5.0), ({"in_flight_grace": 0.5}, 0.5)])
def test_the_in_flight_grace_is_the_timeout_unless_set(
    settings: dict[str, float], grace: float, state_path: Path, server: LoopbackServer
) -> None:
    with open_store(state_path) as state:
        box = TargetSettings(type="loopback", base_url=server.url, **settings)  # type: ignore[arg-type]
        assert make_target("box", state, 1, box).in_flight_grace == grace
    with pytest.raises(ValidationError):
        TargetSettings(type="loopback", in_flight_grace=-1)


def test_a_run_reconciles_before_it_sends_anything_new(
    state_path: Path, tmp_path: Path, server: LoopbackServer
) -> None:
    first = chase_csv(tmp_path / "a.csv", [Line(day(n), f"-{n}.00", f"SHOP {n}") for n in range(1, 5)])
    txns = stored(state_path, first)
    with open_store(state_path) as state:
        target = loopback(state, server)
        journal_pending(state, target, txns)
        target.send(txns, "")  # landed; the run died before it could mark the batch done
        server.service.log.clear()
        settings = RunSettings(
            target="box",
            target_settings=TargetSettings(type="loopback", base_url=server.url),
            parse=ParseOptions(account=ACCOUNT, check_balances=False),
        )
        second = chase_csv(tmp_path / "b.csv", [Line(day(9), "-9.00", "SHOP 9")])
        report = run([first, second], RuleSet(()), state, settings)
    assert server.service.log == ["GET", "POST 1"]  # the pending batch was settled, then only SHOP 9 was sent
    assert report.reconciled is not None and report.reconciled.found == 4
    assert [f.new for f in report.files] == [0, 1]
    assert len(server.service.markers()) == 5


class Failing(Remote):
    status: int | None = 503

    def send(self, batch: Sequence[Transaction], idempotency_key: str = "") -> list[UploadResult]:
        raise UploadError("remote", idempotency_key[:8], "service unavailable", status=self.status)


@pytest.mark.parametrize(("status", "left"), [(503, "pending"), (None, "pending"), (422, "failed")])
def test_a_batch_that_may_have_landed_stays_pending_one_refused_is_failed(
    state_path: Path, statement: Path, status: int | None, left: str
) -> None:
    txns = stored(state_path, statement)
    with open_store(state_path) as state:
        target = Failing(state, 1)
        target.status = status
        with pytest.raises(UploadError):
            Journal(state, target, state.begin_run("test")).send(txns, batch_key("remote", txns))
        assert batch_rows(state) == [(left, "remote", 10)]


def test_a_pending_batch_that_cannot_be_settled_stops_new_uploads(state_path: Path, statement: Path) -> None:
    txns = stored(state_path, statement)
    with open_store(state_path) as state:
        with pytest.raises(UploadError):
            Journal(state, Failing(state, 1), state.begin_run("test")).send(txns, batch_key("local", txns))
        outcome = Journal(state, Failing(state, 2), state.begin_run("test")).reconcile()
        assert outcome.batches == 0
        assert outcome.errors == [
            "pending batch 1 could not be reconciled: target remote, batch "
            f"{batch_key('local', txns)[:8]} (HTTP 503): service unavailable"
        ]


def test_the_local_ledger_lands_records_and_confirms_a_batch_in_one_transaction(
    state_path: Path, statement: Path
) -> None:
    txns = stored(state_path, statement)

    class Dying(LocalLedger):
        def write_in_state(self, batch: Sequence[Transaction]) -> list[UploadResult]:
            super().write_in_state(batch)
            raise KeyboardInterrupt  # killed after landing, before the batch is confirmed

    with open_store(state_path) as state:
        with pytest.raises(KeyboardInterrupt):
            Journal(state, Dying(state, 1), state.begin_run("test")).send(txns, batch_key("local", txns))
        assert (batch_rows(state), state.stored_transactions("ledger")) == ([], [])
        results = Journal(state, LocalLedger(state, 2), state.begin_run("test")).send(txns, batch_key("local", txns))
        assert [r.outcome.value for r in results] == ["accepted"] * 10
        assert batch_rows(state) == [("done", "local", 10)]
        assert len(state.accepted_ids("local", [t.external_id or "" for t in txns])) == 10
        assert batch_content(state) == [(None, 10)]
        # Landed once: the ledger's records are the stored rows, and `accepted` holds none of them.
        assert [t.external_id for t in state.stored_transactions("ledger")] == sorted_ids(state)
        assert state.db.execute("SELECT count(*) FROM accepted").fetchone() == (0,)


def sorted_ids(state: State) -> list[str | None]:
    return [t.external_id for t in state.stored_transactions()]


def test_a_run_that_waited_for_an_interrupted_runs_requests_says_so() -> None:
    out = io.StringIO()
    waited = RunReport(1, "box", reconciled=Reconciliation(batches=1, found=4, waited=29.6))
    render_text(waited, PlainConsole(out))
    assert out.getvalue().splitlines()[-1] == (
        "pending batches reconciled: 1 (0 re-sent, 4 found, 0 sent; "
        "waited 30 s for requests of the interrupted run to land)"
    )
    quick = io.StringIO()
    render_text(RunReport(1, "box", reconciled=Reconciliation(batches=1, found=4)), PlainConsole(quick))
    assert quick.getvalue().splitlines()[-1] == "pending batches reconciled: 1 (0 re-sent, 4 found, 0 sent)"
