"""Upload throughput to every sandbox: `python -m benchmarks.upload_bench [--rows N] [--only NAME]`.

The sandbox runs in its own process (`importer sandbox`), so server and client do not share a
GIL.  Per target, two figures:

* limits off: records/s for `--rows` transactions sent through `Target.send` in batches, as the
  pipeline sends them (parsing and state excluded);
* limits on, with the documented budgets and their windows shortened to `--window` seconds (an
  hour would make a slow benchmark), about two windows' worth per target: the rate allowed,
  `limit * (1 + elapsed / window) / elapsed` (the most a fresh budget lets through in that
  time, per second, whether a rolling window or a token bucket), the rate achieved (units spent
  per second, reads included: the server counts them too), their ratio (the share), and how
  many 429s the client met.  PocketSmith and SpendSense document no limit: their row shows the
  rate they reach with the sandbox's limits switched on, and no share.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import httpx

from importer.config.settings import TargetSettings
from importer.core.models import Source, Transaction
from importer.sandbox import SERVICES, target_settings
from importer.targets import make_target
from importer.targets.remote import RemoteTarget


class Limit(NamedTuple):
    units: int  # what the service allows per window (requests, or records for Wallet v1)
    window: float  # seconds, as documented
    per_record: bool  # the unit is a record, not a request
    records_per_unit: int  # records one unit carries, to size the run at about two windows' worth


LIMITS = {
    "wallet-v1": Limit(10_000, 60, True, 1),
    "wallet": Limit(500, 3600, False, 50),
    "duitmyself": Limit(600, 60, False, 1),
    "toshl": Limit(1000, 60, False, 1),
}


def transactions(rows: int) -> list[Transaction]:
    start = dt.date(2024, 1, 1)
    return [
        Transaction(
            date=start + dt.timedelta(days=i * 700 // rows),
            amount=Decimal(-(i % 9000 + 100)) / 100,
            currency="USD",
            description=f"MERCHANT {i:06d}",
            account="bench",
            source=Source(path="bench.csv", line=i + 2),
            category=("Food:Coffee", "Shopping", None)[i % 3],
            external_id=f"v1:{i:032x}",
        )
        for i in range(rows)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sandbox(port: int, limits: bool, scale: float) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "importer",
        "sandbox",
        "--port",
        str(port),
        "--limits",
        "on" if limits else "off",
        "--limit-window-scale",
        str(scale),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60  # the CLI imports every parser first: slow on a busy machine
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/toshl/_sandbox/stats", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the sandbox did not start within 60 seconds")


def make(name: str, port: int, scale: float, concurrency: int) -> RemoteTarget:
    os.environ[SERVICES[name].token_env] = SERVICES[name].token
    settings = {**target_settings(name, f"http://127.0.0.1:{port}/{name}"), "concurrency": concurrency, "backoff": 0.05}
    settings.setdefault("options", {})
    settings["options"] = {**settings["options"], "rate_window_scale": scale}
    if name == "pocketsmith":
        settings["options"]["default_account"] = "Checking"
    target = make_target(name, None, 0, TargetSettings.model_validate(settings))  # type: ignore[arg-type]
    assert isinstance(target, RemoteTarget)
    return target


def upload(target: RemoteTarget, txns: list[Transaction]) -> float:
    target.prepare(txns)  # mapping is listed/created once per run, outside the timing
    start = time.perf_counter()
    for i in range(0, len(txns), target.batch_size):
        results = target.send(txns[i : i + target.batch_size], f"bench{i}")
        assert all(r.outcome.value == "accepted" for r in results), [r.reason for r in results if r.reason][:3]
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def python_speed() -> float:
    """Milliseconds of CPU a million-step Python loop takes here now (a quiet 2.5 GHz core: ~40):
    on a shared machine, what every other figure should be read against."""
    start, total = time.process_time(), 0
    for i in range(1_000_000):
        total += i
    return (time.process_time() - start) * 1000


def unlimited(names: list[str], rows: int, concurrency: int) -> None:
    port = free_port()
    server = start_sandbox(port, limits=False, scale=1.0)
    try:
        print(
            f"limits off, {rows} records each, concurrency {concurrency}; "
            f"a million-step Python loop takes {python_speed():.0f} ms of CPU here now"
        )
        print(f"  {'target':<12} {'records/s':>9}  {'client CPU':>10}  {'server CPU':>10}  (µs per record)")
        for name in names:
            target = make(name, port, 1.0, concurrency)
            txns = transactions(rows)
            client, served = time.process_time(), cpu_seconds(server.pid)
            seconds = upload(target, txns)
            client, served = time.process_time() - client, (cpu_seconds(server.pid) or 0.0) - (served or 0.0)
            stats = target.http.stats
            target.close()
            print(
                f"  {name:<12} {rows / seconds:>9,.0f}  {client / rows * 1e6:>10.1f}  {served / rows * 1e6:>10.1f}  "
                f"({seconds:.2f} s, {stats['requests']} requests)"
            )
    finally:
        server.terminate()
        server.wait(10)


class Paced(NamedTuple):
    name: str
    unit: str  # "records" or "requests"
    limit: Limit | None
    spent: int  # units the client spent (what the server counted)
    seconds: float
    status_429: int

    def allowed(self, window: float) -> float | None:
        """Units per second a fresh budget allows over this run's length."""
        if self.limit is None:
            return None
        return self.limit.units * (1 + self.seconds / window) / self.seconds

    def row(self, window: float) -> str:
        achieved = self.spent / self.seconds
        allowed = self.allowed(window)
        budget = f"{self.limit.units} {self.unit}/{window:g} s" if self.limit else "none documented"
        share = f"{achieved / allowed:>6.1%}" if allowed else f"{'-':>6}"
        allowed_text = f"{allowed:>9,.0f}" if allowed else f"{'-':>9}"
        return (
            f"  {self.name:<12} {budget:<24} {allowed_text} {achieved:>9,.0f} {self.unit:<9} {share}  "
            f"{self.status_429:>4}   ({self.spent} in {self.seconds:.1f} s)"
        )


UNLIMITED_ROWS = 2_000  # what a target without a documented limit sends in the limits-on run


def paced(name: str, window: float, concurrency: int) -> Paced:
    """One target against the sandbox with limits on: about two windows' worth, timed."""
    limit = LIMITS.get(name)
    scale = window / limit.window if limit else 1.0
    port = free_port()
    server = start_sandbox(port, limits=True, scale=scale)
    try:
        target = make(name, port, scale, concurrency)
        # two windows' worth less a margin for the few reads (mapping, lookups) the budget also counts
        rows = int(1.95 * limit.units) * limit.records_per_unit if limit else UNLIMITED_ROWS
        txns = transactions(rows)
        seconds = upload(target, txns)
        stats = target.http.stats
        target.close()
    finally:
        server.terminate()
        server.wait(10)
    per_record = limit is not None and limit.per_record
    spent = len(txns) if per_record or limit is None else stats["requests"]
    return Paced(name, "records" if per_record or limit is None else "requests", limit, spent, seconds, stats["429"])


def limited(names: list[str], window: float, concurrency: int) -> list[Paced]:
    print(
        f"limits on, documented budgets, each window set to {window:g} s (documented: a minute; Wallet REST an"
        " hour); about two windows' worth sent"
    )
    print(f"  {'target':<12} {'budget':<24} {'allowed/s':>9} {'achieved/s':>9} {'unit':<9} {'share':>6}  {'429s':>4}")
    results = []
    for name in names:
        results.append(paced(name, window, concurrency))
        print(results[-1].row(window), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--only", action="append", choices=list(SERVICES))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--window", type=float, default=15.0, help="seconds each limit window is shortened to")
    parser.add_argument("--skip-limits", action="store_true")
    parser.add_argument("--skip-unlimited", action="store_true")
    args = parser.parse_args()
    names = args.only or list(SERVICES)
    if not args.skip_unlimited:
        unlimited(names, args.rows, args.concurrency)
    if not args.skip_limits:
        limited(names, args.window, args.concurrency)


if __name__ == "__main__":
    main()
