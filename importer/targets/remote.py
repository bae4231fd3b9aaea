"""What every budgeting-service uploader shares: settings, token, name mapping, send and lookup.

A service module subclasses `RemoteTarget` and supplies the parts that differ: how to
authenticate, how to list and create accounts and categories, how a batch becomes requests,
how a response becomes per-record results, and where the external-id marker lives.

    send(batch)
      ├── prepare: every account and category name → service id (listed once, cached per run);
      │            missing ones created when `create_missing`, else UploadError listing them all
      ├── precheck: `lookup` the batch; what the server already holds is DUPLICATE, not re-sent
      └── create:  per record (bounded concurrency) or per chunk; an `Uncertain` create is
                   looked up before it is sent again, so a dropped connection cannot double it
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from importer.config.secrets import Secret, resolve_token
from importer.config.settings import TargetSettings
from importer.core.errors import ConfigError, UploadError
from importer.core.models import Outcome, Transaction, UploadResult
from importer.internals.lazy import lazy_module
from importer.store.base import Store
from importer.targets.base import Ability, Target
from importer.targets.http import Http, Request, RetryPolicy, Uncertain
from importer.targets.limits import RateLimiter, SharedRateLimiter

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

MARKER_RE = re.compile(r"imp:([0-9a-f]{20})")
_UNCERTAIN_TRIES = 4


class ServiceOptions(BaseModel):
    """Base of each service's `options:`; unknown keys are refused at load time."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    rate_window_scale: float = 1.0  # <1 shortens the service's limit windows (sandbox benchmarks)
    precheck: bool = True  # look up each batch on the server before creating it


def marker(txn: Transaction) -> str:
    """The marker written into each record: stable per external id, short enough for any note."""
    return _marker(txn.external_id or "")


@functools.lru_cache(maxsize=65536)  # asked several times per record (payload, results, lookups)
def _marker(external_id: str) -> str:
    return "imp:" + hashlib.sha256(external_id.encode()).hexdigest()[:20]


def accepted(txn: Transaction, remote_id: str | None) -> UploadResult:
    return UploadResult(external_id=txn.external_id or "", outcome=Outcome.ACCEPTED, remote_id=remote_id)


def duplicate(txn: Transaction, remote_id: str | None) -> UploadResult:
    return UploadResult(external_id=txn.external_id or "", outcome=Outcome.DUPLICATE, remote_id=remote_id)


def rejected(txn: Transaction, reason: str) -> UploadResult:
    return UploadResult(external_id=txn.external_id or "", outcome=Outcome.REJECTED, reason=reason)


class RemoteTarget(Target):
    """A budgeting service reached over HTTP.  Subclasses set the class attributes below."""

    # Every service can show a dry run's requests, map names first and find its records by
    # marker; a service adds DELETE or UPDATE where its API allows (SpendSense takes LOOKUP away).
    abilities = frozenset({Ability.PLAN, Ability.PREPARE, Ability.LOOKUP})
    default_url: ClassVar[str]
    default_batch: ClassVar[int] = 100
    bulk: ClassVar[bool] = False  # one request carries many records (else one per record)
    can_create: ClassVar[frozenset[str]] = frozenset({"account", "category"})
    windows: ClassVar[dict[str, float]] = {}  # rate-limit header suffix → window seconds
    token_bucket: ClassVar[bool] = False  # the budget refills continuously rather than per window
    Options: ClassVar[type[ServiceOptions]] = ServiceOptions
    retry_statuses: ClassVar[frozenset[int]] = frozenset({429, 500, 502, 503, 504})
    rejectable: ClassVar[frozenset[int]] = frozenset({400, 404, 409, 422})  # the server judged the record

    def __init__(
        self,
        state: Store | None,
        run_id: int = 0,
        settings: TargetSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if settings is None:
            raise ConfigError(f"target type {self.name} needs settings: add it under `targets:` in importer.yaml.")
        self.settings = settings
        self.options = self._options(settings.options)
        self.batch_size = settings.batch_size or self.default_batch
        self.http = self._http(resolve_token(self.name, settings), transport, state)
        self.pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix=self.name)
        self.names: dict[str, dict[Hashable, str]] = {}
        self.resolved: dict[str, dict[Hashable, str]] = {"account": {}, "category": {}}
        self.mapping_lock = threading.Lock()
        self.currencies: dict[str, str] = {}  # account name → currency, for accounts we create
        self.placeholders: dict[tuple[str, Hashable], str] = {}  # names a dry run would create
        self.accounts_map = dict(settings.accounts)  # a plain dict: read for every record

    def _options(self, raw: Mapping[str, Any]) -> Any:
        try:
            return self.Options.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"target {self.name}: options.{key}: {err['msg']}") from None

    def _http(self, token: Secret, transport: httpx.BaseTransport | None, state: Store | None) -> Http:
        return Http(
            self.name,
            self.settings.base_url or self.default_url,
            auth_headers=self.auth_headers(token),
            timeout=self.settings.timeout,
            concurrency=self.settings.concurrency,
            retry=RetryPolicy(self.settings.retries, self.settings.backoff, retry_statuses=self.retry_statuses),
            limiter=self._limiter(token, state),
            transport=transport,
        )

    def _limiter(self, token: Secret, state: Store | None) -> RateLimiter:
        """The shared budget when the state is shared by many workers, else this process's own."""
        windows = {k: v * self.options.rate_window_scale for k, v in self.windows.items()}
        rates = state.shared_rates() if state is not None else None
        if rates is None:
            return RateLimiter(windows, bucket=self.token_bucket)
        return SharedRateLimiter(rates, self.name, token.reveal(), windows, bucket=self.token_bucket)

    # --- what a service supplies ------------------------------------------------------------

    def auth_headers(self, token: Secret) -> dict[str, str]:
        raise NotImplementedError

    def list_names(self, kind: str) -> dict[Hashable, str]:
        """kind "account" or "category": the service's names (and ids) → id."""
        raise NotImplementedError

    def create_name(self, kind: str, key: Hashable) -> str:
        raise NotImplementedError

    def category_key(self, txn: Transaction) -> Hashable | None:
        """What names the category of `txn` on the service (None: send it uncategorised)."""
        return self.settings.categories.get(txn.category, txn.category) if txn.category else None

    def requests(self, batch: Sequence[Transaction]) -> list[Request]:
        """The requests that create `batch` (one per record, or per chunk for bulk services)."""
        raise NotImplementedError

    def results(self, chunk: Sequence[Transaction], response: httpx.Response) -> list[UploadResult]:
        """Per-record results from the answer to the request for `chunk`."""
        raise NotImplementedError

    def remote_markers(self, txns: Sequence[Transaction]) -> dict[str, str]:
        """marker → remote id for records on the service that may match `txns`."""
        raise NotImplementedError

    # --- mapping ----------------------------------------------------------------------------

    def account_key(self, txn: Transaction) -> str:
        name = txn.target_account or txn.account
        return self.accounts_map.get(name, name)

    def account_id(self, txn: Transaction) -> str:
        key = self.account_key(txn)
        return self.resolved["account"].get(key) or self.placeholders[("account", key)]

    def category_id(self, txn: Transaction) -> str | None:
        key = self.category_key(txn)
        if key is None:
            return None
        return self.resolved["category"].get(key) or self.placeholders[("category", key)]

    def prepare(self, txns: Iterable[Transaction], *, dry_run: bool = False) -> None:
        """Resolve every account and category `txns` use; create or report the missing ones."""
        txns = list(txns)
        accounts = [self.account_key(t) for t in txns]
        self.currencies.update(zip(accounts, (t.currency for t in txns)))
        needed: dict[str, set[Hashable]] = {"account": set(accounts)}
        needed["category"] = {key for t in txns if (key := self.category_key(t)) is not None}
        with self.mapping_lock:
            missing = {kind: sorted(map(str, self._resolve(kind, keys))) for kind, keys in needed.items()}
            if any(missing.values()):
                self._create_or_fail(needed, missing, dry_run)

    def _resolve(self, kind: str, keys: set[Hashable]) -> list[Hashable]:
        todo = [k for k in keys if k not in self.resolved[kind]]
        if todo and kind not in self.names:
            self.names[kind] = self.list_names(kind)
        for key in todo:
            if key in self.names.get(kind, {}):
                self.resolved[kind][key] = self.names[kind][key]
        return [k for k in todo if k not in self.resolved[kind]]

    def _create_or_fail(self, needed: dict[str, set[Hashable]], missing: dict[str, list[str]], dry_run: bool) -> None:
        creatable = all(kind in self.can_create for kind, names in missing.items() if names)
        if not (self.settings.create_missing and creatable):
            raise UploadError(self.name, "-", missing_message(self.name, missing, self.settings.create_missing))
        for kind, keys in needed.items():
            for key in [k for k in keys if k not in self.resolved[kind]]:
                if dry_run:  # shown in the plan, never kept as a real id
                    self.placeholders[(kind, key)] = f"<new {kind} {key}>"
                else:
                    self.resolved[kind][key] = self._create_name_surely(kind, key)

    def _create_name_surely(self, kind: str, key: Hashable) -> str:
        """Create an account or category; after a lost answer, list again before re-creating."""
        for _ in range(_UNCERTAIN_TRIES):
            try:
                return self.create_name(kind, key)
            except Uncertain:
                self.names[kind] = self.list_names(kind)
                if key in self.names[kind]:
                    return self.names[kind][key]
        raise UploadError(self.name, "-", f"could not create {kind} {key!r}: the service's answer was lost repeatedly.")

    # --- the Target protocol ----------------------------------------------------------------

    def send(self, batch: Sequence[Transaction], idempotency_key: str = "") -> list[UploadResult]:
        self.prepare(batch)
        precheck = self.options.precheck and not self.idempotent and Ability.LOOKUP in self.abilities
        known = self.known(batch) if precheck else {}
        results = {t.external_id or "": duplicate(t, known[t.external_id]) for t in batch if t.external_id in known}
        todo = [t for t in batch if t.external_id not in known]
        for result in self.create(todo, idempotency_key[:12] or "-"):
            results[result.external_id] = result
        return [results[t.external_id or ""] for t in batch]

    def create(self, todo: Sequence[Transaction], batch: str) -> list[UploadResult]:
        """Create `todo`; bulk services send chunks, others one request per record, concurrently."""
        units: list[Sequence[Transaction]] = chunks(todo, self.chunk_size) if self.bulk else [[t] for t in todo]
        done = self.pool.map(lambda unit: self._create_surely(unit, batch), units)
        return [result for unit_results in done for result in unit_results]

    chunk_size: int = 50

    def _create_surely(self, unit: Sequence[Transaction], batch: str) -> list[UploadResult]:
        """Create `unit`; after an uncertain attempt, look it up and re-send only what is absent."""
        results: list[UploadResult] = []
        pending = list(unit)
        for _ in range(_UNCERTAIN_TRIES):
            try:
                return results + self._create_once(pending, batch)
            except Uncertain:
                found = self.lookup(pending)
                results += [accepted(t, found[t.external_id]) for t in pending if t.external_id in found]
                pending = [t for t in pending if t.external_id not in found]
                if not pending:
                    return results
        return results + [rejected(t, "the service's answer was lost repeatedly; retried next run") for t in pending]

    def _create_once(self, unit: Sequence[Transaction], batch: str) -> list[UploadResult]:
        (request,) = self.requests(unit)
        try:
            response = self.http.call(request, batch, ok=self.ok_statuses)
        except UploadError as exc:
            if exc.status in self.rejectable:
                return [rejected(t, exc.body or str(exc)) for t in unit]
            if exc.status in (401, 403):  # the whole session is refused: stop the batch
                raise
            # retries exhausted on this record alone: the rest of the batch may have landed and
            # must still be reported, so this one fails by itself and is sent again next run
            return [rejected(t, str(exc)) for t in unit]
        return self.results(unit, response)

    ok_statuses: frozenset[int] = frozenset(range(200, 300))

    def lookup(self, txns: Sequence[Transaction]) -> dict[str, str]:
        if not txns:
            return {}
        self.prepare(txns)
        return self.lookup_prepared(txns)

    def lookup_prepared(self, txns: Sequence[Transaction]) -> dict[str, str]:
        """`lookup` for `txns` whose names `prepare` has already resolved."""
        if not txns:
            return {}
        wanted = {marker(t): t.external_id or "" for t in txns}
        found = self.remote_markers(txns)
        return {wanted[m]: remote for m, remote in found.items() if m in wanted}

    def known(self, batch: Sequence[Transaction]) -> dict[str, str]:
        """What of `batch` the server already holds, checked before sending (`send` prepared it)."""
        return self.lookup_prepared(batch)

    def plan(self, txns: Sequence[Transaction]) -> list[str]:
        """The exact requests `send` would make for `txns`, as text, secrets redacted."""
        self.prepare(txns, dry_run=True)
        return [
            r.preview(self.http.base_url, self.http.auth_headers)
            for b in chunks(txns, self.batch_size)
            for r in self.requests(b)
        ]

    def check(self) -> list[str]:
        """Read-only checks for `importer targets check`: credentials, permissions, mapping."""
        lines = []
        for kind in ("account", "category"):
            self.names[kind] = self.list_names(kind)
            lines.append(f"{kind} list readable: {len(set(self.names[kind].values()))} found")
        for kind, mapping in (("account", self.settings.accounts), ("category", self.settings.categories)):
            for local, remote in mapping.items():
                ok = remote in self.names[kind]
                lines.append(f"{kind} {local!r} → {remote!r}: {'found' if ok else 'MISSING'}")
        return lines

    def close(self) -> None:
        # On a normal finish nothing is queued or waiting; after Ctrl-C, batches still queued are
        # dropped and one waiting for the rate limit gives up at once (both stay pending in the
        # journal), so the run ends within a second instead of after the service's window.
        self.http.limiter.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.http.close()


def missing_message(target: str, missing: dict[str, list[str]], create_missing: bool) -> str:
    parts = [f"{kind} names not found on {target}: {', '.join(names)}" for kind, names in missing.items() if names]
    advice = (
        "this service cannot create them through its API; create them in the app or map them in importer.yaml."
        if create_missing
        else "create them in the app, map them under accounts:/categories: in importer.yaml, or set create_missing: true."
    )
    return "; ".join(parts) + f". Nothing was sent: {advice}"


T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def by_name_and_id(rows: Iterable[Mapping[str, Any]], name_key: str = "name") -> dict[Hashable, str]:
    """A name → id map that also maps each id to itself, so a config may give either."""
    out: dict[Hashable, str] = {}
    for row in rows:
        out[str(row[name_key])] = str(row["id"])
        out[str(row["id"])] = str(row["id"])
    return out
