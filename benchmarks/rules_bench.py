"""Benchmark the rule engine: `python -m benchmarks.rules_bench [--rules 1000] [--rows 1000000]`.

Generates a realistic rule file (mostly `contains` on merchant names, some regexes, amount
ranges, `any`/`not`, a few rules with no literal that must be tried on every row, a few
`continue` flags) and statement rows whose descriptions name those merchants with store numbers
and cities, plus merchants no rule knows.  Reports, separately:

- load: reading and compiling the rule file;
- match: `RuleSet.chains` over all rows (batch keys, one plan per key, open tests per row;
  importer/rules/plans.py), the part issue 9 scales;
- naive: trying every rule in order, on a sample (the reference the matcher must equal);
- match+apply: `RuleSet.apply_all` (match + the updated Transactions), on a sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.generate import CITIES, merchant_names
from importer.core.models import Source, Transaction
from importer.rules import RuleSet, load_rules


def rule_yaml(index: int, name: str, rng: random.Random) -> str:
    """One rule of a realistic mix; most are a plain `contains` on the description."""
    kind = index % 20
    word = name.split()[0].replace("'", "")
    when = f"{{description: {name!r}}}"
    if kind in (1, 2):
        when = f"{{description: {{regex: '\\b{word}\\b.*\\d{{3,}}'}}}}"
    elif kind in (3, 4):
        when = f"{{description: {name!r}, amount: {{between: [-{rng.randint(50, 500)}, 0]}}}}"
    elif kind == 5:
        when = f"{{any: [{{description: {name!r}}}, {{payee: {name!r}}}]}}"
    elif kind == 6:
        when = f"{{description: {name!r}, not: {{description: REFUND}}}}"
    elif kind == 7 and index % 500 == 7:
        when = "{description: {regex: '^\\d{4,} '}}"  # no literal: tried on every row
    set_ = f"{{category: 'Cat{index % 97}:{word.title()}'}}"  # word holds no quote
    return f"  - id: r{index}\n    when: {when}\n    set: {set_}\n"


def write_rules(path: Path, count: int, names: list[str], rng: random.Random) -> None:
    head = ("rules:\n  - id: flag-large\n    when: {amount: {abs: true, ge: 1000}}\n    set: {tags: [large]}\n"
            "    continue: true\n")  # fmt: skip
    path.write_text(head + "".join(rule_yaml(i, names[i], rng) for i in range(count - 1)), encoding="utf-8")


def transactions(rows: int, known: list[str], rng: random.Random) -> list[Transaction]:
    """Rows naming known merchants (85%) or unknown ones; built without validation, as parsed rows are."""
    unknown = merchant_names(len(known) + 300, random.Random(99))[len(known):]
    source = Source(path="bench.csv", line=1)
    day = dt.date(2026, 1, 1)
    out = []
    for i in range(rows):
        name = rng.choice(known) if rng.random() < 0.85 else rng.choice(unknown)
        text = f"{name} {rng.randint(100, 99999):05d} {rng.choice(CITIES)}"
        amount = Decimal(-rng.randint(100, 60000)) / 100
        out.append(Transaction.model_construct(date=day, amount=amount, currency="USD", description=text,
                                               account="checking", source=source, payee=None, memo=None,
                                               bank_id=None, tags=(), notes=None, raw={}))  # fmt: skip
    return out


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    # CPU time of this process: the matcher is single-threaded, and wall time on a shared machine
    # measures the neighbours too.
    start = time.process_time()
    result = work()
    return result, time.process_time() - start


def bench(rule_count: int, rows: int, sample: int, seed: int = 5) -> list[tuple[str, int, int, float]]:
    rng = random.Random(seed)
    names = merchant_names(rule_count, rng)
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-rules.yaml"
        write_rules(path, rule_count, names, rng)
        rules, seconds = timed(lambda: load_rules([path]))
    table.append(("load+compile", rule_count, 0, seconds))
    txns = transactions(rows, names, rng)
    chains, seconds = timed(lambda: rules.chains(txns))
    table.append(("match", rule_count, rows, seconds))
    part = txns[:sample]
    naive, seconds = timed(lambda: [rules.chain_naive(t) for t in part])
    table.append(("naive", rule_count, len(part), seconds))
    if [tuple(rules.rules[i] for i in c) for c in chains[: len(part)]] != naive:
        raise SystemExit("the fast matcher disagrees with the naive reference")
    _, seconds = timed(lambda: rules.apply_all(part))
    table.append(("match+apply", rule_count, len(part), seconds))
    matched = sum(1 for c in chains if c)
    print(f"{matched / rows:.1%} of rows matched a rule; {_candidates(rules, part):.1f} candidate rules per row")
    return table


def _candidates(rules: RuleSet, txns: list[Transaction]) -> float:
    return sum(len(rules.prefilter.candidates(t)[0]) for t in txns) / max(1, len(txns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, nargs="+", default=[1000], help="rule counts to run")
    parser.add_argument("--rows", type=int, default=1_000_000, help="transactions to match")
    parser.add_argument("--sample", type=int, default=20_000, help="rows for the naive and apply stages")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print("cpu s: CPU seconds of this process (time.process_time), not wall time")
    print(f"{'stage':<13} {'rules':>6} {'rows':>10} {'cpu s':>9} {'rows/s':>12}")
    for count in args.rules:
        for stage, n_rules, n_rows, seconds in bench(count, args.rows, min(args.sample, args.rows)):
            rate = f"{n_rows / seconds:>12,.0f}" if n_rows else f"{'':>12}"
            print(f"{stage:<13} {n_rules:>6} {n_rows:>10,} {seconds:>9.2f} {rate}")


if __name__ == "__main__":
    main()
