"""Benchmark the rule engine: `python -m benchmarks.rules_bench [--rules 100 1000 shipped] [--rows 1000000]`.

Measures `RuleSet.apply_batch` (match and actions on `TxBatch` columns, the streaming core's rules
stage) in rows per CPU second, over batches of `BATCH_ROWS` rows, for:

- a generated rule file of N rules, written like real ones: `contains` on merchant names (most),
  `startswith` on a bank's prefix, regexes with store-number digits and one with a payee group,
  amount ranges, `any`/`not`, a few rules on the raw `Type` column and on the day of the month
  or the weekday, a few with no literal that every row must try, a few `continue` flags;
- the shipped rules (`rules/*.yaml`).

Rows are Chase-like (benchmarks/generate.py: its descriptions, dates and amounts; the raw `Details`
and `Type` columns).  Two description sets: as generated (prefix, merchant, store number, city:
nearly every text distinct, repeating once the digits are ignored, as real statements do), and
"all distinct", where each row also carries a reference in letters, so that no two descriptions
are alike even without their digits.  The run also reports the share of distinct descriptions in
the generated rows and checks `apply_batch` against the reference `apply_all` on a sample.
"""

from __future__ import annotations

import argparse
import platform
import random
import string
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.generate import merchant_names
from benchmarks.generate import rows as generated_rows
from importer.core.batch import BATCH_ROWS, TxBatch
from importer.core.models import Source, Transaction
from importer.rules import RuleSet, load_rules

SHIPPED = Path(__file__).resolve().parent.parent / "rules"


def rule_yaml(index: int, name: str, rng: random.Random) -> str:
    """One rule of a realistic mix; most are a plain `contains` on the description."""
    kind = index % 20
    word = name.split()[0].replace("'", "")
    when = f"{{description: {name!r}}}"
    then = f"category: 'Cat{index % 97}:{word.title()}'"  # word holds no quote
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
    elif kind == 8:
        when = f"{{description: {{startswith: {name!r}}}}}"
    elif kind == 9 and index % 100 == 9:
        when = f"{{description: {name!r}, date: {{day_of_month: [1, 2, 15]}}}}"
    elif kind == 10 and index % 100 == 10:
        when = f"{{description: {name!r}, raw.Type: ACH_CREDIT}}"
    elif kind == 11 and index % 100 == 11:
        when = f"{{description: {name!r}, date: {{weekday: [sat, sun]}}}}"
    elif kind == 12 and index % 100 == 12:
        when = f"{{description: {{regex: '^(?:POS |SQ \\*)?({word}[A-Z ]*) \\d'}}}}"
        then += ", payee: '{1}'"
    return f"  - id: r{index}\n    when: {when}\n    set: {{{then}}}\n"


def write_rules(path: Path, count: int, names: list[str], rng: random.Random) -> None:
    head = (
        "rules:\n  - id: flag-large\n    when: {amount: {abs: true, ge: 1000}}\n    set: {tags: [large]}\n"
        "    continue: true\n"
    )
    path.write_text(head + "".join(rule_yaml(i, names[i], rng) for i in range(count - 1)), encoding="utf-8")


def chase_batches(count: int, distinct: bool) -> list[TxBatch]:
    """`count` Chase-like rows as batches of `BATCH_ROWS`; `distinct`: a letter reference on each."""
    rows = list(generated_rows(count))
    texts = [f"{row.description} REF {_letters(i)}" if distinct else row.description for i, row in enumerate(rows)]
    out = []
    for start in range(0, count, BATCH_ROWS):
        part = rows[start : start + BATCH_ROWS]
        kinds = ["ACH_CREDIT" if row.cents > 0 else "DEBIT_CARD" for row in part]
        out.append(
            TxBatch(
                path="bench.csv",
                account="checking",
                date=[row.day for row in part],
                amount=[Decimal(row.cents).scaleb(-2) for row in part],
                currency=["USD"] * len(part),
                description=texts[start : start + BATCH_ROWS],
                line=list(range(start + 2, start + 2 + len(part))),
                raw=[{"Details": "CREDIT" if k == "ACH_CREDIT" else "DEBIT", "Type": k} for k in kinds],
                first_index=start,
            )
        )
    return out


def _letters(number: int) -> str:
    # A reference without digits: the signature's digit-blind dedupe cannot fold two rows together.
    letters = ""
    for _ in range(6):
        number, digit = divmod(number, 26)
        letters += string.ascii_uppercase[digit]
    return letters


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    # CPU time of this process: the engine is single-threaded, and wall time on a shared machine
    # measures the neighbours too.
    start = time.process_time()
    result = work()
    return result, time.process_time() - start


def rule_set(which: str) -> tuple[RuleSet, float]:
    """The shipped rules, or `which` generated rules, and the CPU seconds loading took."""
    if which == "shipped":
        return timed(lambda: load_rules(sorted(SHIPPED.glob("*.yaml")), "USD"))
    count = int(which)
    rng = random.Random(5)
    names = merchant_names(count, random.Random(5))  # the first 400 are generate.merchants()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-rules.yaml"
        write_rules(path, count, names, rng)
        return timed(lambda: load_rules([path], "USD"))


def apply_all(rules: RuleSet, batches: list[TxBatch]) -> list[tuple[TxBatch, list[bool]]]:
    return [rules.apply_batch(batch) for batch in batches]


def check(rules: RuleSet, batch: TxBatch, sample: int) -> None:
    """`apply_batch` equals the per-transaction reference `apply_all` on the first `sample` rows."""
    txns = [_model(batch, i) for i in range(min(sample, len(batch)))]
    part = TxBatch.of(txns)
    out, skips = rules.apply_batch(part)
    fast = [row.model_dump() for row, skip in zip(out.transactions(), skips) if not skip]
    if fast != [t.model_dump() for t in rules.apply_all(txns).kept]:
        raise SystemExit("apply_batch disagrees with the reference apply_all")


def _model(batch: TxBatch, i: int) -> Transaction:
    return Transaction(
        date=batch.date[i],
        amount=batch.amount[i],
        currency=batch.currency[i],
        account=batch.account,
        description=batch.description[i],
        source=Source(path=batch.path, line=batch.line[i]),
        raw=batch.column("raw")[i],
    )


def bench(which: str, batches: dict[str, list[TxBatch]], sample: int) -> list[tuple[str, str, int, float]]:
    rules, seconds = rule_set(which)
    table = [("load+compile", f"{which} ({len(rules)})", 0, seconds)]
    for label, parts in batches.items():
        check(rules, parts[0], sample)
        results, seconds = timed(partial(apply_all, rules, parts))
        table.append((f"apply_batch {label}", f"{which} ({len(rules)})", sum(map(len, parts)), seconds))
        matched = sum(rule is not None for out, _ in results for rule in out.column("rule_id"))
        print(f"  {which} rules, {label}: {matched / table[-1][2]:.1%} of rows matched a rule")
    return table


def alone(which: str, rows: int, sample: int) -> tuple[int, float]:
    """`apply_batch` alone with `which` rules over `rows` generated Chase rows: the rows and the
    CPU seconds (what `python -m benchmarks` reports as "rules alone", see benchmarks/stages.py)."""
    rules, _ = rule_set(which)
    parts = chase_batches(rows, False)
    check(rules, parts[0], sample)
    _, seconds = timed(partial(apply_all, rules, parts))
    return rows, seconds


def describe(batches: list[TxBatch]) -> None:
    texts = [text for batch in batches for text in batch.description]
    blind = {text.translate(str.maketrans("123456789", "000000000")) for text in texts}
    print(
        f"generated descriptions: {len(set(texts)) / len(texts):.1%} distinct, "
        f"{len(blind) / len(texts):.2%} distinct with their digits ignored ({len(blind):,} texts)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", nargs="+", default=["shipped", "100", "1000"], help="rule counts, or 'shipped'")
    parser.add_argument("--rows", type=int, default=1_000_000, help="transactions to categorise")
    parser.add_argument("--sample", type=int, default=2_000, help="rows checked against apply_all")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"cpu s: CPU seconds of this process (time.process_time), not wall time; batches of {BATCH_ROWS:,} rows")
    batches = {"as generated": chase_batches(args.rows, False), "all distinct": chase_batches(args.rows, True)}
    describe(batches["as generated"])
    table = [row for which in args.rules for row in bench(which, batches, args.sample)]
    print(f"{'stage':<26} {'rules':>14} {'rows':>10} {'cpu s':>9} {'rows/cpu s':>12}")
    for stage, rules, n_rows, seconds in table:
        rate = f"{n_rows / seconds:>12,.0f}" if n_rows else f"{'':>12}"
        print(f"{stage:<26} {rules:>14} {n_rows:>10,} {seconds:>9.2f} {rate}")


if __name__ == "__main__":
    main()
