"""The streaming reader's cut by `str.split` (`plain_lines`, `plain_columns`) against the csv module
it stands for.

Whenever `plain_lines` takes a piece, splitting its lines at the delimiter must give exactly the
records the csv module gives for the same lines, and `plain_columns` those records as columns;
otherwise they must say None and leave the piece to the csv module.
"""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.parsers.csv.streaming import _lines_of, plain_columns, plain_lines

CHASE = Path(__file__).parent.parent / "samples" / "csv" / "chase" / "chase-checking-2026-10.csv"
# Cells, delimiters, quotes in every position, line ends of every kind csv or splitlines knows.
_ALPHABET = "ab1 " * 3 + ",;" * 3 + '"' * 4 + "\n" * 3 + "\r\t\0\x1c\u2028"


def _by_csv(piece: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(_lines_of(piece), delimiter=delimiter))


@settings(max_examples=5000)
@given(st.text(alphabet=_ALPHABET, max_size=40), st.sampled_from(",;\t"), st.integers(1, 4))
@example('a,"b c",1\nd,"",2\n', ",", 3)
@example('"a,b",1\n', ",", 2)
@example('a,"b""c",1\n', ",", 3)
@example('a, "b",1\n', ",", 3)
@example('a,b"c,1\n', ",", 3)
@example('""\n', ",", 1)
@example(",,\n", ",", 3)
@example("a,b\n\nc,d\n", ",", 2)
@example('a,"b\nc",1\n', ",", 3)
@example('a,"b"c,1\n', ",", 3)
def test_plain_lines_and_columns_read_as_the_csv_module_or_decline(piece: str, delimiter: str, width: int) -> None:
    lines, columns = plain_lines(piece, delimiter), plain_columns(piece, delimiter, width)
    if lines is None and columns is None:
        return
    rows = _by_csv(piece, delimiter)
    if lines is not None:
        assert [line.split(delimiter) for line in lines] == rows
    if columns is not None:
        assert all(len(row) == width and row[0] for row in rows)
        assert columns == [list(column) for column in zip(*rows)]


# Cells as exports write them, and as they go wrong: quoted or not, empty, a lone or doubled quote,
# a delimiter or text around a quoted cell.
_CELLS = ["a", "1.5", '"a b"', '""', "", '"a', 'a"', '"', '"a""b"', '"a,b"', ' "a"', '"a"b', "a b"]


@settings(max_examples=3000)
@given(st.lists(st.lists(st.sampled_from(_CELLS), min_size=1, max_size=4), min_size=1, max_size=6), st.booleans())
def test_plain_columns_read_table_like_pieces_as_the_csv_module(rows: list[list[str]], ends: bool) -> None:
    piece = "\n".join(map(",".join, rows)) + ("\n" if ends else "")
    width = len(rows[0])
    columns = plain_columns(piece, ",", width)
    if columns is not None:
        assert columns == [list(column) for column in zip(*_by_csv(piece, ","))]
    lines = plain_lines(piece, ",")
    if lines is not None:
        assert [line.split(",") for line in lines] == _by_csv(piece, ",")


def test_a_chase_export_is_cut_into_columns_quotes_and_all() -> None:
    body = CHASE.read_text().split("\n", 1)[1]
    assert plain_lines(body, ",") is not None
    columns = plain_columns(body, ",", 8)
    assert columns is not None and columns == [list(column) for column in zip(*_by_csv(body, ","))]
    assert [column[0] for column in columns] == [
        "DEBIT",
        "10/30/2026",
        "AMAZON MKTPL*2K4LM0R12 Amzn.com/bill WA",
        "-38.99",
        "DEBIT_CARD",
        "2913.56",
        "",
        "",
    ]


def test_pieces_the_csv_module_must_decide_are_declined() -> None:
    for piece in ('a,"b,c"\n', 'a,"b""c"\n', 'a,"b\nc"\n', 'a, "b"\n', "a,b\n\nc,d\n", "a\rb\n", 'a,b"c\n', "a\0b\n"):
        assert plain_lines(piece, ",") is None, piece


def test_columns_only_for_lines_of_the_table_width_none_blank() -> None:
    assert plain_columns('a,"b"\nc,""\n', ",", 2) == [["a", "c"], ["b", ""]]
    assert plain_columns("a,b\nc,d,e\n", ",", 2) is None
    assert plain_columns("a,b\n,d\n", ",", 2) is None
    for mixed in ('a,"b"\nc,d\n', 'a,"b"\nc,"""d"\n', 'a,"\nc,"d"""\n', 'a,"b"x\n', 'a, "b"\n'):
        assert plain_columns(mixed, ",", 2) is None, mixed
