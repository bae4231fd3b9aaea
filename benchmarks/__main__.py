"""The benchmark: `python -m benchmarks [--sizes 10000 100000 1000000] [--quick] [--markdown FILE]`.

Generates statements under benchmarks/data/ (git-ignored, reused), then times every stage in
a fresh process per stage and size (rows/s and that process's peak memory), the real
`importer run` into the `local` target end to end, and, side by side on the same files,
hledger (when installed) with equivalent rules and plain ofxparse.  Loopback only; every child
process is killed at `--limit` seconds (`--reference-limit` for ofxparse).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import compare
from benchmarks.child import Measured, TimedOut, measure, python_command, repo_root
from benchmarks.data import DATA, WRITERS, data_file
from benchmarks.table import Result, machine_line, render_markdown, render_text

SHIPPED_RULES = repo_root() / "rules"


@dataclass(frozen=True)
class Job:
    name: str  # the table's row label
    command: list[str]
    rows: int
    limit: float
    own_timing: bool  # the child prints {"rows", "seconds"} for its timed part; else its wall time counts


def stage_jobs(rows: int, folder: Path, limit: float, upload_target: str) -> list[Job]:
    jobs = [Job(f"parse {kind}", python_command("benchmarks.stages", "parse", data_file(kind, rows, folder), SHIPPED_RULES),
                rows, limit, True) for kind in WRITERS]  # fmt: skip
    chase = data_file("chase.csv", rows, folder)
    for stage in ("ids", "rules", "store"):
        jobs.append(Job(f"{stage} (chase.csv)", python_command("benchmarks.stages", stage, chase, SHIPPED_RULES), rows, limit, True))
    upload = python_command("benchmarks.stages", "upload", chase, SHIPPED_RULES, upload_target)
    jobs.append(Job(f"upload to sandbox {upload_target}", upload, rows, limit, True))
    return jobs


def run_command(csv_path: Path, rules_path: Path, state: Path) -> list[str]:
    # A Chase export names no account: say whose it is, as a user must (README, "Accounts").
    return python_command("importer", "run", csv_path, "--target", "local", "--rules", rules_path, "--state", state,
                          "--account", "Benchmark checking")  # fmt: skip


def end_to_end_jobs(rows: int, folder: Path, scratch: Path, limit: float) -> list[Job]:
    chase = data_file("chase.csv", rows, folder)
    state = scratch / f"state-{rows}.sqlite"
    return [Job("end to end: importer run, shipped rules", run_command(chase, SHIPPED_RULES, state), rows, limit, False)]


def comparison_jobs(rows: int, folder: Path, scratch: Path, limit: float, reference_limit: float) -> list[Job]:
    """Ours and the reference tool on the same file, next to each other in the table."""
    chase = data_file("chase.csv", rows, folder)
    jobs = []
    for count in (10, 100):
        ours = compare.write_our_rules(scratch / f"rules-{count}.yaml", count)
        state = scratch / f"state-{rows}-{count}.sqlite"
        jobs.append(Job(f"importer run, {count} rules", run_command(chase, ours, state), rows, limit, False))
        if compare.hledger():
            theirs = compare.write_hledger_rules(scratch / f"rules-{count}.rules", count)
            jobs.append(Job(f"hledger print, {count} rules", compare.hledger_command(chase, theirs), rows, limit, False))
    for kind in ("sgml.ofx", "xml.ofx"):
        path = data_file(kind, rows, folder)
        jobs.append(Job(f"ofxparse {kind}", python_command("benchmarks.stages", "ofxparse", path, SHIPPED_RULES),
                        rows, reference_limit, True))  # fmt: skip
    return jobs


def execute(job: Job, rows_size: int) -> Result:
    try:
        done: Measured = measure(job.command, job.limit, env={**os.environ, "PYTHONPATH": str(repo_root())})
    except TimedOut as late:
        return Result(job.name, rows_size, None, None, None, f"did not finish in {late.limit:.0f} s", None)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Result(job.name, rows_size, None, None, done.peak_mb, f"failed: {last[:120]}", None)
    if not job.own_timing:
        return Result(job.name, rows_size, job.rows, done.seconds, done.peak_mb, None, done.cpu_seconds)
    timing = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(job.name, rows_size, timing["rows"], timing["seconds"], done.peak_mb, None, timing["cpu_seconds"])


def plan(args: argparse.Namespace, rows: int, scratch: Path) -> list[Job]:
    jobs = stage_jobs(rows, args.data, args.limit, args.upload_target)
    jobs += end_to_end_jobs(rows, args.data, scratch, args.limit)
    if not args.no_compare:
        jobs += comparison_jobs(rows, args.data, scratch, args.limit, args.reference_limit)
    return [job for job in jobs if not args.only or any(word in job.name for word in args.only)]


def benchmark(args: argparse.Namespace) -> list[Result]:
    results = []
    for rows in args.sizes:
        with tempfile.TemporaryDirectory(prefix="importer-bench-") as tmp:
            for job in plan(args, rows, Path(tmp)):
                results.append(execute(job, rows))
                print(render_text([results[-1]], header=False), flush=True)
    return results


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="statement sizes in rows")
    parser.add_argument("--quick", action="store_true", help="10,000 rows only")
    parser.add_argument("--only", nargs="+", help="run only the jobs whose name contains one of these words")
    parser.add_argument("--no-compare", action="store_true", help="skip hledger and ofxparse")
    parser.add_argument("--upload-target", default="wallet", help="sandbox service for the upload stage")
    parser.add_argument("--limit", type=float, default=600.0, help="seconds any one job may take")
    parser.add_argument("--reference-limit", type=float, default=120.0, help="seconds ofxparse may take per file")
    parser.add_argument("--data", type=Path, default=DATA, help="where generated statements are kept")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [10_000]
    return args


def main(argv: list[str] | None = None) -> list[Result]:
    args = arguments(argv)
    print(machine_line(), flush=True)
    results = benchmark(args)
    print()
    print(render_text(results))
    if args.markdown:
        args.markdown.write_text(render_markdown(results), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
