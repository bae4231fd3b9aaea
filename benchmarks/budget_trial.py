"""Two workers, one token, one PostgreSQL state: do they keep to the service's limit together?

`python -m benchmarks.budget_trial [--state postgresql://…] [--rows N] [--window-scale S] [--budget-scale B]`

The sandbox runs here with duitmyself's limits on (its minute budget shrunk by `--budget-scale`,
its windows by `--window-scale`, so a run spans a dozen windows in half a minute) and records each
request's arrival and answer.  Two worker processes each upload `--rows` transactions of their
own account through the real target, with the same token, on one PostgreSQL state: the budget
they spend is the state's (`SharedRateLimiter`).  Each worker records its own requests too.

Figures, on windows of the limit's length laid end to end from the first request the server
counted: the server's count per window (combined) and each worker's, against the limit; the
combined rate over the whole windows as a share of the limit; the most the server counted in
any rolling window (never above the limit, or it would have said 429); and the 429s.  Without
`--state` (or IMPORTER_STATE) a throwaway PostgreSQL is started as the tests start one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from benchmarks.upload_bench import transactions
from importer.config.settings import TargetSettings
from importer.config.state_location import PgUrl
from importer.sandbox import SERVICES, Sandbox, target_settings
from importer.sandbox.common import Limits
from importer.store.postgres import PostgresStore
from importer.store.sqlite import State
from importer.targets.duitmyself import Duitmyself
from importer.targets.limits import RateLimiter, SharedRateLimiter
from tests import pgserver

SERVICE = "duitmyself"
_WORKER_LIMIT = 600  # seconds a worker may take before the trial gives up on it


class Recorder(httpx.HTTPTransport):
    """The worker's own log: when each request went out, and its answer's status."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[float, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.time()
        response = super().handle_request(request)
        self.log.append((sent, response.status_code))
        return response


def work(sandbox_url: str, number: int, rows: int, window_scale: float, shared: bool) -> dict[str, Any]:
    """One worker: upload `rows` transactions of account `bench-<number>`; its log and its 429s.
    Not `shared`: the target is given no state, so it paces to its own count (the before)."""
    os.environ[SERVICES[SERVICE].token_env] = SERVICES[SERVICE].token
    raw = target_settings(SERVICE, sandbox_url)
    settings = TargetSettings.model_validate({**raw, "options": {"rate_window_scale": window_scale}})
    txns = [
        t.model_copy(update={"account": f"bench-{number}", "external_id": f"v1:{number:02d}{i:030x}"})
        for i, t in enumerate(transactions(rows))
    ]
    recorder = Recorder()
    with PostgresStore(PgUrl(os.environ["IMPORTER_STATE"])) as state:
        target = Duitmyself(state if shared else None, 0, settings, transport=recorder)
        try:
            target.prepare(txns)
            results = target.send(txns, f"trial{number}")
        finally:
            target.close()
    landed = sum(r.outcome.value == "accepted" for r in results)
    return {"worker": number, "log": recorder.log, "429": target.http.stats["429"], "landed": landed}


def run_trial(
    url: str, rows: int, window_scale: float, budget_scale: float, *, shared: bool = True, workers: int = 2
) -> dict[str, Any]:
    """Start the sandbox and the workers on state `url`; the trial's figures (`figures`)."""
    limits = Limits(enabled=True, window_scale=window_scale, budget_scale=budget_scale, record=True)
    with Sandbox(limits=limits) as sandbox:
        env = {**os.environ, "IMPORTER_STATE": url}
        command = [sys.executable, "-m", "benchmarks.budget_trial", "--worker"]
        args = [sandbox.url(SERVICE), str(rows), str(window_scale), "shared" if shared else "own"]
        procs = [
            subprocess.Popen([*command, str(n), *args], env=env, stdout=subprocess.PIPE) for n in range(1, workers + 1)
        ]
        outs = [json.loads(proc.communicate(timeout=_WORKER_LIMIT)[0]) for proc in procs]
        fake = sandbox.fakes[SERVICE]
        limit, window = fake.minute.limit, fake.minute.seconds  # type: ignore[attr-defined]
        return figures(list(fake.arrivals), outs, limit, window)


def figures(
    arrivals: list[tuple[float, int]], workers: list[dict[str, Any]], limit: int, window: float
) -> dict[str, Any]:
    counted = sorted(t for t, status in arrivals if status != 429)
    start = counted[0]
    whole = int((counted[-1] - start) // window)  # windows wholly inside the run (the last is cut short)
    combined = _per_window(counted, start, window, whole)
    per_worker = {w["worker"]: _per_window([t for t, _ in w["log"]], start, window, whole) for w in workers}
    return {
        "limit": limit,
        "window_seconds": window,
        "whole_windows": whole,
        "combined_per_window": combined,
        "per_worker_per_window": per_worker,
        "share_of_limit": sum(combined) / (whole * limit) if whole else math.nan,
        "most_in_a_rolling_window": _most_in_window(counted, window),
        "server_429": sum(status == 429 for _, status in arrivals),
        "worker_429": {w["worker"]: w["429"] for w in workers},
        "landed": {w["worker"]: w["landed"] for w in workers},
    }


def _per_window(stamps: Sequence[float], start: float, window: float, whole: int) -> list[int]:
    counts = [0] * whole
    for stamp in stamps:
        k = int((stamp - start) // window)
        if 0 <= k < whole:
            counts[k] += 1
    return counts


def _most_in_window(stamps: Sequence[float], window: float) -> int:
    """The most stamps in any half-open span of `window` seconds (two pointers over sorted stamps)."""
    most, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamps[first] <= stamp - window:
            first += 1
        most = max(most, last - first + 1)
    return most


def limiter_cost(limiter: RateLimiter, requests: int = 2_000) -> dict[str, float]:
    """What pacing costs a request where the budget never runs out: `attempt`, `observe` of
    duitmyself's headers, `settle`; microseconds of this process's CPU and of wall time each."""
    headers = {f"X-RateLimit-{k}-{w}": "1000000" for k in ("Limit", "Remaining") for w in ("Minute", "Day")}
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        _, booked = limiter.attempt(1)
        limiter.observe(headers, 200)
        limiter.settle(booked or [])
    return {
        "cpu_us": (time.process_time() - cpu) / requests * 1e6,
        "wall_us": (time.perf_counter() - wall) / requests * 1e6,
    }


def overhead(url: str, folder: Path) -> dict[str, dict[str, float]]:
    """`limiter_cost` of a worker's own limiter, and of the shared one on SQLite and on PostgreSQL."""
    windows = Duitmyself.windows
    costs = {"own (in process)": limiter_cost(RateLimiter(windows))}
    with State(folder / "state.sqlite") as lite, PostgresStore(PgUrl(url)) as pg:
        for name, rates in (("shared, SQLite", lite.open_rates()), ("shared, PostgreSQL", pg.open_rates())):
            costs[name] = limiter_cost(SharedRateLimiter(rates, SERVICE, "a token", windows))
            rates.close()
    return costs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.budget_trial", description=__doc__.split("\n")[0])
    parser.add_argument("--state", default=os.environ.get("IMPORTER_STATE"), help="a postgresql:// URL")
    parser.add_argument("--rows", type=int, default=150, help="transactions per worker")
    parser.add_argument("--window-scale", type=float, default=0.05, help="duitmyself's minute becomes 3 s")
    parser.add_argument("--budget-scale", type=float, default=0.05, help="600 a minute becomes 30")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--own-budgets", action="store_true", help="each worker its own count (the before)")
    parser.add_argument("--overhead", action="store_true", help="what pacing costs a request, per engine")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        number, url, rows, scale, shared = args.worker
        print(json.dumps(work(url, int(number), int(rows), float(scale), shared == "shared")))
        return
    print(json.dumps(_trial(args), indent=1))


def _trial(args: argparse.Namespace) -> dict[str, Any]:
    if args.state:
        return _on(args.state, args)
    server = pgserver.start()
    try:
        return _on(server.isolated_url("budget_trial"), args)
    finally:
        pgserver.stop(server)


def _on(url: str, args: argparse.Namespace) -> dict[str, Any]:
    if args.overhead:
        with tempfile.TemporaryDirectory() as folder:
            return overhead(url, Path(folder))
    scales = (args.rows, args.window_scale, args.budget_scale)
    return run_trial(url, *scales, shared=not args.own_budgets, workers=args.workers)


if __name__ == "__main__":
    main()
