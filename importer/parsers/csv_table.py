"""Where the table is: delimiter, preamble, header row, data rows and footer, over the whole file.

Banks put account details above the table and totals below it, end every row with a stray
delimiter (Chase), or quote fields across lines.  The whole file is scanned once with the csv
module to learn each record's width and first line; the cells themselves are then read by
pandas' C parser (`csv.read_frame`).  A data row whose width differs from the table's is an
error naming its line, never silently cut or padded.
"""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from importer.errors import ParseError
from importer.parsers.numbers import is_number_shaped

DELIMITERS = (",", ";", "\t", "|")
SNIFF_RECORDS = 400
TAIL_RECORDS = 50
DATE_LIKE = re.compile(
    r"^\s*(\d{1,4}[./\-: ]\s?\d{1,2}[./\-: ]\s?\d{1,4}\.?|\d{8}|\d{1,2}[ .\-/]?[^\W\d_]{3,}\.?[ .\-/,]+\d{2,4})\b"
)


@dataclass(frozen=True)
class Records:
    """Width and first line (1-based) of every record, blank lines included (width 0)."""

    widths: array  # type: ignore[type-arg]
    lines: array  # type: ignore[type-arg]
    header_cells: dict[int, list[str]]  # cells of the first and last records (header, footer)
    total_lines: int


@dataclass(frozen=True)
class Table:
    """The located table: `first`..`end` are record indexes of the data rows."""

    delimiter: str
    width: int
    header: list[str] | None
    header_line: int | None
    first: int
    end: int
    preamble_lines: int
    footer_lines: int
    trailing_empty: bool  # every data row ends with one empty field the header lacks


_LINE = re.compile(r"[^\n]*\n|[^\n]+")


def text_lines(text: str) -> Iterator[str]:
    """The lines of `text` as `io.StringIO(text)` yields them, one at a time: a StringIO holds a
    copy of the text at four bytes a character (800 MB for a 200 MB export)."""
    return map(re.Match.group, _LINE.finditer(text))


def sniff_delimiter(text: str) -> tuple[str, int, int]:
    """The delimiter giving the longest run of equally wide records, with that run and width."""
    best = (",", 0, 0)
    for delimiter in DELIMITERS:
        run, width = _longest_run(_head_widths(text, delimiter))
        if width > 1 and (run, width) > best[1:]:
            best = (delimiter, run, width)
    return best


def _head_widths(text: str, delimiter: str) -> list[int]:
    reader = csv.reader(text_lines(text), delimiter=delimiter)
    widths = []
    try:
        for row in reader:
            widths.append(len(row))
            if len(widths) >= SNIFF_RECORDS:
                break
    except csv.Error:
        pass
    return widths


def _longest_run(widths: list[int]) -> tuple[int, int]:
    best_run, best_width, run, width = 0, 0, 0, -1
    for w in widths:
        if w == 0:
            continue  # blank lines neither break nor extend a run
        run, width = (run + 1, w) if w == width else (1, w)
        if (run, width) > (best_run, best_width):
            best_run, best_width = run, width
    return best_run, best_width


def scan(path: Path, text: str, delimiter: str) -> Records:
    """Every record's width and first line; an unclosed quote is an error at its line."""
    return _scan_single_lines(text, delimiter) or scan_records(path, text, delimiter)


def scan_records(path: Path, text: str, delimiter: str) -> Records:
    """`scan` record by record, following each record's first line (quoted fields may span lines)."""
    reader = csv.reader(text_lines(text), delimiter=delimiter)
    widths, lines, cells = array("i"), array("i"), {}
    tail: deque[tuple[int, list[str]]] = deque(maxlen=TAIL_RECORDS)
    previous = 0
    for row in reader:
        widths.append(_width(row))
        lines.append(previous + 1)
        if len(cells) < SNIFF_RECORDS:
            cells[len(widths) - 1] = row
        else:
            tail.append((len(widths) - 1, row))
        previous = reader.line_num
    _refuse_unclosed_quote(path, text, delimiter, lines)
    return Records(widths, lines, {**cells, **dict(tail)}, previous)


def _width(row: list[str]) -> int:
    return len(row) if any(row) or len(row) > 1 else 0  # a blank line, or one empty quoted field


def _scan_single_lines(text: str, delimiter: str) -> Records | None:
    """`scan_records` for the usual file whose every record is one line (None otherwise): record
    i is line i + 1, so the csv module only measures widths (`map(len, ...)` runs in C) and the
    cells of the first and last records are read again from their lines."""
    reader = csv.reader(text_lines(text), delimiter=delimiter)
    widths = array("i", map(len, reader))
    count = len(widths)
    if reader.line_num != count:
        return None  # some quoted field spans lines
    head, tail = min(SNIFF_RECORDS, count), max(0, min(TAIL_RECORDS, count - SNIFF_RECORDS))
    kept = [*range(head), *range(count - tail, count)]
    cells = dict(zip(kept, csv.reader(_head_and_tail_lines(text, head, tail), delimiter=delimiter)))
    for index in _width_one(widths):
        if index not in cells:
            return None  # a one-field record amid the table: let the record-wise scan read it
        widths[index] = _width(cells[index])
    return Records(widths, array("i", range(1, count + 1)), cells, count)


def _width_one(widths: array) -> list[int]:  # type: ignore[type-arg]
    """Indexes of one-field records (rare): `len` counts a lone empty quoted field as 1, not 0."""
    found = []
    try:
        while True:
            found.append(widths.index(1, found[-1] + 1 if found else 0))
    except ValueError:
        return found


def _head_and_tail_lines(text: str, head: int, tail: int) -> list[str]:
    """The first `head` and the last `tail` lines of `text`, without splitting the rest of it."""
    body = text[:-1] if text.endswith("\n") else text
    end = 0
    for _ in range(head):
        end = body.find("\n", end) + 1
        if not end:
            end = len(body) + 1
            break
    start = len(body) + 1
    for _ in range(tail):
        start = body.rfind("\n", 0, start - 1) + 1
    return body[: max(end - 1, 0)].split("\n")[:head] + (body[start:].split("\n") if tail else [])


def _refuse_unclosed_quote(path: Path, text: str, delimiter: str, lines: array) -> None:  # type: ignore[type-arg]
    if not lines:
        return
    last = lines[-1]
    tail = text.split("\n", last - 1)[-1] if last > 1 else text
    if "\n" not in tail.rstrip("\n"):
        return
    try:
        list(csv.reader(io.StringIO(tail), delimiter=delimiter, strict=True))
    except csv.Error:
        raise ParseError(path, "a quoted field is never closed: the quote runs to the end of the file.",
                         line=last, expected='a closing "', found=tail[:40])  # fmt: skip


def locate(path: Path, records: Records, delimiter: str, header_hint: tuple[str, ...] = ()) -> Table:
    """The table in `records`: its width, header (if any), data rows and footer."""
    width = _table_width(records)
    header_index = _find_header(records, width, header_hint)
    first = (header_index + 1) if header_index is not None else _first_data(records, width)
    end = _table_end(path, records, width, first)
    _refuse_data_above(path, records, width, header_index + 1 if header_index is not None else 0, first)
    header = records.header_cells.get(header_index) if header_index is not None else None
    return _table(records, delimiter, width, header_index, header, first, end)


def _table(records: Records, delimiter: str, width: int, header_index: int | None,
           header: list[str] | None, first: int, end: int) -> Table:  # fmt: skip
    trailing = header is not None and len(header) == width - 1
    footer = records.total_lines - records.lines[end] + 1 if end < len(records.lines) else 0
    preamble = records.lines[first] - 1 - (1 if header is not None else 0) if first < len(records.lines) else 0
    return Table(
        delimiter=delimiter, width=width, header=header,
        header_line=records.lines[header_index] if header_index is not None else None,
        first=first, end=end, preamble_lines=preamble, footer_lines=footer, trailing_empty=trailing,
    )  # fmt: skip


def _table_width(records: Records) -> int:
    counts = Counter(w for w in records.widths if w > 1)
    if not counts:
        return 0
    # The most common width; on a tie, the wider (data rows carry more fields than notes).
    return max(counts.items(), key=lambda item: (item[1], item[0]))[0]


def _find_header(records: Records, width: int, hint: tuple[str, ...]) -> int | None:
    for index, cells in records.header_cells.items():
        if hint and set(hint) <= {c.strip() for c in cells}:
            return index
    if hint:
        return None
    first = _first_data(records, width)
    for index in (first, first - 1):
        cells = records.header_cells.get(index)
        if cells is not None and len(cells) in (width, width - 1, width + 1) and is_header(cells):
            return index
    return None


def _first_data(records: Records, width: int) -> int:
    """The first record of the longest run of `width`-wide records with at least two cells filled."""
    best, best_run, start, run = 0, 0, 0, 0
    for index, w in enumerate(records.widths):
        if w == 0:
            continue
        filled = w == width and _filled(records, index) >= 2
        start, run = (start, run + 1) if filled and run else ((index, 1) if filled else (index, 0))
        if run > best_run:
            best, best_run = start, run
    return best


def _filled(records: Records, index: int) -> int:
    cells = records.header_cells.get(index)
    return 2 if cells is None else sum(1 for c in cells if c.strip())


def is_header(cells: list[str]) -> bool:
    """Names, not values: no date or number among the cells, and most of them filled."""
    filled = [c.strip() for c in cells if c.strip()]
    if len(filled) < max(2, len(cells) // 2):
        return False
    return not any(DATE_LIKE.match(c) or _is_number(c) for c in filled)


def _is_number(cell: str) -> bool:
    return is_number_shaped(cell)


def _table_end(path: Path, records: Records, width: int, first: int) -> int:
    """One past the last data record; rows of another width inside the table are errors."""
    widths, end = records.widths, len(records.widths)
    while end > first and (widths[end - 1] == 0 or (widths[end - 1] != width and _is_footer(records, end - 1))):
        end -= 1
    for index in range(first, end):
        if widths[index] not in (0, width):
            raise ParseError(
                path, f"this row has {widths[index]} fields where the table has {width}.",
                line=records.lines[index], expected=f"{width} fields", found=f"{widths[index]} fields",
            )  # fmt: skip
    return end


def _refuse_data_above(path: Path, records: Records, width: int, start: int, first: int) -> None:
    """A row above the table that holds a date and an amount is a ragged data row, not a preamble."""
    for index in range(start, first):
        cells = records.header_cells.get(index, [])
        if len(cells) >= 3 and any(DATE_LIKE.match(c) for c in cells) and any(_is_number(c) for c in cells):
            # The odd one out is this row, or a row of another width between it and the table.
            odd = next((k for k in range(index, first) if records.widths[k] not in (0, width)), index)
            raise ParseError(
                path, f"this row has {records.widths[odd]} fields where the table has {width}.",
                line=records.lines[odd], expected=f"{width} fields", found=f"{records.widths[odd]} fields",
            )  # fmt: skip


def _is_footer(records: Records, index: int) -> bool:
    cells = records.header_cells.get(index)
    return cells is None or not any(DATE_LIKE.match(c) for c in cells)


def delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))
