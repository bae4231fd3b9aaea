"""Crash safety, proven: SIGKILL the real CLI anywhere, re-run it, and count duplicates and losses.

The trials themselves live in tests/crash_harness.py (also runnable on its own for longer runs).
Each test prints its tally; `pytest -s` shows it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from importer.sandbox import SERVICES, Sandbox
from tests.crash_harness import (
    ACCOUNTS,
    Fresh,
    Tally,
    Zygote,
    child_env,
    expected_ids,
    kinds,
    run_trials,
    sandbox_kind,
    trial,
    write_inputs,
)
from tests.golden import ROOT
from tests.loopback import LoopbackServer

SEED = int(os.environ.get("IMPORTER_CRASH_SEED", "20261122"))


def assert_clean(tally: Tally, label: str) -> None:
    print(tally.line(label))
    assert tally.failures == [], tally.failures[0]
    assert (tally.duplicates, tally.lost) == (0, 0)


def test_fifty_crash_trials_lose_and_double_nothing() -> None:
    with LoopbackServer(delay=0.002) as server:
        tally = run_trials(Zygote, kinds(server), 50, SEED)
    assert tally.trials == 50 and tally.kills >= 25  # most trials really killed a run
    assert {"parse", "store", "upload.sent"} <= {point for point, n in tally.by_point.items() if n}
    assert_clean(tally, f"crash trials (seed {SEED})")


@pytest.mark.parametrize(
    ("service", "trials"), [("wallet", 8), ("duitmyself", 8), pytest.param("toshl", 40, marks=pytest.mark.slow)]
)
def test_crash_trials_against_sandbox_services(service: str, trials: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Wallet has no idempotency key (lookup by the note marker), duitmyself honours one.
    monkeypatch.setenv(SERVICES[service].token_env, SERVICES[service].token)
    with Sandbox() as sandbox:
        tally = run_trials(Zygote, [sandbox_kind(sandbox, service)], trials, SEED + 3)
    assert tally.trials == trials and tally.kills >= trials // 2
    assert_clean(tally, f"crash trials against the {service} sandbox")


@pytest.mark.parametrize("target", ["loopback", pytest.param("local", marks=pytest.mark.slow)])
def test_a_fresh_interpreter_killed_after_the_target_confirmed(target: str, tmp_path: Path) -> None:
    # The honest path: `python -m importer run` in a new process, killed by its crash point.
    with LoopbackServer() as server:
        kind = next(k for k in kinds(server) if k.name == target)
        tally = Tally()
        trial(Fresh(), kind, tmp_path, [({"IMPORTER_CRASH_AT": "upload.sent:1"}, None, "upload.sent")], tally)
    assert tally.kills >= 1
    assert_clean(tally, f"fresh interpreter, {target}")


def test_the_harness_catches_duplicates_when_reconciling_is_wrong(tmp_path: Path) -> None:
    # A target that claims idempotency it lacks gets a landed batch again: the harness must see it.
    zygote = Zygote(env={"IMPORTER_LOOPBACK_LIES": "1"})
    tally = Tally()
    with LoopbackServer() as server:
        kind = next(k for k in kinds(server) if k.name == "loopback")
        for n in range(3):
            (tmp_path / str(n)).mkdir()
            trial(
                zygote, kind, tmp_path / str(n), [({"IMPORTER_CRASH_AT": "upload.sent:2"}, None, "upload.sent")], tally
            )
    zygote.close()
    print(tally.line("lying target"))
    assert tally.kills == 3 and tally.lost == 0
    assert tally.duplicates == 3 * 4  # the second batch (4 records) landed twice in every trial


@pytest.mark.slow
def test_many_crash_trials() -> None:
    with LoopbackServer(delay=0.002) as server:
        tally = run_trials(Zygote, kinds(server), 400, SEED + 1)
    assert_clean(tally, "slow suite, zygote")


@pytest.mark.slow
def test_crash_trials_in_fresh_interpreters() -> None:
    with LoopbackServer(delay=0.002) as server:
        tally = run_trials(Fresh, kinds(server), 24, SEED + 2)
    assert_clean(tally, "slow suite, fresh interpreters")


@pytest.mark.parametrize(("grace", "doubled"), [(0.0, 4), (3.0, 0)])
def test_a_batch_still_in_flight_when_its_run_was_killed_lands_once(grace: float, doubled: int, tmp_path: Path) -> None:
    # The race the slow suite met under load, made certain: the service has read the first batch's
    # POST but takes a second to store it, the run that sent it is killed meanwhile, and the next
    # run looks the batch up at once.  An empty answer then cannot tell "never arrived" from "not
    # stored yet": trusted at once (grace 0) the batch lands twice; the run must wait out the
    # target's in-flight grace first.
    with LoopbackServer(lag=1.0) as server:
        files = write_inputs(tmp_path)
        box = {"type": "loopback", "base_url": server.url, "batch_size": 4, "in_flight_grace": grace}
        config = tmp_path / "importer.yaml"
        config.write_text(json.dumps({"targets": {"box": box}, "accounts": ACCOUNTS}), encoding="utf-8")
        (tmp_path / "rules").mkdir()
        argv = [sys.executable, "-m", "importer", "run", *map(str, files), "--state", str(tmp_path / "state.sqlite")]
        argv += ["--rules", str(tmp_path / "rules"), "--no-balance-check", "--json", "--target", "box"]
        argv += ["--config", str(config)]
        env = {**os.environ, **child_env()}
        killed = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            while not server.service.arrived.wait(0.05):
                assert killed.poll() is None, f"the first run ended before sending: {killed.communicate()[0][-2000:]}"
        finally:
            killed.kill()
            killed.communicate(timeout=10)
        final = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        server.service.wait_idle(10)
        held = Counter(server.service.markers())
    assert final.returncode == 0, final.stderr[-2000:]
    assert set(held) == expected_ids(files)
    assert sum(held.values()) - len(held) == doubled
    reconciled = json.loads(final.stdout)["reconciled"]
    assert reconciled["batches"] == 1
    if doubled:
        assert (reconciled["found"], reconciled["sent"]) == (0, 4)
    else:
        assert (reconciled["found"], reconciled["sent"]) == (4, 0)
        assert grace - 1 <= reconciled["waited"] <= grace + 1  # the run waited out the grace, once
