"""The benchmark's results as tables: stage × size, growth with size, disk, start-up, ratios to other tools."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from benchmarks import compare

# (ours, theirs, label): rows of the comparison table
PAIRS = [
    ("end to end: importer run, 100 rules", "hledger print, 100 rules", "ours / hledger, 100 rules"),
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
    written_bytes: int | None = None  # end to end: bytes the run wrote to disk (/proc/<pid>/io)
    db_growth_bytes: int | None = None  # end to end: the state database's growth over a fresh one
    best_seconds: float | None = None  # start-up: the best of the runs; `seconds` is their median
    best_cpu_seconds: float | None = None  # start-up: the best CPU time; `cpu_seconds` is the median
    kind: str = "stage"  # "stage" (a row of the stage x size grid), "startup", "workers" or "trials"
    files: int | None = None  # workers: statement files in the inbox
    server_cpu_seconds: float | None = None  # workers: the PostgreSQL server's CPU time over the run

    @property
    def bytes_per_txn(self) -> float | None:
        return self.db_growth_bytes / self.rows if self.db_growth_bytes is not None and self.rows else None

    @property
    def write_ratio(self) -> float | None:
        """Bytes written per byte the database grew: 1 would be each byte written once."""
        if self.written_bytes is None or not self.db_growth_bytes:
            return None
        return self.written_bytes / self.db_growth_bytes

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


def _progress(r: Result) -> str:
    if r.kind == "startup":
        cpu = f" (CPU {_seconds(r.best_cpu_seconds)}, {_seconds(r.cpu_seconds)})" if r.cpu_seconds else ""
        return f"best {_seconds(r.best_seconds)} s, median {_seconds(r.seconds)} s{cpu}" if r.seconds else r.note or "-"
    disk = f", db {r.bytes_per_txn:,.0f} bytes/txn" if r.bytes_per_txn is not None else ""
    ratio = f", written {r.write_ratio:.2f}x growth" if r.write_ratio is not None else ""
    return r.cell() + disk + ratio


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
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {compare.hledger_version()}; load average {load}"
    )


def growth(results: list[Result], name: str) -> str:
    """time(N)/time(smallest N) next to N/smallest N: equal figures mean linear growth."""
    # CPU seconds where measured: wall time on a shared machine grows with the neighbours' load too
    timed = sorted((r.size, r.cpu_seconds or r.seconds) for r in results if r.name == name and r.seconds)
    if len(timed) < 2:
        return "-"
    (small, base), (large, seconds) = timed[0], timed[-1]
    return f"{seconds / base:.1f}x time for {large / small:.0f}x rows"


def grid(results: list[Result]) -> list[list[str]]:
    results = [r for r in results if r.kind == "stage"]
    sizes = sorted({r.size for r in results})
    names = list(dict.fromkeys(r.name for r in results))
    found = {(r.name, r.size): r for r in results}
    head = ["stage", *(f"{s:,} rows: rows/s wall / CPU (peak)" for s in sizes), "growth"]
    body = [[n, *(found[(n, s)].cell() if (n, s) in found else "-" for s in sizes), growth(results, n)] for n in names]
    return [head, *body]


def ratio(ours: Result | None, theirs: Result | None) -> str:
    if ours is None or ours.rate is None or theirs is None:
        return "-"
    if ours.cpu_rate and theirs.cpu_rate:  # CPU: what a shared machine skews least, for both alike
        return f"{ours.cpu_rate / theirs.cpu_rate:.1f}x"
    if theirs.rate is not None:
        return f"{ours.rate / theirs.rate:.1f}x"
    if theirs.note and theirs.note.startswith("did not finish") and ours.seconds:
        limit = float(theirs.note.split()[-2])  # it took longer than that: a lower bound on the ratio
        return f"> {limit / ours.seconds:.1f}x ({theirs.note})"
    return "-"


def ratio_grid(results: list[Result]) -> list[list[str]]:
    results = [r for r in results if r.kind == "stage"]
    sizes = sorted({r.size for r in results})
    found = {(r.name, r.size): r for r in results}
    rows = [
        [label, *(ratio(found.get((a, s)), found.get((b, s))) for s in sizes)]
        for a, b, label in PAIRS
        if any((b, s) in found for s in sizes)
    ]
    return [["comparison (rows per CPU second, ratio)", *(f"{s:,} rows" for s in sizes)], *rows] if rows else []


DB_TARGET, WRITE_TARGET = 400, 3.0  # issue 16: bytes per transaction, bytes written per byte of growth


def disk_grid(results: list[Result]) -> list[list[str]]:
    """Per end-to-end run: the database's bytes per transaction and the bytes written against its growth."""
    runs = [r for r in results if r.bytes_per_txn is not None]
    head = [
        "end to end, disk",
        "rows",
        f"db bytes/txn (< {DB_TARGET})",
        "written MB",
        "db growth MB",
        f"written / growth (< {WRITE_TARGET:.0f}x)",
    ]
    return [head, *(_disk_row(r) for r in runs)] if runs else []


def _disk_row(r: Result) -> list[str]:
    written = f"{r.written_bytes / 1e6:,.1f}" if r.written_bytes is not None else "no /proc"
    ratio = f"{r.write_ratio:.2f}x" if r.write_ratio is not None else "-"
    return [r.name, f"{r.size:,}", f"{r.bytes_per_txn:,.0f}", written, f"{(r.db_growth_bytes or 0) / 1e6:,.1f}", ratio]


def startup_grid(results: list[Result]) -> list[list[str]]:
    runs = [r for r in results if r.kind == "startup"]
    head = ["start-up", "best s", "median s", "best CPU s", "median CPU s"]
    body = [
        [r.name, _seconds(r.best_seconds), _median(r), _seconds(r.best_cpu_seconds), _seconds(r.cpu_seconds)]
        for r in runs
    ]
    return [head, *body] if runs else []


def _median(r: Result) -> str:
    return _seconds(r.seconds) if r.seconds else r.note or "-"


def workers_grid(results: list[Result]) -> list[list[str]]:
    """Many workers on one inbox (benchmarks/workers.py): a failed run's row says why in place of figures."""
    head = ["workers (files x rows)", "wall s", "files/s", "rows/s", "rows/CPU s", "server CPU s", "rows/CPU s, all"]
    body = [_workers_row(r) for r in results if r.kind == "workers"]
    return [[*head, "peak MB"], *(row + ["-"] * (len(head) + 1 - len(row)) for row in body)] if body else []


def trials_grid(results: list[Result]) -> list[list[str]]:
    """The kill trials (benchmarks/trials.py): how many ran, what they found."""
    body = [[r.name, f"{r.size:,}", r.note or "-"] for r in results if r.kind == "trials"]
    return [["kill trials", "trials", "result"], *body] if body else []


def _workers_row(r: Result) -> list[str]:
    """Rows per CPU second of the workers, then of the workers and the database server together."""
    name = f"{r.name} ({r.files or 0:,} x {r.size // (r.files or 1):,})"
    if r.rows is None or not r.seconds or not r.cpu_seconds:
        return [name, r.note or "-"]
    server = r.server_cpu_seconds
    everything = f"{r.rows / (r.cpu_seconds + server):,.0f}" if server is not None else "-"
    rates = [f"{(r.files or 0) / r.seconds:,.1f}", f"{r.rows / r.seconds:,.0f}", f"{r.rows / r.cpu_seconds:,.0f}"]
    server_cell = f"{server:.1f}" if server is not None else "-"
    return [name, f"{r.seconds:.1f}", *rates, server_cell, everything, f"{r.peak_mb or 0:,.0f}"]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def tables(results: list[Result]) -> list[list[list[str]]]:
    """Every table that has rows: stages, disk, start-up, ratios, workers, kill trials."""
    found = [
        grid(results),
        disk_grid(results),
        startup_grid(results),
        ratio_grid(results),
        workers_grid(results),
        trials_grid(results),
    ]
    return [table for table in found if len(table) > 1]


def text_lines(table: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in table
    ]


def render_text(results: list[Result], header: bool = True) -> str:
    if not header:  # one progress line
        return "\n".join(f"{r.size:>9,}  {r.name:<40} {_progress(r)}" for r in results)
    return "\n\n".join("\n".join(text_lines(table)) for table in tables(results))


def markdown_lines(table: list[list[str]]) -> list[str]:
    head, *body = table
    return [f"| {' | '.join(head)} |", "|" + "---|" * len(head), *(f"| {' | '.join(row)} |" for row in body)]


def render_markdown(results: list[Result], machine: str | None = None) -> str:
    """The tables, under the machine line they were measured on (this machine's, for a fresh run)."""
    blocks = [
        (machine or machine_line()).replace("machine: ", "Machine: "),
        *("\n".join(markdown_lines(t)) for t in tables(results)),
    ]
    return "\n\n".join(blocks) + "\n"
