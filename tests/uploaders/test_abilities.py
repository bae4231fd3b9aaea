"""Every REGISTRY target held to its declared abilities (importer/targets/base.py).

What a target declares works: against its sandbox over real HTTP on 127.0.0.1, or in the state
database for the local ledger.  What it does not declare raises the error that says so, before
anything reaches the service.  The journal, the pipeline and undo reach each ability through the
declaration alone: a dry run shows a plan only where PLAN is declared, undo deletes through
`delete` (the local ledger's records too), and a pending batch of a target without LOOKUP is sent
again.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import importer
from importer.cli import main
from importer.cli.sandbox_cmd import sandbox_config
from importer.core.errors import UploadError
from importer.core.models import Outcome, Source, Transaction
from importer.run.journal import Journal
from importer.run.pipeline import batch_key
from importer.sandbox import SERVICES, Sandbox
from importer.store.sqlite import State
from importer.targets import REGISTRY, Ability, Target, make_target
from tests.sandbox_fixtures import held, reset, settings_for
from tests.statements import Line, chase_csv, day
from tests.test_journal import stored

A = Ability
DECLARED: dict[str, set[Ability]] = {
    "local": {A.IN_STATE, A.LOOKUP, A.UPDATE, A.DELETE},
    "wallet-v1": {A.PLAN, A.PREPARE, A.LOOKUP},
    "wallet": {A.PLAN, A.PREPARE, A.LOOKUP, A.DELETE},
    "duitmyself": {A.PLAN, A.PREPARE, A.LOOKUP, A.UPDATE, A.DELETE},
    "pocketsmith": {A.PLAN, A.PREPARE, A.LOOKUP, A.DELETE},
    "toshl": {A.PLAN, A.PREPARE, A.LOOKUP, A.DELETE},
    "spendsense": {A.PLAN, A.PREPARE},
}
SAMPLE_OFX = "samples/ofx/checking-2026-10.ofx"  # 15 transactions


def having(ability: Ability) -> list[str]:
    return [name for name, cls in REGISTRY.items() if ability in cls.abilities]


def lacking(ability: Ability) -> list[str]:
    return [name for name, cls in REGISTRY.items() if ability not in cls.abilities]


def txn(n: int, description: str = "STARBUCKS") -> Transaction:
    return Transaction(
        date=dt.date(2026, 10, 1 + n),
        amount=Decimal(f"-{n}.25"),
        currency="USD",
        description=f"{description} {n}",
        account="chase-checking",
        category="Food:Coffee",
        source=Source(path="s.csv", line=n + 2),
        external_id=f"v1:{n:032x}",
    )


@pytest.fixture
def state(state_path: Path) -> Iterator[State]:
    with State(state_path) as opened:
        yield opened


def opened(sandbox: Sandbox, name: str, state: State) -> Target:
    """The target `name`: the local ledger in `state`, a service at its (emptied) sandbox."""
    if name == "local":
        return make_target("local", state, state.begin_run("test"))  # the ledger's rows name their run
    reset(sandbox, name)
    return make_target(name, state, 1, settings_for(sandbox, name))


def on_target(sandbox: Sandbox, name: str, state: State) -> int:
    """How many records the target holds."""
    return len(state.stored_transactions("ledger")) if name == "local" else len(held(sandbox, name))


# the declarations ------------------------------------------------------------------------------


def test_every_registry_entry_declares_exactly_what_it_can_do() -> None:
    assert {name: set(cls.abilities) for name, cls in REGISTRY.items()} == DECLARED


def test_no_module_asks_a_target_for_an_attribute_instead_of_its_declaration() -> None:
    found = []
    for path in sorted(Path(importer.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
            ):
                subject = ast.unparse(node.args[0]) if node.args else ""
                if "target" in subject.lower() or "REGISTRY" in subject:
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


CALLS: dict[Ability, Callable[[Target, State], Any]] = {
    A.PLAN: lambda t, _: t.plan([txn(1)]),
    A.PREPARE: lambda t, _: t.prepare([txn(1)]),
    A.UPDATE: lambda t, _: t.update([txn(1)]),
    A.DELETE: lambda t, _: t.delete(["1"]),
    A.LOOKUP: lambda t, _: t.lookup([txn(1)]),
    A.IN_STATE: lambda t, state: t.write_in_state([txn(1)]),
}
UNDECLARED = [(name, ability) for ability in Ability for name in lacking(ability)]


@pytest.mark.parametrize(("name", "ability"), UNDECLARED, ids=[f"{n}-{a.value}" for n, a in UNDECLARED])
def test_an_undeclared_ability_says_so_and_touches_nothing(
    sandbox: Sandbox, state: State, name: str, ability: Ability
) -> None:
    target = opened(sandbox, name, state)
    with pytest.raises(UploadError) as raised:
        CALLS[ability](target, state)
    assert str(raised.value) == str(target.cannot(ability))
    assert str(raised.value).startswith(f"target {name}, batch -: {name} ")
    assert on_target(sandbox, name, state) == 0


def test_the_refusals_read_as_advice(sandbox: Sandbox, state: State) -> None:
    assert str(opened(sandbox, "wallet-v1", state).cannot(A.DELETE)) == (
        "target wallet-v1, batch -: wallet-v1 has no API to delete records; remove them in the app."
    )
    assert str(opened(sandbox, "spendsense", state).cannot(A.LOOKUP)) == (
        "target spendsense, batch -: spendsense cannot find the records we created on it; "
        "check the app before sending them again."
    )
    assert str(opened(sandbox, "local", state).cannot(A.PLAN)) == (
        "target local, batch -: local cannot show the requests a dry run would make."
    )


# each declared ability, per target ---------------------------------------------------------


@pytest.mark.parametrize("name", having(A.PLAN))
def test_plan_shows_the_requests_and_sends_nothing(sandbox: Sandbox, state: State, name: str) -> None:
    target = opened(sandbox, name, state)
    plan = target.plan([txn(1), txn(2)])
    assert plan and all(line.split()[1].startswith(sandbox.url(name)) for line in plan)
    assert "1.25" in "".join(plan) and "2.25" in "".join(plan)
    assert SERVICES[name].token not in "".join(plan)
    assert held(sandbox, name) == []


@pytest.mark.parametrize("name", having(A.PREPARE))
def test_prepare_resolves_names_on_the_service_before_anything_is_sent(
    sandbox: Sandbox, state: State, name: str
) -> None:
    target = opened(sandbox, name, state)
    target.prepare([txn(1)])
    ids = target.list_names("account")  # type: ignore[attr-defined]  # every PREPARE target is a RemoteTarget
    assert ids[target.account_key(txn(1))] == target.account_id(txn(1))  # type: ignore[attr-defined]
    assert held(sandbox, name) == []


@pytest.mark.parametrize("name", having(A.LOOKUP))
def test_lookup_finds_by_marker_exactly_what_the_target_holds(sandbox: Sandbox, state: State, name: str) -> None:
    target = opened(sandbox, name, state)
    sent = target.send([txn(1), txn(2)], "k")
    assert target.lookup([txn(1), txn(2), txn(3)]) == {r.external_id: r.remote_id for r in sent}
    assert all(r.outcome is Outcome.ACCEPTED and r.remote_id for r in sent)


@pytest.mark.parametrize("name", having(A.DELETE))
def test_delete_removes_what_send_landed(sandbox: Sandbox, state: State, name: str) -> None:
    target = opened(sandbox, name, state)
    sent = target.send([txn(1), txn(2), txn(3)], "k")
    target.delete([r.remote_id or "" for r in sent[:2]])
    assert target.lookup([txn(1), txn(2), txn(3)]) == {sent[2].external_id: sent[2].remote_id}
    assert on_target(sandbox, name, state) == 1


def updated_description(sandbox: Sandbox, name: str, state: State) -> list[str]:
    if name == "local":
        return [t.description for t in state.stored_transactions("ledger")]
    return [record["note"] for record in held(sandbox, name)]


@pytest.mark.parametrize("name", having(A.UPDATE))
def test_update_changes_what_the_target_holds_and_refuses_what_it_does_not(
    sandbox: Sandbox, state: State, name: str
) -> None:
    target = opened(sandbox, name, state)
    target.send([txn(1)], "k")
    results = target.update([txn(1, "RECATEGORISED"), txn(2)])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.REJECTED]
    assert results[1].reason == f"{name} does not hold this record, so there is nothing to update; send it instead."
    assert updated_description(sandbox, name, state) == ["RECATEGORISED 1"]


@pytest.mark.parametrize("name", having(A.IN_STATE))
def test_write_in_state_commits_nothing_itself(sandbox: Sandbox, state: State, name: str) -> None:
    target = opened(sandbox, name, state)
    with pytest.raises(KeyboardInterrupt), state.transaction():
        results = target.write_in_state([txn(1), txn(1)])
        assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.DUPLICATE]
        assert len(state.stored_transactions("ledger")) == 1  # inside the caller's transaction
        raise KeyboardInterrupt  # the caller dies before committing
    assert state.stored_transactions("ledger") == []


def test_a_service_without_lookup_skips_the_precheck_instead_of_failing(sandbox: Sandbox, state: State) -> None:
    reset(sandbox, "spendsense")
    target = make_target("spendsense", state, 1, settings_for(sandbox, "spendsense", options={"precheck": True}))
    assert [r.outcome for r in target.send([txn(1)], "k")] == [Outcome.ACCEPTED]
    assert len(held(sandbox, "spendsense")) == 1


# through the journal, the pipeline and undo ------------------------------------------------


def test_a_pending_batch_of_a_target_without_lookup_is_sent_again(
    sandbox: Sandbox, state_path: Path, tmp_path: Path
) -> None:
    statement = chase_csv(tmp_path / "oct.csv", [Line(day(n), f"-{n}.00", f"SHOP {n}") for n in range(1, 5)])
    txns = stored(state_path, statement)
    reset(sandbox, "spendsense")
    with State(state_path) as state:
        target = make_target("spendsense", state, 1, settings_for(sandbox, "spendsense"))
        Journal(state, target, state.begin_run("test"))._begin(
            batch_key("spendsense", txns), [t.external_id or "" for t in txns]
        )
        outcome = Journal(state, target, state.begin_run("test")).reconcile()
        assert (outcome.batches, outcome.found, outcome.sent, outcome.resent, outcome.errors) == (1, 0, 4, 0, [])
        assert len(state.accepted_ids("spendsense", [t.external_id or "" for t in txns])) == 4
    assert sorted(r["amount"] for r in held(sandbox, "spendsense")) == ["1.00", "2.00", "3.00", "4.00"]


def config_file(sandbox: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "importer.yaml"
    path.write_text(yaml.safe_dump(sandbox_config(sandbox)), encoding="utf-8")
    return path


def cli(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_dry_run_shows_a_plan_exactly_where_one_is_declared(
    sandbox: Sandbox, runner: CliRunner, tmp_path: Path, name: str
) -> None:
    if name != "local":
        reset(sandbox, name)
    base = ["--config", str(config_file(sandbox, tmp_path)), "--state", str(tmp_path / "state.sqlite")]
    code, out = cli(runner, "run", SAMPLE_OFX, "--target", name, "--dry-run", *base)
    assert code == 0, out
    requests = [line for line in out.splitlines() if line.split(" ")[0] in ("GET", "POST")]
    assert bool(requests) == (A.PLAN in REGISTRY[name].abilities)
    assert all(sandbox.url(name) in line for line in requests)
    assert name == "local" or held(sandbox, name) == []


@pytest.mark.parametrize("name", having(A.DELETE))
def test_undo_deletes_through_the_target_the_local_ledger_too(
    sandbox: Sandbox, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    deleted: list[str] = []
    cls = REGISTRY[name]
    real = cls.delete

    def recording(self: Target, remote_ids: list[str]) -> None:
        deleted.extend(remote_ids)
        real(self, remote_ids)

    monkeypatch.setattr(cls, "delete", recording)
    if name != "local":
        reset(sandbox, name)
    state_path = tmp_path / "state.sqlite"
    base = ["--config", str(config_file(sandbox, tmp_path)), "--state", str(state_path)]
    assert cli(runner, "run", SAMPLE_OFX, "--target", name, *base)[0] == 0
    code, out = cli(runner, "undo", "1", "--yes", *base)
    assert (code, out) == (0, f"Undid run 1: forgot 15 transaction(s); removed 15 from {name}.\n")
    assert len(deleted) == 15
    with State(state_path) as state:
        assert on_target(sandbox, name, state) == 0


@pytest.mark.parametrize("name", lacking(A.DELETE))
def test_undo_where_the_target_cannot_delete_says_so_and_keep_remote_forgets(
    sandbox: Sandbox, runner: CliRunner, tmp_path: Path, name: str
) -> None:
    reset(sandbox, name)
    base = ["--config", str(config_file(sandbox, tmp_path)), "--state", str(tmp_path / "state.sqlite")]
    assert cli(runner, "run", SAMPLE_OFX, "--target", name, *base)[0] == 0
    code, out = cli(runner, "undo", "1", "--yes", *base)
    assert (code, out) == (
        1,
        f"error: target {name}, batch -: {name} has no API to delete records; remove them in the app.\n",
    )
    code, out = cli(runner, "undo", "1", "--yes", "--keep-remote", *base)
    assert (code, out.splitlines()[-1]) == (0, f"Left 15 record(s) in {name} (--keep-remote).")
    assert len(held(sandbox, name)) == 15


def test_keep_remote_still_removes_the_local_ledgers_records(runner: CliRunner, tmp_path: Path) -> None:
    state_path = tmp_path / "state.sqlite"
    assert cli(runner, "run", SAMPLE_OFX, "--state", str(state_path))[0] == 0
    code, out = cli(runner, "undo", "1", "--yes", "--keep-remote", "--state", str(state_path))
    assert (code, out) == (0, "Undid run 1: forgot 15 transaction(s); removed 15 from local.\n")
    with State(state_path) as state:
        assert state.stored_transactions("ledger") == []
