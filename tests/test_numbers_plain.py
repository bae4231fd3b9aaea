"""The column check of plain amounts (`all_plain`, scans in C) against its reference regex."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.parsers.numbers import all_plain, all_plain_reference, plain_amounts

# Characters that make a cell plain or break it in every way the rules look at: the marks, signs,
# line ends, spaces, exponents, a non-ASCII digit (Decimal reads "٣" as 3) and an underscore.
_ALPHABET = "0123456789" * 3 + ".,-\n" * 3 + " +e_٣"


@settings(max_examples=3000)
@given(st.text(alphabet=_ALPHABET, max_size=24), st.sampled_from(".,"))
@example("-12.50\n3\n0.10", ".")
@example("-1,50\n2", ",")
@example("1.2.3", ".")
@example("-.5", ".")
@example("5.", ".")
@example("--5", ".")
@example("5-", ".")
@example("1\n\n2", ".")
@example("", ".")
def test_all_plain_decides_as_the_regex(joined: str, mark: str) -> None:
    assert all_plain(joined, mark) == all_plain_reference(joined, mark)


@settings(max_examples=3000)
@given(st.lists(st.text(alphabet="0123456789" * 4 + ".-,", max_size=6), min_size=1, max_size=5), st.sampled_from(".,"))
def test_all_plain_decides_as_the_regex_on_near_plain_columns(cells: list[str], mark: str) -> None:
    joined = "\n".join(cells)
    assert all_plain(joined, mark) == all_plain_reference(joined, mark)


@given(st.lists(st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,3})?", fullmatch=True), min_size=1, max_size=30))
def test_a_column_of_plain_cells_is_read_cell_by_cell(cells: list[str]) -> None:
    assert plain_amounts(cells, ".") == [Decimal(cell) for cell in cells]


def test_one_odd_cell_sends_the_whole_column_to_the_general_path() -> None:
    column = ["-190.95", "3552761.07", "0.10"]
    assert plain_amounts(column, ".") == [Decimal("-190.95"), Decimal("3552761.07"), Decimal("0.10")]
    for odd in ("1.2.3", "-.5", "5.", "--5", "5-", "-", ".", "٣", "+5", "5e2", "1 000"):
        assert plain_amounts([*column, odd], ".") is None, odd
