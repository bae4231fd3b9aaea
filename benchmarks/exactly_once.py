"""The exactly-once trial as a table: `python -m benchmarks.exactly_once [--rows N]`.

For each target: a generated statement of N transactions imported into the sandbox, then the
same file again; without faults and with 10% errors and 10% dropped connections.  Prints how many
records the server holds after each run and how many faults it injected.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.generate import write_chase_csv
from importer.config.settings import TargetSettings
from importer.parsers import ParseOptions
from importer.rules import RuleSet
from importer.run.pipeline import RunSettings, run
from importer.sandbox import SERVICES, Sandbox, target_settings
from importer.sandbox.common import Faults, Limits
from importer.store.sqlite import State


def upload(sandbox: Sandbox, name: str, statement: Path, state_path: Path) -> int:
    entry = {**target_settings(name, sandbox.url(name)), "backoff": 0.01, "concurrency": 8}
    settings = RunSettings(
        target=name, target_settings=TargetSettings.model_validate(entry), parse=ParseOptions(account="Chase checking")
    )
    with State(state_path) as state:
        return run([statement], RuleSet(()), state, settings).totals()["failed"]


def trial(sandbox: Sandbox, name: str, statement: Path, faults: Faults, folder: Path) -> str:
    fake = sandbox.fakes[name]
    fake.faults = Faults()
    fake.records.clear()
    fake.counts.clear()
    fake.reset()
    fake.faults = faults
    state_path = folder / f"{name}-{faults.error_rate}.sqlite"
    start = time.perf_counter()
    failed_first = upload(sandbox, name, statement, state_path)
    after_first = len(fake.records)
    failed_second = upload(sandbox, name, statement, state_path)
    seconds = time.perf_counter() - start
    counts = fake.counts
    return (
        f"{name:<12} {'faults' if faults.error_rate else 'clean':<6} {after_first:>6} {len(fake.records):>6}   "
        f"{failed_first:>3}/{failed_second:<3}  {counts['errors']:>5} {counts['dropped']:>5}  {seconds:6.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--only", action="append", choices=list(SERVICES))
    args = parser.parse_args()
    for service in SERVICES.values():
        os.environ[service.token_env] = service.token
    with tempfile.TemporaryDirectory() as tmp, Sandbox(limits=Limits(enabled=False)) as sandbox:
        statement = write_chase_csv(Path(tmp) / "chase.csv", args.rows)
        print(f"{args.rows} transactions, imported twice; server count after run 1 and run 2")
        print("target       mode    run1   run2   failed  errors drops   time")
        for name in args.only or list(SERVICES):
            for faults in (Faults(), Faults(error_rate=0.1, drop_rate=0.1)):
                print(trial(sandbox, name, statement, faults, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
