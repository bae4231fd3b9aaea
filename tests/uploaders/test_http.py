"""The shared HTTP base with an injected transport: retries, backoff, limits, errors, redaction."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from importer.config.secrets import Secret
from importer.core.errors import ConfigError, UploadError
from importer.targets.http import Http, Request, RetryPolicy, Uncertain, check_base_url
from importer.targets.limits import RateLimiter, _Bucket, _Budget

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **kwargs: object) -> Http:
    retry = RetryPolicy(attempts=4, base=0.001)
    return Http("demo", "https://api.example.com/v1", transport=httpx.MockTransport(handler), retry=retry, **kwargs)  # type: ignore[arg-type]


def answers(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


def test_retries_5xx_and_429_then_succeeds() -> None:
    handler, seen = answers(httpx.Response(503), httpx.Response(429), httpx.Response(200, json={"ok": True}))
    assert client(handler).call(Request("GET", "/x")).json() == {"ok": True}
    assert len(seen) == 3


def test_never_retries_a_validation_error() -> None:
    handler, seen = answers(httpx.Response(422, json={"error": "Payee can't be blank"}))
    with pytest.raises(UploadError) as caught:
        client(handler).call(Request("POST", "/x", body={}), batch="b1")
    assert len(seen) == 1
    assert str(caught.value) == (
        'target demo, batch b1 (HTTP 422): POST /v1/x answered 422: {"error":"Payee can\'t be blank"}'
    )
    assert caught.value.status == 422


def test_retry_after_is_honoured() -> None:
    handler, _seen = answers(httpx.Response(429, headers={"Retry-After": "0.3"}), httpx.Response(200))
    start = time.monotonic()
    client(handler).call(Request("GET", "/x"))
    assert time.monotonic() - start >= 0.3


def test_a_lost_answer_to_an_unsafe_create_is_uncertain_not_retried() -> None:
    handler, seen = answers(httpx.ReadTimeout("slow"), httpx.Response(201))
    with pytest.raises(Uncertain):
        client(handler).call(Request("POST", "/x", body={}, safe=False))
    assert len(seen) == 1


def test_a_lost_answer_to_a_safe_request_is_retried() -> None:
    handler, seen = answers(httpx.RemoteProtocolError("peer closed"), httpx.Response(200))
    client(handler).call(Request("POST", "/x", body={}, safe=True))
    assert len(seen) == 2


def test_connection_refused_is_retried_even_for_a_create() -> None:
    handler, seen = answers(httpx.ConnectError("refused"), httpx.Response(201))
    client(handler).call(Request("POST", "/x", body={}, safe=False))
    assert len(seen) == 2


def test_gives_up_after_the_last_attempt_with_the_last_answer() -> None:
    handler, seen = answers(*[httpx.Response(503, json={"error": "maintenance"})] * 4)
    with pytest.raises(UploadError, match="answered 503"):
        client(handler).call(Request("GET", "/x"))
    assert len(seen) == 4


def test_money_goes_out_as_exact_json_numbers() -> None:
    from decimal import Decimal

    handler, seen = answers(httpx.Response(200))
    client(handler).call(Request("POST", "/x", body={"amount": Decimal("0.10"), "big": Decimal("12345678901234.57")}))
    assert seen[0].content == b'{"amount":0.10,"big":12345678901234.57}'


@pytest.mark.parametrize("url", ["http://api.example.com", "ftp://127.0.0.1", "http://10.0.0.5:8000"])
def test_plain_http_is_refused_except_to_loopback(url: str) -> None:
    with pytest.raises(ConfigError, match="plain http:// is allowed only"):
        check_base_url("demo", url)


@pytest.mark.parametrize(
    "url", ["https://api.example.com/v2", "http://127.0.0.1:8765/x", "http://localhost/", "http://[::1]:80"]
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert check_base_url("demo", url) == url.rstrip("/")


def test_tokens_are_redacted_from_errors_and_previews() -> None:
    token = Secret("sk-live-0123456789abcdef")
    handler, _ = answers(httpx.Response(401, text="bad key sk-live-0123456789abcdef"))
    http = client(handler, auth_headers={"Authorization": f"Bearer {token.reveal()}"})
    with pytest.raises(UploadError) as caught:
        http.call(Request("GET", "/x"))
    assert "sk-live" not in str(caught.value) and "***" in str(caught.value)
    preview = Request("GET", "/x", params={"q": "1"}).preview(http.base_url, http.auth_headers)
    assert preview == "GET https://api.example.com/v1/x?q=1\nAuthorization: Bearer ***"
    assert str(token) == repr(token) == "***"


def test_limiter_paces_before_the_budget_runs_out() -> None:
    limiter = RateLimiter({"": 0.5})
    limiter.observe({"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "3"}, 200)
    start = time.monotonic()
    for _ in range(4):
        limiter.acquire()
    assert time.monotonic() - start >= 0.45  # the fourth waited for the window to roll


def test_limiter_books_what_the_server_says_was_spent_elsewhere() -> None:
    limiter = RateLimiter({"": 0.3})
    limiter.observe({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"}, 200)
    start = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - start >= 0.25


def test_limiter_counts_cost_in_records() -> None:
    limiter = RateLimiter({"": 0.3})
    limiter.observe({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "100"}, 200)
    limiter.acquire(60)
    start = time.monotonic()
    limiter.acquire(60)
    assert time.monotonic() - start >= 0.25


def test_a_token_bucket_paces_to_its_refill_rate_not_to_its_window() -> None:
    bucket = _Bucket(window=100.0)  # 10 tokens per 100 s: one every 10 s
    bucket.sync(limit=10, remaining=10, now=0.0)
    for _ in range(10):
        assert bucket.wait(0.0, 1) == 0.0
        bucket.book(0.0, 1)
    assert bucket.wait(0.0, 1) == pytest.approx(10.0)  # one refill away, not a whole window
    assert bucket.wait(5.0, 1) == pytest.approx(5.0)
    assert bucket.wait(10.0, 1) == 0.0


def test_a_token_bucket_takes_the_servers_lower_count() -> None:
    bucket = _Bucket(window=100.0)
    bucket.sync(limit=10, remaining=10, now=0.0)
    bucket.sync(limit=10, remaining=2, now=0.0)  # another client spent some
    bucket.book(0.0, 2)
    assert bucket.wait(0.0, 1) == pytest.approx(10.0)
    bucket.sync(limit=10, remaining=9, now=0.0)  # the server has not counted our two yet: ours stays
    assert bucket.wait(0.0, 1) == pytest.approx(10.0)


def test_a_window_frees_what_aged_out_of_its_log() -> None:
    window = _Budget(window=60.0)
    window.sync(limit=100, remaining=100, now=0.0)
    window.book(0.0, 60)
    window.book(10.0, 40)
    assert window.wait(20.0, 50) == pytest.approx(40.0)  # the 60 booked at 0 free at 60
    assert window.used(60.0) == 40
