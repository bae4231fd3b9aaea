"""Saved results and the before -> after table: `--save FILE`, `--compare BEFORE [--after FILE]`.

A results file is small JSON: the importer commit measured, the date, the machine line and one
record per job (the fields of `table.Result`).  The comparison pairs jobs by name and size, so a
"before" saved at one commit and an "after" measured at another print side by side, with the gain
in rows per CPU second (what the load of a shared machine skews least) and the memory of each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.child import repo_root
from benchmarks.table import Result, machine_line


def commit() -> str:
    """The commit of the code measured, marked when the working tree differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo_root(), capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "HEAD") or "unknown"
    return head + (" (with uncommitted changes)" if git("status", "--porcelain", "--", "importer") else "")


def save(path: Path, results: list[Result]) -> Path:
    record = {
        "commit": commit(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_line(),
        "results": [dataclasses.asdict(r) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def load(path: Path) -> tuple[dict[str, Any], list[Result]]:
    """The file's header fields and its results."""
    record = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in dataclasses.fields(Result)}
    results = [Result(**{k: v for k, v in r.items() if k in known}) for r in record.pop("results")]
    return record, results


def before_after(before: list[Result], after: list[Result]) -> list[list[str]]:
    """One row per job and size either side measured: both cells and the gain in rows per CPU second."""
    old = {(r.name, r.size): r for r in before}
    new = {(r.name, r.size): r for r in after}
    keys = list(dict.fromkeys([*old, *new]))
    head = ["job", "rows", "before: rows/s wall / CPU (peak)", "after", "gain (CPU)"]
    return [
        head,
        *(
            [
                name,
                f"{size:,}",
                _cell(old.get((name, size))),
                _cell(new.get((name, size))),
                _gain(old.get((name, size)), new.get((name, size))),
            ]
            for name, size in keys
        ),
    ]


def _cell(r: Result | None) -> str:
    if r is None:
        return "not run"
    if r.kind == "startup":
        return (
            f"best {r.best_seconds:.3f} s, median {r.seconds:.3f} s" if r.seconds and r.best_seconds else r.note or "-"
        )
    disk = f"; {r.bytes_per_txn:,.0f} B/txn, written {r.write_ratio:.1f}x" if r.bytes_per_txn and r.write_ratio else ""
    return r.cell() + disk


def _gain(old: Result | None, new: Result | None) -> str:
    if old is None or new is None:
        return "-"
    if old.kind == "startup":
        return f"{old.best_seconds / new.best_seconds:.2f}x" if old.best_seconds and new.best_seconds else "-"
    return f"{new.cpu_rate / old.cpu_rate:.2f}x" if old.cpu_rate and new.cpu_rate else "-"
