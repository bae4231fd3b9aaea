"""The one place the importer speaks HTTP: connections, retries, rate limits, error translation.

    Http.call(request)
      ├── RateLimiter.acquire(cost)        wait until the request fits the server's budget
      ├── httpx.Client.send                one pooled client per target (connections reused)
      ├── 429, 5xx, network error          retried with exponential backoff and full jitter,
      │                                    Retry-After honoured; never a 4xx validation answer
      ├── timeout / dropped connection     on a create that is not idempotent: `Uncertain`,
      │   on an unsafe request             so the uploader re-checks the server before re-sending
      └── final failure                    `UploadError(target, batch, status, body)`, redacted

httpx exceptions never leave this module.  Plain http:// is refused except to a loopback host.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from importer.config.secrets import redact
from importer.core.errors import ConfigError, UploadError
from importer.core.jsonmoney import dumps
from importer.internals.lazy import lazy_module
from importer.targets.limits import Cancelled, RateLimiter, retry_after_seconds

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

_JSON = {"Content-Type": "application/json"}
_BODY_LIMIT = 500  # characters of a response body kept in an error message


class Uncertain(Exception):
    """A create may or may not have landed (timeout or dropped connection after sending)."""


@dataclass(frozen=True)
class Request:
    """One HTTP request, before it is sent: what `--dry-run` prints."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cost: int = 1  # units of the rate limit this request spends (Wallet v1 counts records)
    safe: bool = True  # repeating it cannot create a second record (GET, idempotency key)

    def preview(self, base_url: str, auth_headers: Mapping[str, str]) -> str:
        """`METHOD URL`, headers and JSON body, as a user would read them, secrets redacted."""
        url = base_url.rstrip("/") + self.path + (f"?{urlencode(self.params)}" if self.params else "")
        lines = [f"{self.method} {url}"]
        lines += [f"{name}: {value}" for name, value in {**auth_headers, **self.headers}.items()]
        if self.body is not None:
            lines.append(dumps(self.body).decode())
        return redact("\n".join(lines))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base: float = 0.5  # seconds; doubled per attempt, full jitter
    cap: float = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        hinted = retry_after_seconds(response.headers) if response is not None else None
        if hinted is not None:
            return min(hinted, self.cap)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


def check_base_url(target: str, url: str) -> str:
    """`url` when it is https, or http to a loopback host; a ConfigError otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url.rstrip("/")
    raise ConfigError(
        f"target {target}: base_url {url!r} is refused: use https:// (plain http:// is allowed only "
        "for 127.0.0.1, ::1 or localhost, e.g. the sandbox)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Http:
    """A pooled client for one target, with its retry policy and rate limiter."""

    def __init__(
        self,
        target: str,
        base_url: str,
        *,
        auth_headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        concurrency: int = 4,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.target = target
        self.base_url = check_base_url(target, base_url)
        self.auth_headers = dict(auth_headers or {})
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.stats = {"requests": 0, "retries": 0, "429": 0}
        pool = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
        self.client = httpx.Client(
            base_url=self.base_url + "/",
            headers=self.auth_headers,
            timeout=timeout,
            limits=pool,
            transport=transport,
            follow_redirects=False,
        )

    def call(self, request: Request, batch: str = "-", ok: frozenset[int] | None = None) -> httpx.Response:
        """The response to `request` (retried as allowed); UploadError unless its status is in `ok`.

        `ok` defaults to every status below 400; uploaders pass 207/400 etc. where the body
        carries per-record results.
        """
        response = self._with_retries(request, batch)
        accepted = ok if ok is not None else frozenset(range(200, 400))
        if response.status_code not in accepted:
            raise self.error(batch, response)
        return response

    def _with_retries(self, request: Request, batch: str) -> httpx.Response:
        try:
            return self._attempts(request, batch)
        except Cancelled:
            raise UploadError(
                self.target,
                batch,
                "not sent: the run was stopped while this batch waited for the "
                "service's rate limit or a retry; it stays pending for the next run.",
            ) from None

    def _attempts(self, request: Request, batch: str) -> httpx.Response:
        for attempt in range(self.retry.attempts):
            booked = self.limiter.acquire(request.cost)
            try:
                response = self._send_once(request, batch, attempt)
            finally:
                self.limiter.settle(booked)
            if response is not None and response.status_code not in self.retry.retry_statuses:
                return response
            if attempt + 1 == self.retry.attempts:
                break
            self.stats["retries"] += 1
            self.limiter.pause(self.retry.delay(attempt, response))
        if response is None:
            raise UploadError(
                self.target, batch, f"no answer from {self.base_url} after {self.retry.attempts} attempts."
            )
        return response

    def _send_once(self, request: Request, batch: str, attempt: int) -> httpx.Response | None:
        """The response, or None after a network error that is safe to retry."""
        self.stats["requests"] += 1
        try:
            response = self.client.request(
                request.method,
                request.path.lstrip("/"),
                params=request.params,
                content=None if request.body is None else dumps(request.body),
                headers={**_JSON, **request.headers} if request.body is not None else request.headers,
            )
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if not request.safe and _may_have_landed(exc):
                raise Uncertain(f"{type(exc).__name__} on {request.method} {request.path}") from None
            return None
        except httpx.HTTPError as exc:
            raise UploadError(self.target, batch, redact(f"{type(exc).__name__}: {exc}")) from None
        self.limiter.observe(response.headers, response.status_code)
        if response.status_code == 429:
            self.stats["429"] += 1
        return response

    def error(self, batch: str, response: httpx.Response) -> UploadError:
        body = redact(response.text[:_BODY_LIMIT])
        message = f"{response.request.method} {response.request.url.path} answered {response.status_code}: {body}"
        return UploadError(self.target, batch, message, status=response.status_code, body=body)

    def close(self) -> None:
        self.client.close()


def _may_have_landed(exc: Exception) -> bool:
    # A connect error or connect timeout means the request never reached the server.
    return not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
