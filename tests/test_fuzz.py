"""Never a wrong number: mutated statement files are refused clearly or read to the original's values.

The harness lives in tests/fuzz/ (mutators, runner, table); `python -m tests.fuzz` prints the
table for the issue notes.  A default run here is a few thousand seeded cases over every sample
and a fixed corpus selection; IMPORTER_SLOW=1 adds the large budget.  On failure the message
lists the first failing cases by id (replay one with `python -m tests.fuzz --only ID`) and names
the file the whole table was written to.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from tests.fuzz import mutators
from tests.fuzz.mutators import DEFAULT, SLOW, Budget, Mutation
from tests.fuzz.runner import Plan, Target, corpus_targets, failures, judge, run, sample_targets, selected, values
from tests.fuzz.table import failure_list, summary, table
from tests.golden import ROOT, SAMPLES


def _fuzz(targets: list[Target], budget: Budget, tmp_path: Path) -> None:
    """Run every case of `targets`, write the table beside the test, and fail on any bad outcome."""
    work = tmp_path / "cases"
    work.mkdir()
    outcomes = run(targets, Plan(budget=budget), work)
    report = tmp_path / "fuzz-table.txt"
    report.write_text(table(outcomes) + "\n" + summary(outcomes) + "\n\n" + failure_list(outcomes, 10**6) + "\n")
    bad = failures(outcomes)
    assert len(outcomes) > len(targets) * 10, summary(outcomes)
    if bad:
        pytest.fail(f"{summary(outcomes)}; the whole table is in {report}\n{failure_list(outcomes)}", pytrace=False)


def test_mutated_samples_are_refused_or_read_exactly(tmp_path: Path) -> None:
    _fuzz(sample_targets(), DEFAULT, tmp_path)


def test_mutated_corpus_files_are_refused_or_read_exactly(tmp_path: Path) -> None:
    targets = corpus_targets()
    if not targets:
        pytest.skip("conformance corpus not found: set IMPORTER_CORPUS or place it at ../shared/corpus")
    _fuzz(targets, DEFAULT, tmp_path)


@pytest.mark.slow
def test_many_more_mutations_are_refused_or_read_exactly(tmp_path: Path) -> None:
    _fuzz(sample_targets() + corpus_targets(), SLOW, tmp_path)


# -- through the CLI: exit 1 and a message, never a traceback -----------------------------------


def _cut_inside_last_amount(data: bytes) -> bytes:
    start, _end = mutators.FIELDS["ofx"]["amount"](data)[-1]
    return data[: start + 2]


def _flip_first_decimal_point(data: bytes) -> bytes:
    start, end = mutators.FIELDS["csv"]["amount"](data)[0]
    at = data.index(b".", start, end)
    return data[:at] + bytes([data[at] ^ 0x80]) + data[at + 1 :]


def _letter_in_first_date(fmt: str) -> Callable[[bytes], bytes]:
    def mutate(data: bytes) -> bytes:
        start, _end = mutators.FIELDS[fmt]["date"](data)[0]
        return data[: start + 2] + b"O" + data[start + 2 :]

    return mutate


def _nul_in_first_amount(data: bytes) -> bytes:
    start, _end = mutators.FIELDS["qif"]["amount"](data)[0]
    return data[: start + 1] + b"\x00" + data[start + 1 :]


def _only(name: str, fmt: str) -> Callable[[bytes], bytes]:
    def mutate(data: bytes) -> bytes:
        return next(m for m in mutators.structural(data, fmt, DEFAULT, None) if m.name == name).data

    return mutate


CLI_CASES: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "ofx-cut-inside-an-amount": ("ofx/checking-2026-10.ofx", _cut_inside_last_amount),
    "csv-decimal-point-flipped": ("csv/chase/chase-checking-2026-10.csv", _flip_first_decimal_point),
    "mt940-letter-in-a-date": ("mt940/commerzbank-giro-2026-10.sta", _letter_in_first_date("mt940")),
    "qif-nul-in-an-amount": ("qif/checking-2026-10.qif", _nul_in_first_amount),
    "camt-billion-laughs": ("camt/giro-2026-10.camt053.xml", _only("billion-laughs", "camt")),
    "ofx-deep-nesting": ("ofx/lakeside-cu-2026-10.qfx", _only("deep-nesting", "ofx")),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_the_cli_refuses_a_mutated_file_with_a_message(case: str, tmp_path: Path) -> None:
    sample, mutate = CLI_CASES[case]
    path = tmp_path / Path(sample).name
    path.write_bytes(mutate((SAMPLES / sample).read_bytes()))
    done = subprocess.run(
        [sys.executable, "-m", "importer", "parse", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 1, f"exit {done.returncode}; stdout: {done.stdout[-1000:]}"
    assert str(path) in done.stderr


# -- the harness itself ------------------------------------------------------------------------


def _sample(relative: str) -> tuple[bytes, list[Statement]]:
    path = SAMPLES / relative
    return path.read_bytes(), parse_file(path, ParseOptions())


def _all(data: bytes, fmt: str, seed: int) -> list[Mutation]:
    return list(mutators.mutations(data, fmt, "key", seed, DEFAULT, first_row=1))


def test_mutations_are_the_same_for_the_same_seed_and_differ_for_another() -> None:
    data, _ = _sample("csv/chase/chase-checking-2026-10.csv")
    assert _all(data, "csv", 1) == _all(data, "csv", 1)
    assert [m.detail for m in _all(data, "csv", 1)] != [m.detail for m in _all(data, "csv", 2)]


FIELD_CASES = [
    # sample, format, amounts found, dates found, first amount, first date (camt: 3 entries, one
    # of them two transactions; its amounts include the balances and each entry's AmtDtls)
    ("ofx/checking-2026-10.ofx", "ofx", 15, 15, "3250.00", "20261001120000.000[-5:EST]"),
    ("qif/checking-2026-10.qif", "qif", 8, 8, "3,250.00", "10/ 1'26"),
    ("camt/giro-2026-10.camt053.xml", "camt", 10, 3, "1520.40", "2026-10-01"),
    ("mt940/commerzbank-giro-2026-10.sta", "mt940", 5, 5, "2850,00", "261001"),
    ("csv/chase/chase-checking-2026-10.csv", "csv", 25, 12, "-38.99", "10/30/2026"),
    ("csv/nationwide/statement-download-2026-oct-31.csv", "csv", 14, 6, "\xa32,811.09", "01 Oct 2026"),
]


@pytest.mark.parametrize(("relative", "fmt", "amounts", "dates", "amount", "date"), FIELD_CASES)
def test_the_letter_mutations_find_the_amounts_and_dates(
    relative: str, fmt: str, amounts: int, dates: int, amount: str, date: str
) -> None:
    data = (SAMPLES / relative).read_bytes()
    found = {
        field: [data[a:b].decode("latin-1") for a, b in mutators.FIELDS[fmt][field](data)]
        for field in ("amount", "date")
    }
    assert (len(found["amount"]), len(found["date"])) == (amounts, dates)
    assert (found["amount"][0], found["date"][0]) == (amount, date)


def test_the_judge_tells_a_changed_amount_from_a_partial_read() -> None:
    _, statements = _sample("csv/chase/chase-checking-2026-10.csv")
    [statement] = statements
    original = values(statements)
    first, *rest = statement.transactions
    changed = statement.model_copy(
        update={"transactions": (first.model_copy(update={"amount": first.amount + 1}), *rest)}
    )
    shorter = statement.model_copy(update={"transactions": tuple(rest)})
    assert judge(original, [statement]) == ("exact", "", False)
    assert judge(original, [shorter]) == ("exact", "", True)
    kind, message, _ = judge(original, [changed])
    assert kind == "wrong" and str(first.amount + 1) in message


def test_a_case_id_replays_that_case_only() -> None:
    assert selected("flip:samples/x.csv@offset=87", "flip:samples/x.csv@offset=87")
    assert not selected("flip:samples/x.csv@offset=87", "flip:samples/x.csv@offset=870")
    assert selected("letter-date:samples/x.csv@offset=9", "letter-date:samples/x.csv@offset=9,letter=e")
    assert selected("samples/x.csv", "nul:samples/x.csv@offset=3")
