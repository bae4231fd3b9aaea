"""The fuzz outcomes as text: a table per mutation and format, and the failing cases.

The table goes into the issue notes; the failure list is what a parser engineer replays, one
case id per line (`python -m tests.fuzz --only CASE` rebuilds and reruns exactly that case).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from tests.fuzz.runner import FAILURES, Outcome, failures

COLUMNS = ("cases", "clean", "exact", "short", "wrong", "traceback", "hang", "unnamed")
FORMATS = ("csv", "ofx", "qif", "camt", "mt940")


def _row(label: str, outcomes: list[Outcome]) -> str:
    kinds = Counter(o.kind for o in outcomes)
    figures = {"cases": len(outcomes), "short": sum(o.short for o in outcomes), **kinds}
    seconds = sum(o.seconds for o in outcomes)
    return f"{label:<28}" + "".join(f"{figures.get(c, 0):>10}" for c in COLUMNS) + f"{seconds:>10.1f}"


def table(outcomes: list[Outcome]) -> str:
    """Rows per mutation (all formats), then per format and mutation, then the total."""
    by_mutation: dict[str, list[Outcome]] = defaultdict(list)
    by_format: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_mutation[outcome.mutation].append(outcome)
        by_format[(outcome.fmt, outcome.mutation)].append(outcome)
    lines = [f"{'mutation':<28}" + "".join(f"{c:>10}" for c in COLUMNS) + f"{'seconds':>10}"]
    lines += [_row(name, by_mutation[name]) for name in by_mutation]
    for fmt in FORMATS:
        rows = [(m, group) for (f, m), group in by_format.items() if f == fmt]
        if rows:
            lines.append(f"-- {fmt} " + "-" * 100)
            lines += [_row(f"{fmt} {name}", group) for name, group in rows]
    lines.append(_row("total", outcomes))
    lines.append("short = exact, but fewer transactions than the unmutated file (a silent partial read);")
    lines.append("seconds = CPU seconds of parsing, summed over the cases (two workers share them)")
    return "\n".join(lines)


def failure_list(outcomes: list[Outcome], most: int = 20) -> str:
    """Up to `most` failing cases, each with its case id and what went wrong.

    The first of each (format, mutation, outcome) come first, so that twenty lines show twenty
    different faults rather than twenty flips in one CSV.
    """
    failing = distinct_first(failures(outcomes))
    lines = [f"{o.kind}: {o.case}\n    {o.message}" for o in failing[:most]]
    if len(failing) > most:
        lines.append(f"... and {len(failing) - most} more")
    return "\n".join(lines)


def distinct_first(failing: list[Outcome]) -> list[Outcome]:
    """`failing` reordered: the first case of each (format, mutation, outcome), then the rest."""
    first: dict[tuple[str, str, str], Outcome] = {}
    for outcome in failing:
        first.setdefault((outcome.fmt, outcome.mutation, outcome.kind), outcome)
    leaders = set(map(id, first.values()))
    return list(first.values()) + [o for o in failing if id(o) not in leaders]


def summary(outcomes: list[Outcome]) -> str:
    kinds = Counter(o.kind for o in outcomes)
    named = ", ".join(f"{kinds[k]} {k}" for k in ("clean", "exact", *FAILURES))
    broken = f", {kinds['harness']} file(s) the harness could not fuzz" if kinds["harness"] else ""
    return f"{named}{broken} of {len(outcomes)} cases"
