"""Many workers on one inbox: `python -m benchmarks --only workers [--files 1000] [--workers 1 2 4]`.

One inbox of generated Chase exports (`--files` files of `--file-rows` rows over 20 accounts,
each account's files a balance chain of consecutive weeks, named so that neighbours in the
listing belong to different accounts) is copied fresh for every run; N `importer watch --once`
processes are started together on it, against a fresh PostgreSQL schema (and, for comparison, an
SQLite state with one worker).  Per run: wall seconds until the last worker exits, the CPU seconds
of the workers (each one's own `rusage` from `wait4`, so the neighbours on a shared machine do not
count), the PostgreSQL server's CPU seconds over the run (its processes' /proc counters; None for
a server named by `IMPORTER_TEST_PG`), files and rows per second, and the peak memory of the
largest worker.

A worker's peak memory is its own address space's high-water mark (`VmHWM` in /proc/<pid>/status,
read while it runs), not `wait4`'s `ru_maxrss`: Python starts a child with vfork, and Linux
records the parent's high-water mark as the child's at its exec, so `ru_maxrss` was this
benchmark's own peak whenever that was larger (it was: 574 MB "per PostgreSQL worker" at 1,000
files, measured after the SQLite run had grown the benchmark; the worker's own peak is 66 MB).
Without /proc (not Linux) `ru_maxrss` is the figure, an upper bound.

Every run is checked, not only timed: every file archived exactly once (a second copy would be
archived as `name-1.csv`), none left in the inbox or failed, and the state holds exactly the
external ids the SQLite run stored (none twice, none missing).  A run that fails a check is
reported with what went wrong instead of its figures.

The PostgreSQL server is the tests' (tests/pgserver.py): the one `IMPORTER_TEST_PG` names, else a
throwaway cluster started here and stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from benchmarks import generate
from benchmarks.child import TimedOut, own_peak_mb, python_command, repo_root
from benchmarks.table import Result
from importer.config.state_location import Location, PgUrl
from importer.store.locate import open_store
from tests import pgserver

ACCOUNTS = 20
OPENING = Decimal("5000.00")  # each account's balance before its first file
LEASE = 5.0  # seconds a dead worker's claim lasts: short, so that a trial does not idle long


@dataclass(frozen=True)
class Inbox:
    """Generated statement files: where they are kept, their names, rows in each."""

    folder: Path
    names: list[str]
    rows: int

    @property
    def total_rows(self) -> int:
        return len(self.names) * self.rows


@dataclass(frozen=True)
class Run:
    """One run's folders: a fresh copy of the inbox, its archive and failed folders, the config."""

    folder: Path

    @property
    def inbox(self) -> Path:
        return self.folder / "inbox"

    @property
    def archive(self) -> Path:
        return self.folder / "archive"

    @property
    def failed(self) -> Path:
        return self.folder / "failed"

    @property
    def config(self) -> Path:
        return self.folder / "importer.yaml"


@dataclass(frozen=True)
class Worker:
    """One worker process, as it ended."""

    seconds: float  # from the start of all workers to this one's exit
    cpu_seconds: float
    peak_mb: float
    returncode: int
    stderr: str


# What a kill met when its worker had exited before the drawn moment: nothing, counted apart.
FINISHED = "after it had finished"


@dataclass(frozen=True)
class Kill:
    """SIGKILL worker `worker` at `at` seconds after the start; `observe` says what it found then."""

    worker: int
    at: float
    observe: Callable[[], str]


# the statements -----------------------------------------------------------------------------------


def file_name(index: int) -> str:
    """`s0007-a07.csv`: consecutive files belong to different accounts, so that the few files a
    worker claims at once are different accounts, as an office's morning drop would be."""
    return f"s{index:04d}-a{index % ACCOUNTS:02d}.csv"


def write_inbox(folder: Path, files: int, rows: int) -> Inbox:
    """`files` Chase exports of `rows` rows each; an account's files chain their balances."""
    folder.mkdir(parents=True, exist_ok=True)
    balances = [OPENING] * ACCOUNTS
    for index in range(files):
        account = index % ACCOUNTS
        week = dt.timedelta(weeks=index // ACCOUNTS)  # an account's files cover distinct days
        lines, balances[account] = chase_lines(rows, index, week, balances[account])
        text = generate.CHASE_HEADER + "\n" + "".join(f"{line}\n" for line in reversed(lines))
        (folder / file_name(index)).write_text(text, encoding="utf-8")  # newest first, as Chase writes
    return Inbox(folder, [file_name(i) for i in range(files)], rows)


def chase_lines(rows: int, seed: int, shift: dt.timedelta, balance: Decimal) -> tuple[list[str], Decimal]:
    """The generator's rows for `seed`, moved by `shift`, as Chase lines (oldest first); the closing balance."""
    lines = []
    for row in generate.rows(rows, seed):
        amount = Decimal(row.cents).scaleb(-2)
        balance += amount
        kind = "DEBIT" if amount < 0 else "CREDIT"
        day = row.day + shift
        lines.append(f'{kind},{day:%m/%d/%Y},"{row.description}",{amount},DEBIT_CARD,{balance},,')
    return lines, balance


def cached_inbox(data: Path, files: int, rows: int) -> Inbox:
    """The inbox of `files` x `rows` under `data`, generated when missing (the generator's version in its name)."""
    folder = data / f"workers-{files}x{rows}-g{generate.VERSION}"
    if (folder / file_name(files - 1)).exists():
        return Inbox(folder, [file_name(i) for i in range(files)], rows)
    shutil.rmtree(folder, ignore_errors=True)  # cut short by ^C: written again whole
    partial = write_inbox(folder.with_suffix(".partial"), files, rows)
    partial.folder.replace(folder)
    return Inbox(folder, partial.names, rows)


def prepare(inbox: Inbox, folder: Path) -> Run:
    """A fresh copy of `inbox` under `folder`, with a config naming each file's account."""
    run = Run(folder)
    shutil.copytree(inbox.folder, run.inbox)
    sources = "".join(
        f'  - path: "{run.inbox}/*-a{k:02d}.csv"\n    account: "Client {k:02d}"\n    profile: chase-checking\n'
        for k in range(ACCOUNTS)
    )
    run.config.write_text(f"sources:\n{sources}", encoding="utf-8")
    return run


# the workers --------------------------------------------------------------------------------------


def watch_command(run: Run, state: Location, lease: float) -> list[str]:
    """One worker: `importer watch --once` on the run's inbox, the shipped rules, files read at once."""
    state_arg = state.url if isinstance(state, PgUrl) else str(state)
    rules = repo_root() / "rules"
    return python_command(
        "importer", "watch", run.inbox, "--once", "--settle", "0", "--state", state_arg, "--rules", rules
    ) + ["--config", str(run.config), "--lease", str(lease)]


def run_together(command: list[str], count: int, limit: float, kill: Kill | None = None) -> tuple[list[Worker], str]:
    """`count` copies of `command` started together, each measured; (workers, what `kill` observed)."""
    env = {**os.environ, "PYTHONPATH": str(repo_root())}
    env.pop("IMPORTER_STATE", None)
    with tempfile.TemporaryDirectory(prefix="importer-workers-") as logs:
        errs = [Path(logs) / f"{n}.err" for n in range(count)]
        start = time.perf_counter()
        children = [_start(command, env, err) for err in errs]
        try:
            ended, observed = _wait_all(children, start, limit, kill)
        except BaseException:  # ^C or the limit: no worker outlives the benchmark
            for child in children:
                _kill(child)
            raise
        return [_with_stderr(w, errs[n].read_text(errors="replace")) for n, w in enumerate(ended)], observed


def _start(command: list[str], env: dict[str, str], err: Path) -> subprocess.Popen[bytes]:
    with err.open("wb") as sink:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink, env=env, cwd=repo_root())


def _wait_all(
    children: list[subprocess.Popen[bytes]], start: float, limit: float, kill: Kill | None
) -> tuple[list[Worker], str]:
    """Reap each child as it exits (its own rusage), killing `kill.worker` on time, until all have."""
    ended: dict[int, Worker] = {}
    peaks: dict[int, float] = {}  # each child's own peak so far (`own_peak_mb`), read before it is reaped
    observed = ""
    while len(ended) < len(children):
        for n, child in enumerate(children):
            if n in ended:
                continue
            peaks[n] = own_peak_mb(child.pid) or peaks.get(n, 0.0)
            if (worker := _reaped(child, start, peaks[n])) is not None:
                ended[n] = worker
        if kill is not None and not observed and time.perf_counter() - start >= kill.at:
            observed = kill.observe() if kill.worker not in ended else FINISHED
            _kill(children[kill.worker])
        if time.perf_counter() - start > limit:
            raise TimedOut(limit)
        time.sleep(0.01)
    # Every worker exited before the drawn moment (a run quicker than the calibration's): the
    # kill met nothing, as when its worker alone had finished; without this it had no label.
    return [ended[n] for n in range(len(children))], observed or (FINISHED if kill is not None else "")


def _reaped(child: subprocess.Popen[bytes], start: float, peak_mb: float) -> Worker | None:
    """The worker, if `child` has exited (reaped now); `peak_mb` its own peak, 0 if never read."""
    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    if pid == 0:
        return None
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    cpu = usage.ru_utime + usage.ru_stime
    return Worker(time.perf_counter() - start, cpu, peak_mb or usage.ru_maxrss / 1024, child.returncode, "")


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.returncode is None:
        child.send_signal(signal.SIGKILL)


def _with_stderr(worker: Worker, stderr: str) -> Worker:
    return Worker(worker.seconds, worker.cpu_seconds, worker.peak_mb, worker.returncode, stderr)


# the server ---------------------------------------------------------------------------------------


@contextmanager
def postgres() -> Iterator[pgserver.Server]:
    """The server `IMPORTER_TEST_PG` names, else a throwaway one (tests/pgserver.py), stopped after."""
    url = os.environ.get("IMPORTER_TEST_PG")
    if url:
        yield pgserver.from_environment(url)
        return
    missing = pgserver.missing_tools()
    if missing:
        raise SystemExit(
            f"The workers benchmark needs PostgreSQL: {missing}; or set IMPORTER_TEST_PG to a server's URL."
        )
    server = pgserver.start()
    stopping = signal.signal(signal.SIGTERM, _exit)  # a `kill` of the benchmark stops its server too
    try:
        yield server
    finally:
        signal.signal(signal.SIGTERM, stopping)
        pgserver.stop(server)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def fresh_schema(server: pgserver.Server, name: str) -> Iterator[PgUrl]:
    """An empty schema of its own for one run, dropped after: a fresh state without a new database's copy."""
    try:
        yield PgUrl(server.isolated_url(name))
    finally:
        server.drop(name)


def server_cpu(server: pgserver.Server) -> float | None:
    """CPU seconds the throwaway server's processes have used so far (its postmaster, the backends
    it reaped, those still running); None for a server of the environment's."""
    if server.folder is None:
        return None
    try:
        master = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
        ticks = _ticks(master)
    except (OSError, ValueError, IndexError):
        return None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields and int(fields[1]) == master:
            ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of `pid` (the last two: its reaped children's)."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    if not fields:
        raise OSError(f"process {pid} has gone")
    return sum(int(f) for f in fields[11:15])


def _stat_fields(stat: Path) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces): state, ppid, ..."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


# the checks ---------------------------------------------------------------------------------------


def stored_ids(state: Location) -> list[str]:
    """Every external id the state holds, sorted (a duplicate would appear twice)."""
    with open_store(state) as store:
        return sorted(str(t.external_id) for t in store.stored_transactions())  # stored rows all have one


def problems(run: Run, inbox: Inbox, ids: list[str], expected: list[str] | None) -> list[str]:
    """What is wrong after a run: files not archived exactly once, left behind, failed; ids lost or twice."""
    found = [*_file_problems(run, inbox), *_id_problems(ids, inbox.total_rows)]
    if expected is not None and ids != expected:
        lost, extra = set(expected) - set(ids), set(ids) - set(expected)
        found.append(f"the ids differ from the reference run's: {len(lost)} missing, {len(extra)} not in it")
    return found


def _file_problems(run: Run, inbox: Inbox) -> list[str]:
    archived = sorted(p.name for p in run.archive.rglob("*") if p.is_file())
    found = []
    if archived != sorted(inbox.names):
        missing, extra = set(inbox.names) - set(archived), set(archived) - set(inbox.names)
        found.append(f"archive: {len(missing)} file(s) missing, {len(extra)} extra (e.g. {sorted(extra)[:3]})")
    if left := sorted(p.name for p in run.inbox.iterdir()):
        found.append(f"{len(left)} file(s) left in the inbox (e.g. {left[:3]})")
    if run.failed.exists() and (failed := sorted(run.failed.glob("*.error.txt"))):
        found.append(f"{len(failed)} file(s) failed: {failed[0].read_text(errors='replace').strip()[:300]}")
    return found


def _id_problems(ids: list[str], rows: int) -> list[str]:
    found = []
    if len(ids) != rows:
        found.append(f"{len(ids):,} transactions stored, {rows:,} generated")
    if twice := len(ids) - len(set(ids)):
        found.append(f"{twice} external id(s) stored twice")
    return found


def worker_problems(workers: list[Worker], killed: int | None = None) -> list[str]:
    """Workers that did not exit 0 (but the one killed), with the last line they wrote."""
    return [
        f"worker {n} exited {w.returncode}: {(w.stderr.strip().splitlines() or ['no output'])[-1][:200]}"
        for n, w in enumerate(workers)
        if w.returncode != 0 and n != killed
    ]


# throughput ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    engine: str  # "SQLite" or "PostgreSQL"
    workers: int

    @property
    def label(self) -> str:
        return f"workers: {self.engine}, {self.workers} worker{'s' if self.workers > 1 else ''}"


def measure_run(
    setting: Setting,
    inbox: Inbox,
    state: Location,
    folder: Path,
    limit: float,
    expected: list[str] | None,
    server: pgserver.Server | None = None,
) -> tuple[Result, list[str]]:
    """One timed, checked run of `setting` on a fresh copy of `inbox`; (its result, the ids it stored).
    `server`: the PostgreSQL server `state` is on, whose CPU time over the run counts too."""
    run = prepare(inbox, folder)
    before = server_cpu(server) if server else None
    try:
        workers, _ = run_together(watch_command(run, state, LEASE), setting.workers, limit)
    except TimedOut as late:
        return _failed(setting, inbox, f"did not finish in {late.limit:.0f} s"), []
    time.sleep(0.2)  # the backends of the exited workers end and are reaped: their CPU counts
    after = server_cpu(server) if server and before is not None else None
    ids = stored_ids(state)
    wrong = worker_problems(workers) + problems(run, inbox, ids, expected)
    if wrong:
        return _failed(setting, inbox, "; ".join(wrong)), ids
    return _result(setting, inbox, workers, None if after is None or before is None else after - before), ids


def _result(setting: Setting, inbox: Inbox, workers: list[Worker], server_seconds: float | None) -> Result:
    return Result(
        setting.label,
        inbox.total_rows,
        inbox.total_rows,
        max(w.seconds for w in workers),
        max(w.peak_mb for w in workers),
        None,
        sum(w.cpu_seconds for w in workers),
        kind="workers",
        files=len(inbox.names),
        server_cpu_seconds=server_seconds,
    )


def _failed(setting: Setting, inbox: Inbox, why: str) -> Result:
    return Result(setting.label, inbox.total_rows, None, None, None, why, kind="workers", files=len(inbox.names))


def throughput(server: pgserver.Server, inbox: Inbox, counts: list[int], scratch: Path, limit: float) -> list[Result]:
    """SQLite with one worker (the reference ids), then PostgreSQL with each count of workers."""
    sqlite = Setting("SQLite", 1)
    first, expected = measure_run(sqlite, inbox, scratch / "sqlite" / "state.sqlite", scratch / "sqlite", limit, None)
    _progress(first)
    found = [first]
    for count in counts:
        with fresh_schema(server, f"bench_workers_{count}") as url:
            setting = Setting("PostgreSQL", count)
            result, _ = measure_run(setting, inbox, url, scratch / f"pg-{count}", limit, expected, server)
        _progress(result)
        found.append(result)
    return found


def _progress(result: Result) -> None:
    print(f"{result.name:<34} {result.cell() if result.rate else result.note}", flush=True)


# the command line ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=1_000, help="workers: statement files in the inbox")
    parser.add_argument("--file-rows", type=int, default=100, help="workers and trials: rows in each file")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="workers: PostgreSQL worker counts")


def benchmark(args: argparse.Namespace, server: pgserver.Server) -> list[Result]:
    inbox = cached_inbox(args.data, args.files, args.file_rows)
    print(f"workers: {len(inbox.names):,} files of {inbox.rows} rows over {ACCOUNTS} accounts", flush=True)
    with tempfile.TemporaryDirectory(prefix="importer-bench-workers-") as scratch:
        return throughput(server, inbox, args.workers, Path(scratch), args.limit)
