"""The streaming reader's cut by `str.split` (`plain_rows`) against the csv module it stands for.

Whenever `plain_rows` reads a piece, it must give exactly the records the csv module gives for
the same lines; otherwise it must say None and leave the piece to the csv module.
"""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.parsers.csv.streaming import _lines_of, plain_rows

CHASE = Path(__file__).parent.parent / "samples" / "csv" / "chase" / "chase-checking-2026-10.csv"
# Cells, delimiters, quotes in every position, line ends of every kind csv or splitlines knows.
_ALPHABET = "ab1 " * 3 + ",;" * 3 + '"' * 4 + "\n" * 3 + "\r\t\0\x1c\u2028"


def _by_csv(piece: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(_lines_of(piece), delimiter=delimiter))


@settings(max_examples=5000)
@given(st.text(alphabet=_ALPHABET, max_size=40), st.sampled_from(",;\t"))
@example('a,"b c",1\nd,"",2\n', ",")
@example('"a,b",1\n', ",")
@example('a,"b""c",1\n', ",")
@example('a, "b",1\n', ",")
@example('a,b"c,1\n', ",")
@example('""\n', ",")
@example("a,b\n\nc,d\n", ",")
@example('a,"b\nc",1\n', ",")
@example('a,"b"c,1\n', ",")
def test_plain_rows_reads_as_the_csv_module_or_declines(piece: str, delimiter: str) -> None:
    rows = plain_rows(piece, delimiter)
    if rows is not None:
        assert rows == _by_csv(piece, delimiter)


def test_a_chase_export_is_cut_by_split_quotes_and_all() -> None:
    body = CHASE.read_text().split("\n", 1)[1]
    rows = plain_rows(body, ",")
    assert rows is not None and rows == _by_csv(body, ",")
    assert rows[0] == [
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
        assert plain_rows(piece, ",") is None, piece
