"""With the documented limits on (budgets shrunk and windows shortened so a test reaches them in
a second or two), every uploader paces itself from the headers: no 429, everything lands."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks.generate import write_chase_csv
from importer.parsers import ParseOptions
from importer.rules import RuleSet
from importer.run.pipeline import RunSettings, run
from importer.sandbox import Sandbox
from importer.sandbox.common import Limits
from importer.store.sqlite import State
from importer.targets import REGISTRY
from tests.sandbox_fixtures import held, settings_for

CASES = {
    # target: (budget scale, window scale, rows, batch size, least seconds the budget allows)
    "wallet-v1": (0.02, 0.01, 600, 100, 1.0),  # 200 records per 0.6 s
    "wallet": (0.02, 0.0005, 500, 500, 0.2),  # a bucket of 10 requests, refilled 5.6 a second
    "duitmyself": (0.05, 0.01, 90, None, 1.0),  # 30 requests per 0.6 s
    "toshl": (0.05, 0.01, 140, None, 1.0),  # 50 requests per 0.6 s
}


@pytest.mark.parametrize("name", list(CASES))
def test_uploads_stay_under_the_limit_without_a_single_429(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget, window, rows, batch, least = CASES[name]
    targets = []
    factory = REGISTRY[name]

    def remember(*args: object, **kwargs: object) -> object:
        targets.append(factory(*args, **kwargs))  # type: ignore[arg-type]
        return targets[-1]

    monkeypatch.setitem(REGISTRY, name, remember)
    statement = write_chase_csv(tmp_path / "chase.csv", rows)
    with Sandbox(limits=Limits(enabled=True, budget_scale=budget, window_scale=window)) as sandbox:
        entry = settings_for(
            sandbox,
            name,
            batch_size=batch,
            options={**settings_for(sandbox, name).options, "rate_window_scale": window},
        )
        start = time.monotonic()
        with State(tmp_path / "state.sqlite") as state:
            report = run(
                [statement],
                RuleSet(()),
                state,
                RunSettings(target=name, target_settings=entry, parse=ParseOptions(account="Chase checking")),
            )
        elapsed = time.monotonic() - start
        assert report.totals()["failed"] == 0, report.files[0].error
        assert len(held(sandbox, name)) == rows
    assert targets[0].http.stats["429"] == 0  # type: ignore[attr-defined]
    assert elapsed >= least  # it did have to wait for the budget
