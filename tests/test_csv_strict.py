"""CSV cells are read strictly and a cut-off file is never read as a shorter one.

An amount cell holds one number in the column's format, one sign form and at most one currency:
anything else ("-85O.00", "twelve") is an error naming file, line, column and cell, and nothing of
the file is stored.  A file that ends inside a row (fewer fields, an open quote, a number cut
short) is a `TruncatedError` carrying the complete rows for --allow-partial.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import InputError, ParseError, TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from importer.parsers.csv.reader import CsvParser

SAMPLES = Path("samples/csv")
BARCLAYS = SAMPLES / "barclays/data.csv"
BOFA = SAMPLES / "bank-of-america/stmt-2026-10.csv"
BUNQ = SAMPLES / "bunq/2026-10-31_bunq-statement.csv"
CHASE = SAMPLES / "chase/chase-checking-2026-10.csv"
WELLS = SAMPLES / "wells-fargo"
CSV_SAMPLES = sorted(p for p in SAMPLES.rglob("*") if p.is_file())


def _copy(tmp_path: Path, source: Path, old: str, new: str, *, header: str | None = None) -> Path:
    lines = source.read_text(encoding="utf-8").replace(old, new, 1).splitlines(keepends=True)
    path = tmp_path / source.name
    path.write_text((header + "\n" if header else "") + "".join(lines[1:] if header is not None else lines))
    return path


@pytest.mark.parametrize("cell", ["-85O.00", "-6Z.18", "-1O.00", "twelve", "-34.12 -1.00", "-(34.12)", "- 34.12 DR"])
@pytest.mark.parametrize(
    "header", [None, "No,When,Acct,Value,Kind,Text", ""], ids=["profile", "detected", "headerless"]
)
def test_an_amount_cell_that_is_not_one_number_names_line_column_and_cell(
    tmp_path: Path, cell: str, header: str | None
) -> None:
    path = _copy(tmp_path, BARCLAYS, "-34.12", cell, header=header)
    with pytest.raises(ParseError) as err:
        parse_file(path, ParseOptions(currency="GBP"))
    column = {None: "Amount", "": "column 4"}.get(header, "Value")
    line = 2 if header == "" else 3
    assert str(err.value).startswith(f"{path}, line {line}: an amount cell in column {column!r} is not a number.")
    assert str(err.value).endswith(f"found {cell!r}.")


def test_the_same_file_with_the_cell_fixed_reads_that_amount(tmp_path: Path) -> None:
    [statement] = parse_file(_copy(tmp_path, BARCLAYS, "-34.12", "-850.00"), ParseOptions())
    assert [t.amount for t in statement.transactions][:3] == [Decimal("2104.55"), Decimal("-850.00"), Decimal("-7.80")]


def test_a_date_cell_not_in_the_column_format_names_line_and_cell(tmp_path: Path) -> None:
    path = _copy(tmp_path, BARCLAYS, "05/10/2026", "05/1O/2026")
    with pytest.raises(ParseError, match=r"line 4: a date cell in column 'Date' does not match") as err:
        parse_file(path, ParseOptions())
    assert "found '05/1O/2026'" in str(err.value)


def test_a_balance_cell_is_as_strict_as_an_amount(tmp_path: Path) -> None:
    path = _copy(tmp_path, BOFA, '"3,789.73"', '"3,78g.73"')
    with pytest.raises(ParseError, match=r"a balance cell in column 'Running Bal.' is not a number") as err:
        parse_file(path, ParseOptions())
    assert "found '3,78g.73'" in str(err.value)


def test_the_cli_reports_the_bad_cell_without_a_traceback(tmp_path: Path) -> None:
    path = _copy(tmp_path, BARCLAYS, "-34.12", "-85O.00")
    done = subprocess.run([sys.executable, "-m", "importer", "parse", str(path)], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert f"{path}, line 3: an amount cell in column 'Amount' is not a number" in done.stderr + done.stdout


# -- truncation ------------------------------------------------------------------------------


def test_a_partial_last_row_is_not_taken_for_a_footer(tmp_path: Path) -> None:
    path = tmp_path / BOFA.name
    path.write_bytes(BOFA.read_bytes()[:673])  # ends "...\r\n10/"
    with pytest.raises(
        TruncatedError,
        match=r"line 15: the file ends in the middle of a row \(the last row has 1 of 4"
        r" fields\).*--allow-partial to import the 6 complete rows",
    ) as err:
        parse_file(path, ParseOptions())
    [partial] = err.value.partial
    assert [t.amount for t in partial.transactions] == [t.amount for t in _rows(BOFA)[:6]]


def test_an_unclosed_quote_at_the_end_stops_the_file(tmp_path: Path) -> None:
    data = BUNQ.read_bytes()
    path = tmp_path / BUNQ.name
    path.write_bytes(data[: data.index(b"Hausverwal") + 10])
    with pytest.raises(TruncatedError, match="a quoted field is never closed") as err:
        parse_file(path, ParseOptions())
    assert err.value.line == 4 and [len(s.transactions) for s in err.value.partial] == [2]


def _rows(path: Path) -> list[object]:
    return [t for s in parse_file(path, ParseOptions()) for t in s.transactions]


def _cuts(data: bytes) -> list[int]:
    """Every line end (with and without its line break) and a few random bytes."""
    ends = [i for i, byte in enumerate(data) if byte == 10]
    chosen = {*ends, *(i + 1 for i in ends), *random.Random(len(data)).sample(range(1, len(data)), 2)}
    return sorted(cut for cut in chosen if 0 < cut < len(data) and data[:cut].strip())


def _key(statement: Statement) -> list[tuple[object, ...]]:
    return [
        (t.date, t.amount, t.currency, t.balance, t.description, t.payee, t.memo, t.bank_id)
        for t in statement.transactions
    ]


@pytest.mark.parametrize("sample", CSV_SAMPLES, ids=str)
def test_a_sample_cut_anywhere_is_refused_or_reads_the_rows_it_holds(tmp_path: Path, sample: Path) -> None:
    """Either a clean error naming the file, or exactly the first rows of the whole file.  Two cuts
    cannot be told from a whole file: inside a text cell ending an unterminated last row, and inside
    the only row's last number; there the numbers must still be the original ones."""
    data = sample.read_bytes()
    [whole] = parse_file(sample, ParseOptions())
    full, path = _key(whole), tmp_path / sample.name
    for cut in _cuts(data):
        path.write_bytes(data[:cut])
        try:  # the CSV parser itself: whether a cut file is still claimed as CSV is not the question
            got = [row for statement in CsvParser().parse(path, ParseOptions()) for row in _key(statement)]
        except InputError as exc:
            assert str(exc).startswith(f"{path}"), (cut, str(exc))
            continue
        whole_rows = max(len(got) - 1, 0)
        assert got[:whole_rows] == full[:whole_rows], cut
        if got and got[-1] != full[len(got) - 1]:
            assert (not data[:cut].endswith(b"\n") and got[-1][:4] == full[len(got) - 1][:4]) or len(got) == 1, cut


# -- encodings and profiles ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("profile", [None, "chase-checking"])
def test_utf16_and_utf32_without_a_byte_order_mark(tmp_path: Path, encoding: str, profile: str | None) -> None:
    path = tmp_path / "chase.csv"
    path.write_bytes(CHASE.read_text(encoding="utf-8").encode(encoding))
    [statement] = parse_file(path, ParseOptions(profile=profile))
    assert _key(statement) == _key(parse_file(CHASE, ParseOptions())[0])
    assert statement.transactions[0].amount == Decimal("-38.99")


def test_a_profile_column_missing_from_a_headerless_table(tmp_path: Path) -> None:
    path = tmp_path / "wf.csv"
    rows = next(WELLS.iterdir()).read_text(encoding="utf-8").splitlines()
    path.write_text("".join(",".join(row.split(",")[:3]) + "\n" for row in rows))
    with pytest.raises(ParseError) as err:
        parse_file(path, ParseOptions(profile="wells-fargo"))
    assert str(err.value) == (
        f"{path}: the profile 'wells-fargo' names column index 4 (column 5), but the table has "
        "3 columns (indexes 0 to 2). Fix the column in the profile."
    )


def test_a_profile_column_in_a_file_without_names_says_so(tmp_path: Path) -> None:
    path = tmp_path / "chase.csv"
    path.write_text("".join(CHASE.read_text(encoding="utf-8").splitlines(keepends=True)[1:]))
    with pytest.raises(ParseError, match="names a column 'Posting Date', but the table has no header row"):
        parse_file(path, ParseOptions(profile="chase-checking"))


def test_an_empty_statement_has_the_configured_currency_or_none(tmp_path: Path) -> None:
    # Every row is pending, so no row says the currency; the profile does not say it either.
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nbank: Mine\nheader: [Date, Text, Amount]\n"
        "columns: {date: Date, description: Text, amount: Amount}\n"
    )
    path = tmp_path / "pending.csv"
    path.write_text("Date,Text,Amount\nPending,Coffee,-3.00\nPending,Tea,-2.00\n")
    options = ParseOptions(profile="mine", profile_dirs=(tmp_path,))
    with pytest.raises(ParseError, match="the file does not say its currency: pass --currency CODE"):
        parse_file(path, options)
    [statement] = parse_file(path, dataclasses.replace(options, currency="EUR"))
    assert statement.currency == "EUR" and statement.transactions == ()
