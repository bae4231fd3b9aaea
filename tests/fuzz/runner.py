"""Run the mutations of every target file through `parse_file` and judge each outcome.

Each case is one mutated copy of a target, written under the target's own file name (CSV
identification reads the suffix) and parsed in-process with the options the unmutated file
needs.  The outcome is one of:

    clean      an `InputError` whose message names the mutated file's path
    exact      parsed, and every transaction's (date, amount, currency, balance) is one of the
               unmutated file's, as a multiset (free text may differ: a flipped byte in a memo
               is undetectable and harmless); `short` counts those with fewer transactions
    wrong      parsed, yet some transaction's values are not the unmutated file's
    unnamed    an `InputError` whose message does not name the file
    traceback  any other exception
    hang       no answer within the time limit (CPU seconds), or a worker that never came back
    harness    the unmutated file is refused, or the harness itself failed on the file

The targets are spread over two worker processes (the machine has two cores); every worker
parses a whole target, so the outcomes come back in a fixed order whatever the timing.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

from importer.core.errors import BalanceError, ImporterError, InputError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from tests.corpus import corpus_root
from tests.fuzz.mutators import DEFAULT, Budget, Mutation, mutations
from tests.golden import ROOT, SAMPLES, SAMPLES_CURRENCY, sample_files

SEED = 20261201
TIME_LIMIT = 10.0  # CPU seconds per case; a parser that needs longer (even for 50 MB) is stuck
FAILURES = ("wrong", "traceback", "hang", "unnamed")

# The corpus files fuzzed besides samples/: chosen by hand for their variety (OFX 2.x XML, one-line
# SGML, camt.052/053/054, CRLF, BOM, decimal commas, running balances, repeated headers).
CORPUS_SELECTION: tuple[str, ...] = (
    "ofx/asgrim-ofxparser/ofxdata-xml.ofx",
    "ofx/ofxtools/stmtrs.ofx",
    "ofx/asgrim-ofxparser/ofxdata-oneline.ofx",
    "ofx/beangulp/2013-12-03.bofa.ofx",
    "ofx/ofxstatement-french/BPACA_OP_20220717-2.ofx",
    "camt/ofxstatement-iso20022/simple.xml",
    "camt/ofxstatement-iso20022/camt052.xml",
    "camt/genkgo-camt/camt053.v2.multi.statement.xml",
    "camt/genkgo-camt/camt054.v8.xml",
    "mt940/mt940/cmxl/mt940.sta",
    "mt940/mt940/jejik/rabobank-iban.sta",
    "mt940/mt940/self-provided/raphaelm.sta",
    "mt940/mt940/mBank/mt940.sta",
    "qif/quiffen/test.qif",
    "qif/csv2ofx/default_w_splits.qif",
    "qif/csv2ofx/ubs-ch-fr.qif",
    "csv/ofxstatement-austrian/easybank-giro.csv",
    "csv/ofxstatement-dutch/Knab_transactieoverzicht_ok.csv",
    "csv/ofxstatement-russian/sberbank.csv",
    "csv/bank2ynab/MS_JANE_SMITH_01-12-2019_14-12-2019.csv",
    "csv/csv2ofx/mint_extra.csv",
)
# QIF names neither currency nor account: read the corpus as the conformance tests do.
CORPUS_OPTIONS: dict[str, ParseOptions] = {"qif": ParseOptions(currency="USD", account="Imported")}


@dataclass(frozen=True)
class Target:
    """One unmutated file, its format and the options it is read with."""

    path: Path
    key: str  # how reports name it: "samples/..." or "corpus/..."
    fmt: str
    options: ParseOptions
    big: bool = False  # also the 50 MB line and 10^5-column row in a default run


@dataclass(frozen=True)
class Outcome:
    """What one case came to."""

    kind: str
    fmt: str
    mutation: str
    key: str
    detail: str
    message: str = ""
    short: bool = False
    seconds: float = 0.0

    @property
    def case(self) -> str:
        """The case id that `python -m tests.fuzz --only` takes."""
        return f"{self.mutation}:{self.key}@{self.detail}"


# -- targets -------------------------------------------------------------------------------------


def sample_targets() -> list[Target]:
    """Every file under samples/, read with the golden tests' options; the first of each format also big."""
    targets, seen = [], set()
    for path in sample_files():
        fmt = path.relative_to(SAMPLES).parts[0]
        # The samples are read as the README's first command reads them (the repository's importer.yaml).
        options = ParseOptions(default_currency=SAMPLES_CURRENCY)
        targets.append(Target(path, str(path.relative_to(ROOT)), fmt, options, big=fmt not in seen))
        seen.add(fmt)
    return targets


def corpus_targets() -> list[Target]:
    """The hand-picked corpus files; [] when the corpus is absent."""
    root = corpus_root()
    if root is None:
        return []
    return [_corpus_target(root, relative) for relative in CORPUS_SELECTION]


def _corpus_target(root: Path, relative: str) -> Target:
    fmt = relative.split("/", 1)[0]
    return Target(root / relative, "corpus/" + relative, fmt, CORPUS_OPTIONS.get(fmt, ParseOptions()))


# -- judging one case --------------------------------------------------------------------------

Key = tuple[object, ...]


class Hang(BaseException):
    """Raised by the time limit's signal; a BaseException so that no parser's `except Exception` swallows it."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang()


def values(statements: list[Statement]) -> Counter[Key]:
    """The multiset of (date, amount, currency, balance) over every transaction."""
    return Counter((t.date, t.amount, t.currency, t.balance) for s in statements for t in s.transactions)


def judge(original: Counter[Key], statements: list[Statement]) -> tuple[str, str, bool]:
    """kind, message and shortness of a parse that returned `statements`."""
    found = values(statements)
    extra = found - original
    if extra:
        shown = ", ".join(f"{d} {a} {c} bal={b}" for d, a, c, b in list(extra)[:3])
        return "wrong", f"{sum(extra.values())} transaction(s) not in the original: {shown}", False
    return "exact", "", sum(found.values()) < sum(original.values())


def classify_error(exc: BaseException, path: Path) -> tuple[str, str]:
    """kind and message for an exception raised while parsing the mutated file at `path`."""
    if isinstance(exc, Hang):
        return "hang", f"no answer within {TIME_LIMIT:g} CPU seconds"
    if isinstance(exc, InputError):
        return ("clean" if str(path) in str(exc) else "unnamed"), str(exc)[:300]
    where = traceback.extract_tb(exc.__traceback__)[-1:]
    place = f" at {where[0].filename}:{where[0].lineno}" if where else ""
    return "traceback", f"{type(exc).__name__}: {str(exc)[:200]}{place}"


def timed_parse(path: Path, options: ParseOptions, limit: float) -> list[Statement]:
    """`parse_file` under a deadline of `limit` CPU seconds (`Hang` when it passes).

    CPU time (SIGPROF), not wall time: the machine is shared with other test runs, and a parser
    that is only waiting for a core is not stuck.  A wall-clock alarm at ten times the limit
    catches a parser that waits without computing.
    """
    previous = {sig: signal.signal(sig, _alarm) for sig in (signal.SIGPROF, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_PROF, limit)
    signal.setitimer(signal.ITIMER_REAL, limit * 10)
    try:
        return parse_file(path, options)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_case(
    target: Target, options: ParseOptions, original: Counter[Key], mutation: Mutation, folder: Path
) -> Outcome:
    """Write `mutation` under the target's name in `folder`, parse it and judge the outcome."""
    path = folder / target.path.name
    path.write_bytes(mutation.data)
    started = time.process_time()
    try:
        kind, message, short = judge(original, timed_parse(path, options, TIME_LIMIT))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        (kind, message), short = classify_error(exc, path), False
    finally:
        path.unlink(missing_ok=True)
    seconds = time.process_time() - started
    return Outcome(kind, target.fmt, mutation.name, target.key, mutation.detail, message, short, seconds)


# -- running targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What to run: the budget per target, the seed, and a case filter (`--only`)."""

    budget: Budget = DEFAULT
    seed: int = SEED
    only: str = ""


def baseline(target: Target) -> tuple[ParseOptions, list[Statement]]:
    """The options the unmutated file parses with (balance check off if it fails it) and its statements."""
    try:
        return target.options, parse_file(target.path, target.options)
    except BalanceError:
        options = replace(target.options, check_balances=False)
        return options, parse_file(target.path, options)


def first_row(statements: list[Statement]) -> int | None:
    """The 0-based line of the first transaction in the file (None when no line is known)."""
    lines = [t.source.line for s in statements for t in s.transactions if t.source.line is not None]
    return min(lines) - 1 if lines else None


def selected(only: str, case: str) -> bool:
    """`--only`: a whole case id ("flip:FILE@offset=87", not offset=870), or any part of one without "@"."""
    if not only or case == only or case.startswith(only + ","):
        return True
    return "@" not in only and only in case


def target_mutations(target: Target, plan: Plan, statements: list[Statement] | None = None) -> Iterator[Mutation]:
    budget = replace(plan.budget, big=plan.budget.big or target.big)
    if statements is None:
        statements = baseline(target)[1]
    data = target.path.read_bytes()
    for mutation in mutations(data, target.fmt, target.key, plan.seed, budget, first_row(statements)):
        if selected(plan.only, f"{mutation.name}:{target.key}@{mutation.detail}"):
            yield mutation


def run_target(target: Target, plan: Plan, folder: Path) -> list[Outcome]:
    """Every case of one target (the baseline must parse: a refused original is a broken selection)."""
    if "@" in plan.only and f":{target.key}@" not in plan.only:
        return []  # a whole case id names its file: skip the others' baselines
    try:
        options, statements = baseline(target)
    except ImporterError as exc:
        return [Outcome("harness", target.fmt, "-", target.key, "", f"the unmutated file is refused: {exc}")]
    original = values(statements)
    work = Path(tempfile.mkdtemp(dir=folder))
    try:
        return [run_case(target, options, original, m, work) for m in target_mutations(target, plan, statements)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(targets: list[Target], plan: Plan, folder: Path, workers: int = 2, deadline: float = 1800) -> list[Outcome]:
    """All outcomes of all targets, in target order, over `workers` processes."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_target, target, plan, folder) for target in targets]
        wait(futures, timeout=deadline, return_when=FIRST_EXCEPTION)
        outcomes = [o for target, future in zip(targets, futures) for o in _collected(target, future)]
        _stop(pool, futures)
    return outcomes


def _collected(target: Target, future: Future[list[Outcome]]) -> list[Outcome]:
    if not future.done():
        return [Outcome("hang", target.fmt, "-", target.key, "", "the worker never finished this file")]
    try:
        return future.result()
    except BrokenProcessPool as exc:
        return [Outcome("traceback", target.fmt, "-", target.key, "", f"a worker process died: {exc}")]
    except Exception as exc:  # a bug of the harness: report it with the others, keep the rest
        return [Outcome("harness", target.fmt, "-", target.key, "", f"{type(exc).__name__}: {exc}")]


def _stop(pool: ProcessPoolExecutor, futures: list[Future[list[Outcome]]]) -> None:
    """Kill workers stuck in C code that SIGALRM could not interrupt, so the run always ends."""
    if all(f.done() for f in futures):
        return
    for process in list(getattr(pool, "_processes", {}).values()):
        os.kill(process.pid, signal.SIGKILL)
    pool.shutdown(wait=False, cancel_futures=True)


def counts(outcomes: list[Outcome]) -> Counter[str]:
    return Counter(o.kind for o in outcomes)


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.kind in (*FAILURES, "harness")]
