"""The benchmark's results as tables: stage × size, growth with size, and ratios to other tools."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from benchmarks import compare

# (ours, theirs, label): rows of the comparison table
PAIRS = [
    ("importer run, 10 rules", "hledger print, 10 rules", "ours / hledger, 10 rules"),
    ("importer run, 100 rules", "hledger print, 100 rules", "ours / hledger, 100 rules"),
    ("parse sgml.ofx", "ofxparse sgml.ofx", "ours / ofxparse, OFX 1.x SGML"),
    ("parse xml.ofx", "ofxparse xml.ofx", "ours / ofxparse, OFX 2.x XML"),
]


@dataclass(frozen=True)
class Result:
    name: str
    size: int  # the statement size this job ran at
    rows: int | None  # rows the job reported handling (None: it did not finish)
    seconds: float | None
    peak_mb: float | None
    note: str | None  # why there is no figure
    cpu_seconds: float | None = None

    @property
    def rate(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds else None

    @property
    def cpu_rate(self) -> float | None:
        return self.rows / self.cpu_seconds if self.rows and self.cpu_seconds else None

    def cell(self) -> str:
        """Rows per wall second, then per CPU second (what a busy machine does not skew), peak memory."""
        if self.rate is None:
            return self.note or "-"
        cpu = f" / {self.cpu_rate:,.0f}" if self.cpu_rate else ""
        return f"{self.rate:,.0f}{cpu} ({self.peak_mb:,.0f} MB)"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    # The load average says how much the figures (wall time) shared the machine with other work.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, {compare.hledger_version()}; load average {load}")  # fmt: skip


def growth(results: list[Result], name: str) -> str:
    """time(N)/time(smallest N) next to N/smallest N: equal figures mean linear growth."""
    timed = sorted((r.size, r.seconds) for r in results if r.name == name and r.seconds)
    if len(timed) < 2:
        return "-"
    (small, base), (large, seconds) = timed[0], timed[-1]
    return f"{seconds / base:.1f}x time for {large / small:.0f}x rows"


def grid(results: list[Result]) -> list[list[str]]:
    sizes = sorted({r.size for r in results})
    names = list(dict.fromkeys(r.name for r in results))
    found = {(r.name, r.size): r for r in results}
    head = ["stage", *(f"{s:,} rows: rows/s wall / CPU (peak)" for s in sizes), "growth"]
    body = [[n, *(found[(n, s)].cell() if (n, s) in found else "-" for s in sizes), growth(results, n)] for n in names]
    return [head, *body]


def ratio(ours: Result | None, theirs: Result | None) -> str:
    if ours is None or ours.rate is None or theirs is None:
        return "-"
    if theirs.rate is not None:
        return f"{ours.rate / theirs.rate:.1f}x"
    if theirs.note and theirs.note.startswith("did not finish") and ours.seconds:
        limit = float(theirs.note.split()[-2])  # it took longer than that: a lower bound on the ratio
        return f"> {limit / ours.seconds:.1f}x ({theirs.note})"
    return "-"


def ratio_grid(results: list[Result]) -> list[list[str]]:
    sizes = sorted({r.size for r in results})
    found = {(r.name, r.size): r for r in results}
    rows = [[label, *(ratio(found.get((a, s)), found.get((b, s))) for s in sizes)] for a, b, label in PAIRS
            if any((b, s) in found for s in sizes)]  # fmt: skip
    return [["comparison (rows/s ratio)", *(f"{s:,} rows" for s in sizes)], *rows] if rows else []


def _text(table: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in table]


def render_text(results: list[Result], header: bool = True) -> str:
    if not header:  # one progress line
        return "\n".join(f"{r.size:>9,}  {r.name:<40} {r.cell()}" for r in results)
    lines = _text(grid(results))
    if ratios := ratio_grid(results):
        lines += ["", *_text(ratios)]
    return "\n".join(lines)


def _markdown(table: list[list[str]]) -> list[str]:
    head, *body = table
    return [f"| {' | '.join(head)} |", "|" + "---|" * len(head), *(f"| {' | '.join(row)} |" for row in body)]


def render_markdown(results: list[Result]) -> str:
    lines = [machine_line().replace("machine: ", "Machine: "), "", *_markdown(grid(results))]
    if ratios := ratio_grid(results):
        lines += ["", *_markdown(ratios)]
    return "\n".join(lines) + "\n"
