"""Where the table is: delimiter, preamble, header row, data rows and footer, over the whole file.

Banks put account details above the table and totals below it, end every row with a stray
delimiter (Chase), or quote fields across lines.  The whole file is scanned once with the csv
module to learn each record's width and first line; the cells themselves are then read by
detect.py `read_grid` (the csv module, or pandas' C parser for a large table).  A data row whose width differs from the table's is an
error naming its line, never silently cut or padded.  The table is as wide as its most common
record, or, when a bank profile found its header, as that header.  A field over the csv module's
limit (128 KiB) is an error at its line: no bank writes one.

A download cut off mid-row must not read as a shorter statement.  The csv module closes a quote
left open at the end without a word, and a short last row used to pass for a footer, so the end is
checked on its own (`Table.cut_line`): an open quote, or a last row without a line end after it
that begins a data row with fewer fields, or ends in a number with fewer decimals than its
column (its filled cells, or the row's amounts when the header names it money and it is blank
above).  A record that could not begin a data row is still a footer.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from array import array
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from importer.core.errors import ParseError
from importer.parsers.csv.roles import role_of
from importer.parsers.numbers import is_number_shaped

DELIMITERS = (",", ";", "\t", "|")
_MONEY = frozenset({"amount", "debit", "credit", "balance"})
SNIFF_RECORDS = 400
TAIL_RECORDS = 50
DATE_LIKE = re.compile(
    r"^\s*(\d{1,4}[./\-: ]\s?\d{1,2}[./\-: ]\s?\d{1,4}\.?|\d{8}|\d{1,2}[ .\-/]?[^\W\d_]{3,}\.?[ .\-/,]+\d{2,4})\b"
)


@dataclass(frozen=True)
class Records:
    """Width and first line (1-based) of every record, blank lines included (width 0)."""

    widths: array[int]
    lines: array[int]
    header_cells: dict[int, list[str]]  # cells of the first and last records (header, footer)
    total_lines: int
    # How the text ends: "complete", "unterminated" (no line end after the last record) or
    # "open-quote" (the last record opens a quote it never closes): the last two may be a cut file.
    ending: str = "complete"


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
    cut_line: int | None = None  # the line of a last row the file cuts off (not part of the table)


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
    """Every record's width and first line, and how the text ends (see `Records.ending`)."""
    return _scan_single_lines(path, text, delimiter) or scan_records(path, text, delimiter)


def _unreadable(path: Path, exc: csv.Error, line: int) -> ParseError:
    """The csv module's refusal at `line` as a ParseError.  Its field limit (128 KiB) is kept on
    purpose: no bank writes a field that long (a memo is a few hundred characters), so such a
    field is damage, and reading it would only turn megabytes of noise into a description."""
    if "field limit" not in str(exc):
        return ParseError(path, f"this record cannot be read as delimited text ({exc}).", line=line)
    limit = csv.field_size_limit()
    return ParseError(
        path,
        f"a field is longer than {limit} characters, longer than any bank writes: the file "
        "is damaged or is not a statement. Download it again.",
        line=line,
    )


def scan_records(path: Path, text: str, delimiter: str) -> Records:
    """`scan` record by record, following each record's first line (quoted fields may span lines)."""
    reader = csv.reader(text_lines(text), delimiter=delimiter)
    widths, lines = array("i"), array("i")
    cells: dict[int, list[str]] = {}
    tail: deque[tuple[int, list[str]]] = deque(maxlen=TAIL_RECORDS)
    previous = 0
    try:
        for row in reader:
            widths.append(_width(row))
            lines.append(previous + 1)
            if len(cells) < SNIFF_RECORDS:
                cells[len(widths) - 1] = row
            else:
                tail.append((len(widths) - 1, row))
            previous = reader.line_num
    except csv.Error as exc:
        raise _unreadable(path, exc, reader.line_num) from None
    return Records(widths, lines, {**cells, **dict(tail)}, previous, _ending(text, delimiter, lines))


def _width(row: list[str]) -> int:
    return len(row) if any(row) or len(row) > 1 else 0  # a blank line, or one empty quoted field


def _scan_single_lines(path: Path, text: str, delimiter: str) -> Records | None:
    """`scan_records` for the usual file whose every record is one line (None otherwise): record
    i is line i + 1, so the csv module only measures widths (`map(len, ...)` runs in C) and the
    cells of the first and last records are read again from their lines."""
    reader = csv.reader(text_lines(text), delimiter=delimiter)
    try:
        widths = array("i", map(len, reader))
    except csv.Error as exc:
        raise _unreadable(path, exc, reader.line_num) from None
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
    lines = array("i", range(1, count + 1))
    return Records(widths, lines, cells, count, _ending(text, delimiter, lines))


def _width_one(widths: array[int]) -> list[int]:
    """Indexes of one-field records (rare): `len` counts a lone empty quoted field as 1, not 0."""
    found: list[int] = []
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


def _ending(text: str, delimiter: str, lines: array[int]) -> str:
    """How `text` ends.  The csv module closes a quote left open at the end of the text without a
    word, so the last record is read again strictly to tell a cut-off quoted field."""
    if not lines:
        return "complete"
    try:
        list(csv.reader(io.StringIO(last_record_text(text, lines[-1])), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "end of data" in str(exc):
            return "open-quote"
    return "complete" if text.endswith("\n") else "unterminated"


def last_record_text(text: str, line: int) -> str:
    """The text from the start of line `line` (1-based) to its end, searched from the end: the
    last record is near the end, and splitting a large file into lines would copy it."""
    position = len(text)
    for _ in range(text.count("\n") - line + 2):  # line L starts after the (L-1)th line end
        position = text.rfind("\n", 0, position)
        if position < 0:
            break
    return text[position + 1 :]


def locate(path: Path, records: Records, delimiter: str, header_hint: tuple[str, ...] = ()) -> Table:
    """The table in `records`: its width, header (if any), data rows and footer."""
    width = _table_width(records)
    header_index = _find_header(records, width, header_hint)
    width = _named_width(records, header_index, width) if header_hint else width
    first = (header_index + 1) if header_index is not None else _first_data(records, width)
    cut = _cut_record(records, width, first, _last_name(records, header_index, width))
    end = _table_end(path, records, width, first, len(records.widths) if cut is None else cut)
    _refuse_data_above(path, records, width, header_index + 1 if header_index is not None else 0, first)
    header = records.header_cells.get(header_index) if header_index is not None else None
    table = _table(records, delimiter, width, header_index, header, first, end)
    return table if cut is None else dataclasses.replace(table, cut_line=records.lines[cut])


def _named_width(records: Records, header_index: int | None, width: int) -> int:
    """The width of a table whose header a profile found: the header's, not the commonest width
    (a file cut after one row has as many two-field preamble lines as full rows).  A header one
    field short of the rows is the trailing-delimiter layout (Chase) and keeps the rows' width."""
    if header_index is None or header_index not in records.header_cells:
        return width
    named = len(records.header_cells[header_index])
    return width if named == width - 1 else named


def _cut_record(records: Records, width: int, first: int, last_name: str = "") -> int | None:
    """The index of the last record when the file cuts it off: a quote it never closes, or (with
    no line end after it) fewer fields than the table whose cells begin a data row.  A record that
    could not begin a data row ("Total: 3 rows") is a footer."""
    last = len(records.widths) - 1
    if records.ending == "open-quote":
        return last
    if records.ending != "unterminated" or not 0 < records.widths[last] <= width:
        return None
    rows, cells = _rows_before(records, first, last, width), records.header_cells.get(last, [""])
    if records.widths[last] < width:
        return last if _begins_a_row(cells, rows) else None
    if rows:
        return last if _last_cell_cut(cells, rows, last_name) else None
    # The only row: its other amounts show how many decimals an amount has, but the last cell may
    # be a whole number (an id), so only a decimal mark with too few digits after it, or a header
    # naming the column money, tells a cut.
    amounts = _marked_amounts([cells[:-1]])
    money = bool(re.search(r"[.,]\d*$", cells[-1].strip())) or role_of(last_name) in _MONEY
    return last if money and _number_cut_short(cells[-1], amounts) else None


def _rows_before(records: Records, first: int, index: int, width: int) -> list[list[str]]:
    """The cells of the full-width data records among the `TAIL_RECORDS` before record `index`."""
    return [
        records.header_cells[i]
        for i in range(max(first, index - TAIL_RECORDS), index)
        if records.widths[i] == width and i in records.header_cells
    ]


def _last_name(records: Records, header_index: int | None, width: int) -> str:
    """The header's name for the table's last column ("" without a header)."""
    header = records.header_cells.get(header_index, []) if header_index is not None else []
    return header[width - 1].strip() if 0 < width <= len(header) else ""


def _last_cell_cut(cells: list[str], rows: list[list[str]], name: str) -> bool:
    """Whether the last cell of a full-width last row is a number cut short.  Blanks in its column
    ("Balance" on the day's last row only, Bank of Ireland) say nothing: the filled cells show the
    decimals, or, when none is filled, a column the header names money takes the row's amounts'."""
    column = [row[-1] for row in rows]
    filled = [v for v in column if v.strip()]
    if not cells[-1].strip() or (not filled and role_of(name) not in _MONEY):
        return _number_cut_short(cells[-1], column)
    return _number_cut_short(cells[-1], filled or _marked_amounts([*rows, cells[:-1]]))


def _marked_amounts(rows: list[list[str]]) -> list[str]:
    """The cells of `rows` that are amounts with a decimal mark (what a money cell looks like)."""
    return [c for row in rows for c in row if re.search(r"[.,]\d", c) and is_number_shaped(c)]


def _number_cut_short(cell: str, column: list[str]) -> bool:
    """Whether `cell`, last of a file without a final line end, is a number of `column` cut short:
    blank where every row has a number, or fewer decimals than every row shows ("-23.9" of "-23.99").
    A text cell cut short cannot be told from a whole one; a number must never be."""
    values, value = [v.strip() for v in column], cell.strip()
    if not values or not all(v and is_number_shaped(v) for v in values):
        return False
    if not value:
        return True
    decimals = {_decimals(v) for v in values}
    return is_number_shaped(value) and len(decimals) == 1 and _decimals(value) < decimals.pop()


def _decimals(value: str) -> int:
    digits = re.sub(r"[^0-9.,]", "", value)
    mark = max(digits.rfind("."), digits.rfind(","))
    return len(digits) - mark - 1 if mark >= 0 and len(digits) - mark - 1 != 3 else 0


def _begins_a_row(cells: list[str], rows: list[list[str]]) -> bool:
    """Whether `cells` are the first cells of a data row cut short: each whole cell of a kind its
    column holds in `rows`, and the last one the beginning of such a cell."""
    if not rows or not cells:
        return False
    kinds = [{_cell_kind(row[column]) for row in rows} for column in range(len(cells))]
    *whole, last = cells
    return all("text" in k or _cell_kind(c) in k for c, k in zip(whole, kinds)) and _may_begin(last, kinds[-1])


def _cell_kind(cell: str) -> str:
    value = cell.strip()
    if DATE_LIKE.match(value):
        return "date"
    return "number" if not value or is_number_shaped(value) else "text"  # blank and numbers share money columns


_DATE_START = re.compile(r"\d[\d./\-: ]*|\d{1,2}[ .\-/]?[^\W\d_]+\.?[ .\-/,]*\d*")
_NUMBER_START = re.compile(r"[\s\-+(]*[^\w\s]{0,3}\s*[0-9.,'\s]*")


def _may_begin(cell: str, kinds: set[str]) -> bool:
    """Whether `cell` can be the beginning of a cell of one of `kinds` ("10/" of "10/21/2026")."""
    value = cell.strip()
    if "text" in kinds or not value:
        return True
    return ("date" in kinds and bool(_DATE_START.fullmatch(value))) or (
        "number" in kinds and bool(_NUMBER_START.fullmatch(value))
    )


def _table(
    records: Records,
    delimiter: str,
    width: int,
    header_index: int | None,
    header: list[str] | None,
    first: int,
    end: int,
) -> Table:
    trailing = header is not None and len(header) == width - 1
    footer = records.total_lines - records.lines[end] + 1 if end < len(records.lines) else 0
    preamble = records.lines[first] - 1 - (1 if header is not None else 0) if first < len(records.lines) else 0
    return Table(
        delimiter=delimiter,
        width=width,
        header=header,
        header_line=records.lines[header_index] if header_index is not None else None,
        first=first,
        end=end,
        preamble_lines=preamble,
        footer_lines=footer,
        trailing_empty=trailing,
    )


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
        near = records.header_cells.get(index)
        if near is not None and len(near) in (width, width - 1, width + 1) and is_header(near):
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


def _table_end(path: Path, records: Records, width: int, first: int, stop: int) -> int:
    """One past the last data record before `stop`; rows of another width inside the table are errors."""
    widths, end = records.widths, stop
    while end > first and (widths[end - 1] == 0 or (widths[end - 1] != width and _is_footer(records, end - 1))):
        end -= 1
    for index in range(first, end):
        if widths[index] not in (0, width):
            raise ParseError(
                path,
                f"this row has {widths[index]} fields where the table has {width}.",
                line=records.lines[index],
                expected=f"{width} fields",
                found=f"{widths[index]} fields",
            )
    return end


def _refuse_data_above(path: Path, records: Records, width: int, start: int, first: int) -> None:
    """A row above the table that holds a date and an amount is a ragged data row, not a preamble,
    unless it begins with a label where every data row begins with a date or a number
    ("Kontostand vom;31.10.2026;1.234,56;EUR" above a headerless table)."""
    rows = _rows_before(records, first, min(first + TAIL_RECORDS, len(records.widths)), width)
    labels_lead = any(_cell_kind(row[0]) == "text" for row in rows if row)
    for index in range(start, first):
        cells = records.header_cells.get(index, [])
        if cells and not labels_lead and _cell_kind(cells[0]) == "text" and cells[0].strip():
            continue
        if len(cells) >= 3 and any(DATE_LIKE.match(c) for c in cells) and any(_is_number(c) for c in cells):
            # The odd one out is this row, or a row of another width between it and the table.
            odd = next((k for k in range(index, first) if records.widths[k] not in (0, width)), index)
            raise ParseError(
                path,
                f"this row has {records.widths[odd]} fields where the table has {width}.",
                line=records.lines[odd],
                expected=f"{width} fields",
                found=f"{records.widths[odd]} fields",
            )


def _is_footer(records: Records, index: int) -> bool:
    cells = records.header_cells.get(index)
    return cells is None or not any(DATE_LIKE.match(c) for c in cells)


def delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))
