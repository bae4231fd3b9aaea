"""The fakes answer as the contracts say: auth, validation and error bodies, pagination, limits,
idempotency replay and conflict, partial failures, faults."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from importer.sandbox import Sandbox, duitmyself, pocketsmith, spendsense, toshl, wallet, wallet_v1
from importer.sandbox.common import Faults, Limits
from tests.sandbox_fixtures import reset


@pytest.fixture(scope="module")
def limited() -> Iterator[Sandbox]:
    with Sandbox(limits=Limits(enabled=True, budget_scale=0.02)) as server:  # budgets of 2%: reached quickly
        yield server


def http(sandbox: Sandbox, name: str, token: str | None = None, scheme: str = "Bearer") -> httpx.Client:
    headers = {"Authorization": f"{scheme} {token}"} if token else {}
    return httpx.Client(base_url=sandbox.url(name), headers=headers, timeout=10)


def test_wallet_auth_answers(sandbox: Sandbox) -> None:
    assert http(sandbox, "wallet").get("/v1/api/accounts").json() == {"error": "Invalid or expired token"}
    bad = http(sandbox, "wallet", "nodots").get("/v1/api/accounts")
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid JWT format: expected 3 parts, got 1"})
    board = http(sandbox, "wallet", wallet.BOARD_TOKEN).get("/v1/api/accounts")
    assert board.status_code == 403 and board.headers["content-type"].startswith("text/plain")


def test_wallet_batch_envelope_statuses(sandbox: Sandbox) -> None:
    reset(sandbox, "wallet")
    client = http(sandbox, "wallet", wallet.TOKEN)
    account = client.post(
        "/v1/api/accounts", json={"name": "A", "accountType": "General", "currencyCode": "EUR", "initialBalance": 0}
    )
    assert account.status_code == 201
    good = {
        "accountId": account.json()["account"]["id"],
        "amount": {"value": -1.5},
        "recordDate": "2026-01-02T00:00:00Z",
    }
    bad = {**good, "amount": {"value": 0}}
    assert client.post("/v1/api/records", json=[good]).status_code == 200
    mixed = client.post("/v1/api/records", json=[good, bad])
    assert mixed.status_code == 207 and mixed.json()["summary"]["clientErrors"] == 1
    assert mixed.json()["results"][1] == {
        "inputIndex": 1,
        "success": False,
        "error": "amount.value must be a non-zero number",
        "errorType": "client_error",
        "fields": ["amount"],
    }
    assert client.post("/v1/api/records", json=[bad]).status_code == 400
    assert client.post("/v1/api/records", json=[good] * 51).json() == {
        "error": "body must be an array of 1 to 50 records"
    }
    assert client.get("/v1/api/records", params={"limit": 201}).json() == {"error": "limit must be between 1 and 200"}


def test_wallet_token_bucket_says_429_with_retry_after(limited: Sandbox) -> None:
    client = http(limited, "wallet", wallet.TOKEN)
    answers = [client.get("/v1/api/accounts") for _ in range(11)]
    assert answers[0].headers["X-RateLimit-Limit"] == "10"
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].json() == {"error": "Rate limit exceeded. Please try again later."}


def test_wallet_initial_sync_conflict(sandbox: Sandbox) -> None:
    reset(sandbox, "wallet", Faults(sync_conflicts=1))
    client = http(sandbox, "wallet", wallet.TOKEN)
    assert client.get("/v1/api/accounts").status_code == 409
    assert client.get("/v1/api/accounts").status_code == 200


def test_wallet_v1_auth_and_item_errors(sandbox: Sandbox) -> None:
    reset(sandbox, "wallet-v1")
    assert http(sandbox, "wallet-v1").get("/users").status_code == 403
    assert http(sandbox, "wallet-v1").get("/users", params={"auth": wallet_v1.TOKEN}).status_code == 200
    client = http(sandbox, "wallet-v1", base64.b64encode(f"auth:{wallet_v1.TOKEN}".encode()).decode(), "Basic")
    client.post(f"/user/{wallet_v1.USER_ID}/account/a1", json={"name": "Main"})
    item = {
        "account_name": "Main",
        "category_name": "Groceries",
        "currency_code": "EUR",
        "amount": 5,
        "record_type": "expense",
        "payment_type": "cash",
        "record_date": "2026-01-02T10:00:00Z",
    }
    body = client.post(f"/user/{wallet_v1.USER_ID}/records", json=[item, {**item, "record_type": "gift"}]).json()
    assert len(body["created_object_ids"]) == 1
    assert body["error_objects"][0]["failed_property"] == "record_type"


def test_duitmyself_idempotency_replay_and_conflict(sandbox: Sandbox) -> None:
    reset(sandbox, "duitmyself")
    client = http(sandbox, "duitmyself", duitmyself.TOKEN)
    account = client.post("/v1/accounts", json={"name": "Main"}, headers={"Idempotency-Key": "a1"}).json()["data"]
    txn = {"externalId": "bank:1", "accountId": account["id"], "amount": 12.5, "date": "2026-01-02"}
    first = client.post("/v1/transactions/upsert", json=txn, headers={"Idempotency-Key": "k1"})
    replay = client.post("/v1/transactions/upsert", json=txn, headers={"Idempotency-Key": "k1"})
    assert first.status_code == replay.status_code == 201 and first.content == replay.content
    conflict = client.post("/v1/transactions/upsert", json={**txn, "amount": 13}, headers={"Idempotency-Key": "k1"})
    assert conflict.status_code == 409 and conflict.headers["content-type"] == "application/problem+json"
    assert conflict.json()["code"] == "conflict"
    missing = client.post("/v1/transactions/upsert", json=txn)
    assert missing.json()["detail"] == "The Idempotency-Key header is required on POST and PATCH."
    unknown = client.post("/v1/transactions/upsert", json={**txn, "colour": 1}, headers={"Idempotency-Key": "k2"})
    assert unknown.json()["detail"] == "Unknown field(s): colour."
    updated = client.post("/v1/transactions/upsert", json={**txn, "note": "x"}, headers={"Idempotency-Key": "k3"})
    assert updated.json()["operation"] == "updated"


def test_duitmyself_scopes_and_headers(sandbox: Sandbox) -> None:
    readonly = http(sandbox, "duitmyself", duitmyself.READONLY_TOKEN)
    refused = readonly.post("/v1/transactions/upsert", json={}, headers={"Idempotency-Key": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert http(sandbox, "duitmyself", "key_nope").get("/v1/me").json()["code"] == "unauthorized"


def test_duitmyself_minute_budget_headers(limited: Sandbox) -> None:
    client = http(limited, "duitmyself", duitmyself.TOKEN)
    answer = client.get("/v1/me")
    assert answer.headers["X-RateLimit-Limit-Minute"] == "12" and answer.headers["X-RateLimit-Limit-Day"] == "1000"
    assert int(answer.headers["X-RateLimit-Remaining-Minute"]) < 12


def test_pocketsmith_validation_and_link_pagination(sandbox: Sandbox) -> None:
    reset(sandbox, "pocketsmith")
    client = httpx.Client(base_url=sandbox.url("pocketsmith"), headers={"X-Developer-Key": pocketsmith.TOKEN})
    assert client.post("/transaction_accounts/2001/transactions", json={"amount": 1, "date": "2026-01-01"}).json() == {
        "error": "Payee can't be blank"
    }
    for i in range(25):
        assert (
            client.post(
                "/transaction_accounts/2001/transactions", json={"payee": f"p{i}", "amount": -1, "date": "2026-01-01"}
            ).status_code
            == 201
        )
    page = client.get("/transaction_accounts/2001/transactions", params={"per_page": 10, "page": 2})
    assert len(page.json()) == 10 and page.headers["Total"] == "25"
    assert set(page.links) == {"first", "last", "next", "prev"}
    assert client.get("/transaction_accounts/2001/transactions", params={"per_page": 5}).status_code == 400
    assert client.get("/transaction_accounts/2001/transactions", params={"start_date": "2026-01-01"}).status_code == 400
    assert httpx.get(sandbox.url("pocketsmith") + "/me").status_code == 401


def test_toshl_created_location_and_zero_based_pages(sandbox: Sandbox) -> None:
    reset(sandbox, "toshl")
    client = http(sandbox, "toshl", base64.b64encode(f"{toshl.TOKEN}:".encode()).decode(), "Basic")
    assert client.post("/accounts", json={"name": "Main", "currency": {"code": "EUR"}}).status_code == 201
    entry = {
        "amount": -3.2,
        "currency": {"code": "EUR"},
        "date": "2026-01-01",
        "account": "100",
        "category": "1",
        "extra": {"ext_id": "x"},
    }
    created = client.post("/entries", json=entry)
    assert created.status_code == 201 and created.headers["Location"].endswith(
        "/entries/" + created.headers["Location"].rsplit("/", 1)[1]
    )
    bad = client.post("/entries", json={**entry, "category": "nope"})
    assert bad.json()["error_id"] == "error.object.invalid" and bad.json()["fields"] == [
        {"field": "category", "error": "does not exist"}
    ]
    assert client.get("/entries").json()["description"] == "The from and to parameters are required."
    listed = client.get("/entries", params={"from": "2026-01-01", "to": "2026-01-31"})
    assert listed.json()[0]["extra"] == {"ext_id": "x"} and 'rel="first"' in listed.headers["Link"]


def test_toshl_rate_limit_endpoint_is_free(limited: Sandbox) -> None:
    client = http(limited, "toshl", toshl.TOKEN)
    assert client.get("/rate-limit").json()["limit"] == toshl.LIMIT // 50
    assert client.get("/me").headers["X-RateLimit-Limit"] == "20"


def test_spendsense_drf_answers_in_the_contracts_order(sandbox: Sandbox) -> None:
    reset(sandbox, "spendsense")
    client = http(sandbox, "spendsense", spendsense.TOKEN, "Token")
    assert http(sandbox, "spendsense", spendsense.TOKEN).get("/api/v1/accounts/").json() == {
        "detail": "Authentication credentials were not provided."
    }
    assert client.get("/api/v1/accounts").status_code == 301
    assert client.post("/api/v1/accounts/").status_code == 405
    create = "/api/v1/transactions/create/"
    base = {"account": "Main", "category": "other", "amount": "1.00", "type": "spent"}
    assert client.get(create, params={**base, "amount": ""}).json() == {
        "error": "The following parameters are required: amount"
    }
    assert client.get(create, params=base).json() == {"error": "Account not found!"}
    client.get("/api/v1/accounts/create/", params={"account": "Main"})
    assert client.get(create, params={**base, "type": "x"}).json() == {
        "error": 'The type parameter must be either "spent" or "earn"!'
    }
    assert client.get(create, params={**base, "category": "nope"}).json() == {"error": "Category not found!"}
    assert client.get(create, params={**base, "amount": "1.005"}).json() == {
        "error": "Amount can have at most two decimal places!"
    }
    assert client.get(create, params={**base, "amount": "-1"}).json() == {"error": "Amount must be a positive number!"}
    assert client.get(create, params=base).json() == {"status": "ok"}
    assert client.get(create, params=base).json() == {"status": "ok"}  # no dedupe
    assert len(client.get("/api/v1/transactions/").json()["transactions"]) == 2


def test_maintenance_and_inspection_routes(sandbox: Sandbox) -> None:
    reset(sandbox, "toshl", Faults(maintenance=True))
    assert http(sandbox, "toshl", toshl.TOKEN).get("/me").status_code == 503
    assert httpx.get(sandbox.url("toshl") + "/_sandbox/records").json() == []
    reset(sandbox, "toshl")


def test_each_fake_answers_under_its_own_prefix_only(sandbox: Sandbox) -> None:
    root = f"http://127.0.0.1:{sandbox.port}"
    assert httpx.get(f"{root}/nosuch/v1/api/accounts").json() == {"detail": "Not Found"}
    assert httpx.get(f"{root}/wallet").status_code == 404
    created = http(sandbox, "toshl", toshl.TOKEN).post(
        "/accounts", json={"name": "Prefix", "currency": {"code": "EUR"}}
    )
    assert created.headers["Location"].startswith(f"{root}/accounts/")  # as the mounted app built it
