"""MT940/MT942 files that are cut off, flipped or mistyped: a clean error or only true transactions.

Every sample (and the corpus's MT942 reports, when the corpus is present) is cut after every line
end and at a hundred seeded bytes, has a byte flipped at a hundred seeded positions, and has a
letter typed into each of its amounts; see `tests/damage.py` for the rule each case must keep.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import BalanceError, ParseError, TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file
from tests.corpus import corpus_files
from tests.damage import check_all, cuts, flips, letters_in_amounts

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples" / "mt940").glob("*.sta"))
COMMERZBANK = Path(__file__).resolve().parent.parent / "samples" / "mt940" / "commerzbank-giro-2026-10.sta"
AMOUNTS = re.compile(rb"(?m)^:(?:60F|60M|61|62F|62M|64|65|90D|90C):[^\r\n]*?(?P<amount>\d+,\d*)")
MT942 = """:20:ST170119CYC/0001
:25:PL29114010810000267002001002
:28C:1/1
:34F:PLN0
:13D:1701191815+0100
:61:1701190119CN0,01NTRFNONREF//MB170119012058
:86:first
:61:1701190119DN2,50NTRFNONREF//MB170119012085
:86:second
:90D:1PLN2,50
:90C:1PLN0,01
-
"""


def read(tmp_path: Path, text: str, **options: object) -> list[Statement]:
    path = tmp_path / "statement.sta"
    path.write_text(text, encoding="utf-8")
    return parse_file(path, ParseOptions(**options))  # type: ignore[arg-type]


def _mt942_corpus() -> list[Path]:
    return [e.path for e in corpus_files("mt940") if e.relative.endswith(("mBank/mt942.sta",))]


@pytest.mark.parametrize("sample", SAMPLES + _mt942_corpus(), ids=lambda p: p.name)
def test_every_cut_is_refused_or_reads_only_true_transactions(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, cuts(sample.read_bytes(), seed=940), ParseOptions())
    assert outcome["refused"] > 0 and outcome["parsed"] > 0  # a cut between two whole statements still reads


@pytest.mark.parametrize("sample", SAMPLES + _mt942_corpus(), ids=lambda p: p.name)
def test_every_flipped_byte_is_refused_or_reads_only_true_transactions(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, flips(sample.read_bytes(), seed=942), ParseOptions())
    assert outcome["refused"] > 0


@pytest.mark.parametrize("sample", SAMPLES + _mt942_corpus(), ids=lambda p: p.name)
def test_a_letter_inside_any_amount_never_changes_a_transaction(tmp_path: Path, sample: Path) -> None:
    outcome = check_all(tmp_path, sample, letters_in_amounts(sample.read_bytes(), AMOUNTS), ParseOptions())
    assert outcome["refused"] > 0


def test_a_statement_cut_before_its_closing_balance_is_truncated_with_the_whole_ones_as_partial(tmp_path: Path) -> None:
    # The reproducer: 4 of 5 transactions came back, the last description cut, no balance check.
    path = tmp_path / "giro.sta"
    path.write_bytes(COMMERZBANK.read_bytes()[:1149])
    with pytest.raises(TruncatedError) as caught:
        parse_file(path, ParseOptions())
    assert str(caught.value) == (
        f"{path}, line 20: statement :20:STARTUMSE stops before its closing balance (:62F: or :62M:): the file was probably "
        "cut off. Download it again, or pass --allow-partial to import the complete statements. Expected its closing "
        "balance (:62F: or :62M:), found 'the :86: field as the last one'."
    )
    [first] = caught.value.partial
    assert (first.closing_balance, [t.amount for t in first.transactions]) == (
        Decimal("3358.05"),
        [Decimal("2850.00"), Decimal("-950.00"), Decimal("-62.35")],
    )


def test_an_mt942_needs_no_closing_balance_but_its_totals_or_end(tmp_path: Path) -> None:
    [report] = read(tmp_path, MT942)
    assert ([t.amount for t in report.transactions], report.currency, report.closing_balance) == (
        [Decimal("0.01"), Decimal("-2.50")],
        "PLN",
        None,
    )
    assert (
        len(read(tmp_path, MT942.replace(":90D:1PLN2,50\n:90C:1PLN0,01\n", ""))[0].transactions) == 2
    )  # closed by "-"
    with pytest.raises(
        TruncatedError,
        match=r"line 9: statement :20:ST170119CYC/0001 stops before its :90D:/:90C: totals or the message end",
    ):
        read(
            tmp_path, MT942.split(":61:1701190119DN2,50")[0] + ":61:1701190119DN2,50NTRFNONREF//MB170119012085\n:86:sec"
        )


def test_mt942_totals_catch_a_lost_entry(tmp_path: Path) -> None:
    with pytest.raises(BalanceError, match=r"its :90D: says 1 entries of 2.50 in total, but the file holds 0 of 0\."):
        read(
            tmp_path, MT942.replace(":61:1701190119DN2,50", "61:1701190119DN2,50")
        )  # its tag lost: a continuation line
    assert (
        len(read(tmp_path, MT942.replace(":90D:1PLN2,50", ":90D:1PLN2,40"), check_balances=False)[0].transactions) == 2
    )


@pytest.mark.parametrize(
    ("field", "bad", "line"),
    [
        (":61:2610011001CR2850,00", ":61:2610011001CR2850,0,0", 6),  # two decimal commas
        (":61:2610011001CR2850,00", ":61:2610011001CR28X50,00", 6),  # a letter inside
        (":61:2610011001CR2850,00", ":61:2610011001CR-2850,00", 6),  # a sign inside the amount
        (":61:2610011001CR2850,00", ":61:2613011001CR2850,00", 6),  # month 13
        (":61:2610011001CR2850,00", ":61:2610011031CR2850,00", 6),  # entry date 31 October is fine: control
        (":60F:C260930EUR1520,40", ":60F:C260930EUR1520,4O", 5),  # the letter O for a zero
        (":60F:C260930EUR1520,40", ":60F:C260931EUR1520,40", 5),  # 31 September
        (":62F:C261014EUR3358,05", ":62F:C261014EUR3.358,05", 12),
    ],
)
def test_amounts_and_dates_are_exact_or_the_file_is_refused_naming_line_and_text(
    tmp_path: Path, field: str, bad: str, line: int
) -> None:
    text = COMMERZBANK.read_text(encoding="latin-1").replace(field, bad, 1)
    if bad.endswith("1031CR2850,00"):
        assert read(tmp_path, text)[0].transactions[0].date == dt.date(2026, 10, 31)
        return
    with pytest.raises(ParseError) as caught:
        read(tmp_path, text)
    assert str(caught.value).startswith(f"{tmp_path / 'statement.sta'}, line {line}: ")
    assert f"found '{bad[bad.index(':', 1) + 1 :]}" in str(caught.value)


def test_february_30_is_still_the_last_day_of_february_as_banks_write_it(tmp_path: Path) -> None:
    text = COMMERZBANK.read_text(encoding="latin-1").replace(":61:2610011001CR", ":61:2602300230CR", 1)
    assert read(tmp_path, text, check_balances=False)[0].transactions[0].date == dt.date(2026, 2, 28)


def test_a_currency_that_is_not_iso_is_a_parse_error_naming_the_file(tmp_path: Path) -> None:
    text = COMMERZBANK.read_text(encoding="latin-1").replace("EUR", "ZZZ")
    with pytest.raises(
        ParseError,
        match=r"statement\.sta, line 2: statement :20:STARTUMSE names a currency that is not an ISO 4217 code\. Expected a code such as EUR, found 'ZZZ'\.$",
    ):
        read(tmp_path, text)


def test_an_available_balance_the_file_may_end_inside_is_not_kept(tmp_path: Path) -> None:
    text = COMMERZBANK.read_text(encoding="latin-1").split(":64:")[0] + ":64:C261031EUR3158,9"
    statements = read(tmp_path, text)
    assert (statements[-1].available_balance, statements[-1].notes) == (
        None,
        (
            "the file ends right after the :64: balance on line 24, without a line break: it may be cut off inside that number, "
            "so the available balance is not kept.",
        ),
    )
    assert read(tmp_path, text + "\r\n")[-1].available_balance == Decimal("3158.9")
