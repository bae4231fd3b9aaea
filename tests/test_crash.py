"""Crash safety, proven: SIGKILL the real CLI anywhere, re-run it, and count duplicates and losses.

The trials themselves live in tests/crash_harness.py (also runnable on its own for longer runs).
Each test prints its tally; `pytest -s` shows it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from importer.sandbox import SERVICES, Sandbox
from tests.crash_harness import Fresh, Tally, Zygote, kinds, run_trials, sandbox_kind, trial
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
