"""Crash trials: kill the real importer with SIGKILL at random points, re-run it, count the damage.

One trial: fresh state and target; one to three runs of `python -m importer run` that are killed
(at a named crash point, `IMPORTER_CRASH_AT`, or after a random delay) while parsing, storing,
uploading or reconciling; then a clean run that must succeed.  Afterwards the target must hold
every transaction of the input files exactly once: a record held twice is a duplicate, a
transaction missing is lost.

Runs are started by a launcher: `Fresh` starts a new interpreter per run (the honest one, ~1 s of
imports each); `Zygote` forks a warm process per run (same code path, milliseconds), so the fast
suite can afford 50+ trials.  Targets are parameters: `local` (the embedded ledger) and
`loopback` (a non-idempotent HTTP service on 127.0.0.1, tests/loopback.py); a sandbox service is
one more entry in TARGETS.

    python -m tests.crash_harness --trials 200 [--fresh] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from importer.core.accounts import AccountBook, AccountSpec
from importer.parsers import ParseOptions, parse_file
from importer.rules import RuleSet
from importer.run.pipeline import in_account, prepare
from importer.sandbox import Sandbox, target_settings
from importer.targets.remote import MARKER_RE
from importer.targets.remote import _marker as marker_of
from tests.golden import ROOT
from tests.loopback import LoopbackServer
from tests.statements import Line, chase_csv, day, ofx

POINTS = ("parse", "store", "upload.pending", "upload.sent", "upload.done", "reconcile")
CRASHKIT = ROOT / "tests" / "crashkit"
# The services here answer within milliseconds, even under load, so a killed run's requests have
# landed long before this (the default, the target's timeout, would make each trial that kills a
# run mid-upload wait 30 s); test_crash.py holds a slow service to the rule itself.
IN_FLIGHT_GRACE = 0.5


@dataclass
class Ended:
    code: int | None
    killed: bool
    output: str


class Launcher(Protocol):
    def run(self, argv: list[str], env: dict[str, str], kill_after: float | None) -> Ended: ...


def child_env() -> dict[str, str]:
    return {"PYTHONPATH": f"{CRASHKIT}{os.pathsep}{ROOT}", "IMPORTER_CRASH_AT": ""}


class Fresh:
    """`python -m importer ...` in a new interpreter per run."""

    def run(self, argv: list[str], env: dict[str, str], kill_after: float | None) -> Ended:
        proc = subprocess.Popen(
            [sys.executable, "-m", "importer", *argv],
            cwd=ROOT,
            env={**os.environ, **child_env(), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            out, _ = proc.communicate(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            out, _ = proc.communicate()
        return Ended(proc.returncode if proc.returncode >= 0 else None, proc.returncode == -signal.SIGKILL, out)

    def close(self) -> None:
        pass


class Zygote:
    """A warm process forking one child per run (tests/crash_zygote.py)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_zygote"],
            cwd=ROOT,
            env={**os.environ, **child_env(), **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.out = Path(tempfile.mkdtemp(prefix="zygote-")) / "out.txt"
        assert self.proc.stdout and self.proc.stdout.readline() == "ready\n"

    def run(self, argv: list[str], env: dict[str, str], kill_after: float | None) -> Ended:
        assert self.proc.stdin and self.proc.stdout
        request = {"argv": argv, "env": env, "out": str(self.out), "kill_after": kill_after}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return Ended(answer["code"], answer["signal"] == signal.SIGKILL, self.out.read_text())

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def write_inputs(folder: Path) -> list[Path]:
    """Two overlapping Chase CSV exports of one account and an OFX of another: identical same-day
    lines, a shared overlap, and the two legs of a transfer between the accounts."""
    coffee = [Line(day(n), "-4.50", "BLUE BOTTLE COFFEE") for n in (3, 3, 12, 12, 12)]
    early = [Line(day(n), f"-{10 + n}.25", f"SHOP {n}") for n in range(1, 16)]
    late = [Line(day(n), f"-{10 + n}.25", f"SHOP {n}") for n in range(10, 29)]
    transfer = Line(day(14), "-200.00", "ONLINE TRANSFER TO SAVINGS 0555")
    first = sorted([*early, *coffee, transfer], key=lambda ln: ln.day)
    second = sorted([*late, *[c for c in coffee if c.day.day >= 10], transfer], key=lambda ln: ln.day)
    savings = [Line(day(n), f"{n}.01", f"INTEREST {n}") for n in range(1, 12)] + [
        Line(day(15), "200.00", "TRANSFER FROM CHECKING", fitid="T1")
    ]
    return [
        chase_csv(folder / "checking-early.csv", first),
        chase_csv(folder / "checking-late.csv", [ln for ln in second if ln.day.day >= 10]),
        ofx(folder / "savings.ofx", savings, account="0555"),
    ]


_EXPECTED: dict[tuple[bytes, ...], set[str]] = {}


def expected_ids(files: list[Path]) -> set[str]:
    """Every external id the files hold (the overlap counted once), computed in-process."""
    key = tuple(p.read_bytes() for p in files)
    if key not in _EXPECTED:
        _EXPECTED[key] = _parse_ids(files)
    return _EXPECTED[key]


# The accounts every trial's config declares: the Chase exports name none, their profile does.
ACCOUNTS = {"Chase checking": {"profiles": ["chase-checking"]}}


def _parse_ids(files: list[Path]) -> set[str]:
    ids: set[str] = set()
    book = AccountBook(specs=[AccountSpec(name, profiles=tuple(spec["profiles"])) for name, spec in ACCOUNTS.items()])
    for path in files:
        for statement in parse_file(path, ParseOptions(check_balances=False)):
            account = book.resolve(statement, None, statement.profile)
            ids.update(t.external_id or "" for t in prepare(in_account(statement, account), RuleSet(()), account))
    return ids


@dataclass
class TargetKind:
    name: str
    setup: Callable[[Path], tuple[list[str], Callable[[], list[str]]]]  # folder → (argv extra, holdings)


def _local(folder: Path) -> tuple[list[str], Callable[[], list[str]]]:
    def held() -> list[str]:
        with sqlite3.connect(folder / "state.sqlite") as db:
            return [row[0] for row in db.execute("SELECT external_id FROM ledger")]

    config = folder / "importer.yaml"
    config.write_text(json.dumps({"accounts": ACCOUNTS}), encoding="utf-8")
    return ["--target", "local", "--config", str(config)], held


def _loopback_kind(server: LoopbackServer) -> TargetKind:
    def setup(folder: Path) -> tuple[list[str], Callable[[], list[str]]]:
        server.service.clear()
        config = folder / "importer.yaml"
        box = {"type": "loopback", "base_url": server.url, "batch_size": 4, "in_flight_grace": IN_FLIGHT_GRACE}
        config.write_text(json.dumps({"targets": {"box": box}, "accounts": ACCOUNTS}), encoding="utf-8")
        return ["--target", "box", "--config", str(config)], server.service.markers

    return TargetKind("loopback", setup)


def sandbox_kind(sandbox: Sandbox, service: str) -> TargetKind:
    """A service of the HTTP sandbox as the target (its token must be in the environment)."""

    def setup(folder: Path) -> tuple[list[str], Callable[[], list[str]]]:
        httpx.post(sandbox.url(service) + "/_sandbox/reset", timeout=10).raise_for_status()
        settings = {
            **target_settings(service, sandbox.url(service)),
            "batch_size": 4,
            "in_flight_grace": IN_FLIGHT_GRACE,
        }
        config = folder / "importer.yaml"
        config.write_text(json.dumps({"targets": {"svc": settings}, "accounts": ACCOUNTS}), encoding="utf-8")
        return ["--target", "svc", "--config", str(config)], lambda: _sandbox_ids(sandbox, service, folder)

    return TargetKind(service, setup)


def _sandbox_ids(sandbox: Sandbox, service: str, folder: Path) -> list[str]:
    # Records carry their external id (duitmyself; Toshl in `extra`) or its marker (the others): map back to the id.
    files = sorted([*folder.glob("*.csv"), *folder.glob("*.ofx")])
    by_marker = {marker_of(ext): ext for ext in _parse_ids(files)}
    records = httpx.get(sandbox.url(service) + "/_sandbox/records", timeout=30).json()
    return [_record_id(record, by_marker, n) for n, record in enumerate(records)]


def _record_id(record: dict[str, object], by_marker: dict[str, str], n: int) -> str:
    if isinstance(record.get("externalId"), str):
        return str(record["externalId"])
    extra = record.get("extra")  # Toshl: the id rides in the entry's `extra` object, no marker
    if isinstance(extra, dict) and isinstance(extra.get("ext_id"), str):
        return str(extra["ext_id"])
    found = MARKER_RE.search(json.dumps(record))
    return by_marker.get(found.group(0), found.group(0)) if found else f"unmarked:{n}"


def kinds(server: LoopbackServer) -> list[TargetKind]:
    """The targets every trial suite covers (a sandbox service would be one more entry)."""
    return [TargetKind("local", _local), _loopback_kind(server)]


@dataclass
class Tally:
    trials: int = 0
    kills: int = 0
    duplicates: int = 0
    lost: int = 0
    by_point: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    last_run_seconds: float = 0.0

    def line(self, label: str) -> str:
        return (
            f"{label}: trials {self.trials}, kills {self.kills}, duplicates found {self.duplicates}, "
            f"transactions lost {self.lost}; kills by point {dict(sorted(self.by_point.items()))}"
        )


Plan = tuple[dict[str, str], "float | None", str]  # env, kill after seconds, label


def trial(launcher: Launcher, kind: TargetKind, folder: Path, plans: list[Plan], tally: Tally) -> None:
    """One trial: a killed run per plan, then a clean run; adds the outcome to `tally`."""
    files = write_inputs(folder)
    extra, held = kind.setup(folder)
    (folder / "rules").mkdir()
    argv = [
        "run",
        *map(str, files),
        "--state",
        str(folder / "state.sqlite"),
        "--rules",
        str(folder / "rules"),
        "--no-balance-check",
        "--json",
        *extra,
    ]
    kills: list[str] = []  # what each killed run was told, for a failure's message
    for env, kill_after, label in plans:
        runs_before = len(_runs(folder / "state.sqlite"))
        ended = launcher.run(argv, env, kill_after)
        tally.kills += ended.killed
        if ended.killed and label == "timer":
            label = f"timer:{killed_during(folder / 'state.sqlite', runs_before)}"
        tally.by_point[label] += ended.killed
        told = env.get("IMPORTER_CRASH_AT") or f"after {kill_after or 0:.3f} s"
        kills.append(f"{told} ({label if ended.killed else 'ran to its end'})")
    started = time.monotonic()
    final = launcher.run(argv, {}, None)
    tally.last_run_seconds = time.monotonic() - started
    _check(final, held(), expected_ids(files), f"{kind.name} {folder.name}, killed: {'; '.join(kills)}", tally)


def killed_during(state_file: Path, runs_before: int) -> str:
    """Where a run killed after a random delay was, judged from what it left in the state."""
    runs = _runs(state_file)
    if len(runs) == runs_before:
        return "start"  # killed before it began a run: imports, options, lock
    run_id, status = runs[-1]
    if status != "running":
        return "finish"
    with sqlite3.connect(state_file) as db:
        batches = db.execute("SELECT count(*) FROM batches WHERE run_id = ?", (run_id,)).fetchone()[0]
        files = db.execute("SELECT count(*) FROM run_files WHERE run_id = ?", (run_id,)).fetchone()[0]
    return "upload" if batches else "store" if files else "parse"


def _runs(state_file: Path) -> list[tuple[int, str]]:
    if not state_file.exists():
        return []
    try:
        with sqlite3.connect(state_file) as db:
            return db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    except sqlite3.Error:  # killed before the tables were made
        return []


def crash_plan(rng: random.Random, delay: float) -> Plan:
    """Half the kills at a named point (its n-th passage), half after a random delay."""
    if rng.random() < 0.5:
        point = rng.choice(POINTS)
        # parse and store are passed once per file (3); upload points once per batch (3 to 12).
        return {"IMPORTER_CRASH_AT": f"{point}:{rng.randint(1, 3)}"}, None, point
    return {}, rng.uniform(0, delay), "timer"


def _check(final: Ended, holdings: list[str], expected: set[str], target: str, tally: Tally) -> None:
    counts = Counter(holdings)
    dupes = sum(n - 1 for n in counts.values()) + sum(1 for ext in counts if ext not in expected)
    lost = len(expected - set(counts))
    tally.trials += 1
    tally.duplicates += dupes
    tally.lost += lost
    if final.code != 0 or dupes or lost:
        tally.failures.append(f"{target}: exit {final.code}, {dupes} duplicate(s), {lost} lost\n{final.output[-2000:]}")


def run_trials(launch: Callable[[], Launcher], kinds: list[TargetKind], count: int, seed: int) -> Tally:
    """`count` trials spread over `kinds`, each kind in its own thread with its own launcher."""
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp, ThreadPoolExecutor(len(kinds)) as pool:
        shares = [count // len(kinds) + (i < count % len(kinds)) for i in range(len(kinds))]
        jobs = [
            pool.submit(_trials, launch, kind, n, random.Random(seed + i), Path(tmp) / kind.name)
            for i, (kind, n) in enumerate(zip(kinds, shares))
        ]
        return _sum([job.result() for job in jobs])


def _trials(launch: Callable[[], Launcher], kind: TargetKind, count: int, rng: random.Random, root: Path) -> Tally:
    tally, launcher = Tally(), launch()
    try:
        # Random kills spread over a whole run, however fast or loaded the machine: the delay is
        # drawn up to the median duration of the recent uninterrupted runs.
        durations = [_clean_run_seconds(launcher, kind, root / "timing")]
        for n in range(count):
            delay = sorted(durations[-9:])[len(durations[-9:]) // 2]
            folder = root / f"t{n}"
            folder.mkdir(parents=True)
            plans = [crash_plan(rng, delay)]
            if rng.random() < 0.3:  # kill the recovering run too, often while it reconciles
                plans.append(
                    ({"IMPORTER_CRASH_AT": "reconcile:1"}, None, "reconcile")
                    if rng.random() < 0.5
                    else crash_plan(rng, delay)
                )
            trial(launcher, kind, folder, plans, tally)
            durations.append(tally.last_run_seconds)
    finally:
        launcher.close()
    return tally


def _clean_run_seconds(launcher: Launcher, kind: TargetKind, folder: Path) -> float:
    """How long one uninterrupted first run takes here and now, so random kills spread over a run
    on a loaded machine as on an idle one."""
    folder.mkdir(parents=True)
    tally = Tally()
    trial(launcher, kind, folder, [], tally)
    return tally.last_run_seconds


def _sum(tallies: list[Tally]) -> Tally:
    total = Tally()
    for t in tallies:
        total.trials += t.trials
        total.kills += t.kills
        total.duplicates += t.duplicates
        total.lost += t.lost
        total.by_point.update(t.by_point)
        total.failures += t.failures
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--fresh", action="store_true", help="a new interpreter per run (slow, ~1 s each)")
    args = parser.parse_args()
    with LoopbackServer(delay=0.002) as server:
        start = time.monotonic()
        tally = run_trials(Fresh if args.fresh else Zygote, kinds(server), args.trials, args.seed)
    print(tally.line(f"seed {args.seed}, {'fresh' if args.fresh else 'zygote'}, {time.monotonic() - start:.1f} s"))
    for failure in tally.failures[:5]:
        print(failure)
    sys.exit(1 if tally.failures else 0)


if __name__ == "__main__":
    main()
