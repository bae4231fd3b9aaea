"""Each uploader's own behaviour: mapping, sign conventions, partial failures, dry-run plans."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from importer.config.settings import TargetSettings
from importer.core.errors import ConfigError, UploadError
from importer.core.models import Outcome, Source, Transaction
from importer.sandbox import Sandbox
from importer.targets import REGISTRY, make_target
from importer.targets.remote import RemoteTarget
from tests.sandbox_fixtures import held, reset, settings_for


def txn(amount: str, n: int = 0, category: str | None = "Food:Coffee", account: str = "chase-checking") -> Transaction:
    return Transaction(
        date=dt.date(2026, 10, 1 + n % 28),
        amount=Decimal(amount),
        currency="USD",
        description=f"STARBUCKS {n}",
        account=account,
        source=Source(path="s.csv", line=n + 2),
        category=category,
        external_id=f"v1:{n:032x}",
    )


def target(sandbox: Sandbox, name: str, **extra: Any) -> RemoteTarget:
    made = make_target(name, None, 0, settings_for(sandbox, name, **extra))  # type: ignore[arg-type]
    assert isinstance(made, RemoteTarget)
    return made


@pytest.mark.parametrize(
    ("name", "field", "expense", "income"),
    [
        ("wallet", lambda r: r["amount"]["value"], "-12.30", "45.60"),
        ("duitmyself", lambda r: r["amount"], "12.30", "-45.60"),
        ("pocketsmith", lambda r: r["amount"], "-12.30", "45.60"),
        ("toshl", lambda r: r["amount"], "-12.30", "45.60"),
        ("wallet-v1", lambda r: (r["record_type"], r["amount"]), ("expense", "12.30"), ("income", "45.60")),
        ("spendsense", lambda r: (r["type"], r["amount"]), ("spent", "12.30"), ("earn", "45.60")),
    ],
)
def test_sign_conventions_and_exact_amounts_on_the_wire(
    sandbox: Sandbox, name: str, field: Any, expense: Any, income: Any
) -> None:
    reset(sandbox, name)
    with_target = target(sandbox, name)
    results = with_target.send([txn("-12.30", 1), txn("45.60", 2, category=None)], "k")
    with_target.close()
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.ACCEPTED]
    shown = {tuple(map(str, v)) if isinstance(v, tuple) else str(v) for v in map(field, held(sandbox, name))}
    assert shown == {expense, income}


def test_missing_names_stop_the_upload_before_anything_is_sent(sandbox: Sandbox) -> None:
    reset(sandbox, "pocketsmith")
    with_target = target(sandbox, "pocketsmith", create_missing=False, options={})
    batch = [txn("-1.00", 1, "Food:Coffee", "chase-checking"), txn("-2.00", 2, "Shopping", "savings-acct")]
    with pytest.raises(UploadError) as caught:
        with_target.send(batch, "k")
    assert str(caught.value) == (
        "target pocketsmith, batch -: account names not found on pocketsmith: chase-checking, savings-acct; "
        "category names not found on pocketsmith: Food:Coffee, Shopping. Nothing was sent: create them in the app, "
        "map them under accounts:/categories: in importer.yaml, or set create_missing: true."
    )
    assert held(sandbox, "pocketsmith") == []


def test_names_the_api_cannot_create_are_listed_even_with_create_missing(sandbox: Sandbox) -> None:
    reset(sandbox, "wallet-v1")
    with_target = target(sandbox, "wallet-v1", categories={})
    with pytest.raises(
        UploadError, match="category names not found on wallet-v1: Food:Coffee. Nothing was sent: this service cannot"
    ):
        with_target.send([txn("-1.00")], "k")


def test_mapping_by_config_name_and_created_names(sandbox: Sandbox) -> None:
    reset(sandbox, "wallet")
    with_target = target(sandbox, "wallet", categories={"Food:Coffee": "Food & Drinks"})
    with_target.send([txn("-3.00", 1), txn("-4.00", 2, "Brand new")], "k")
    categories = {c["id"]: c["name"] for c in sandbox.fakes["wallet"].categories.values()}
    assert [categories[r["categoryId"]] for r in held(sandbox, "wallet")] == ["Food & Drinks", "Brand new"]


def test_wallet_partial_failure_gives_per_record_results(sandbox: Sandbox) -> None:
    reset(sandbox, "wallet")
    with_target = target(sandbox, "wallet")
    future = txn("-5.00", 3).model_copy(update={"date": dt.date.today() + dt.timedelta(days=3)})
    results = with_target.send([txn("-1.00", 1), future, txn("-2.00", 2)], "k")
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ACCEPTED]
    assert results[1].reason == "recordDate must be an ISO 8601 date-time no more than 24 h ahead (fields: recordDate)"
    assert len(held(sandbox, "wallet")) == 2


def test_wallet_v1_error_objects_become_per_record_results(sandbox: Sandbox) -> None:
    reset(sandbox, "wallet-v1")
    with_target = target(sandbox, "wallet-v1")
    zero = txn("0.00", 2)
    results = with_target.send([txn("-1.00", 1), zero, txn("-2.00", 3)], "k")
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ACCEPTED]
    assert results[1].reason == "amount: amount must be greater than 0"
    assert {r.remote_id for r in results if r.remote_id} == {r["id"] for r in held(sandbox, "wallet-v1")}


def test_spendsense_refuses_amounts_it_cannot_store_without_sending(sandbox: Sandbox) -> None:
    reset(sandbox, "spendsense")
    with_target = target(sandbox, "spendsense")
    results = with_target.send([txn("-1.005", 1), txn("-2.00", 2)], "k")
    assert (
        results[0].reason == "SpendSense takes positive amounts below 100,000,000 with at most 2 decimals, not -1.005"
    )
    assert [r["amount"] for r in held(sandbox, "spendsense")] == ["2.00"]


def test_duitmyself_second_send_replays_instead_of_writing(sandbox: Sandbox) -> None:
    reset(sandbox, "duitmyself")
    with_target = target(sandbox, "duitmyself")
    first = with_target.send([txn("-1.00", 1)], "k")
    again = with_target.send([txn("-1.00", 1)], "k")
    assert first == again and len(held(sandbox, "duitmyself")) == 1
    assert sandbox.fakes["duitmyself"].counts["replayed"] == 1


@pytest.mark.parametrize("name", ["wallet", "duitmyself", "pocketsmith", "toshl"])
def test_lookup_finds_what_the_server_holds_and_delete_removes_it(sandbox: Sandbox, name: str) -> None:
    reset(sandbox, name)
    with_target = target(sandbox, name)
    batch = [txn("-1.00", 1), txn("-2.00", 2), txn("-3.00", 3)]
    sent = with_target.send(batch[:2], "k")
    found = with_target.lookup(batch)
    assert found == {r.external_id: r.remote_id for r in sent}
    with_target.delete([r.remote_id or "" for r in sent])
    assert held(sandbox, name) == []


def test_delete_where_the_api_cannot(sandbox: Sandbox) -> None:
    with pytest.raises(UploadError, match="spendsense has no API to delete records; remove them in the app."):
        target(sandbox, "spendsense").delete(["1"])


def test_dry_run_plan_shows_exact_requests_with_the_token_masked(sandbox: Sandbox) -> None:
    reset(sandbox, "toshl")
    plan = target(sandbox, "toshl").plan([txn("-12.30", 1)])
    assert len(plan) == 1
    first, auth, body = plan[0].splitlines()
    assert first == f"POST {sandbox.url('toshl')}/entries" and auth == "Authorization: Basic ***"
    assert json.loads(body)["amount"] == -12.3 and '"amount":-12.30' in body
    assert held(sandbox, "toshl") == []


def test_unknown_options_are_refused_at_load_time(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigError, match="target toshl: options.colour: Extra inputs are not permitted"):
        target(sandbox, "toshl", options={"colour": "red"})


def test_a_missing_token_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOSHL_TOKEN")
    settings = TargetSettings(type="toshl", base_url="https://api.toshl.com", token_env="TOSHL_TOKEN")
    with pytest.raises(
        ConfigError, match=r"the environment variable TOSHL_TOKEN is not set. Export it \(export TOSHL_TOKEN=...\)"
    ):
        REGISTRY["toshl"](None, 0, settings)  # type: ignore[arg-type]


def test_the_token_can_come_from_the_os_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return "kr-secret-value-42" if (service, username) == ("importer", "toshl") else None

        def set_password(self, service: str, username: str, password: str) -> None: ...

        def delete_password(self, service: str, username: str) -> None: ...

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        settings = TargetSettings.model_validate({"type": "toshl", "keyring": {"username": "toshl"}})
        made = REGISTRY["toshl"](None, 0, settings)  # type: ignore[arg-type]
        assert isinstance(made, RemoteTarget)
        assert made.http.auth_headers["Authorization"].startswith("Basic ")
    finally:
        keyring.set_keyring(previous)


def test_a_plan_names_what_would_be_created_and_creates_nothing(sandbox: Sandbox) -> None:
    reset(sandbox, "toshl")
    planner = target(sandbox, "toshl")
    (request,) = planner.plan([txn("-1.00", 1, "Brand new")])
    assert '"account":"<new account chase-checking>"' in request and '"category":"<new category Brand new>"' in request
    assert sandbox.fakes["toshl"].accounts == {} and planner.resolved["account"] == {}
