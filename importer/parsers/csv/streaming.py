"""A CSV statement read in one pass, front to back: the layout decided on a prefix, the rows in batches.

`stream_csv(source, options)` yields the events of importer/parsers/stream.py for the one
statement of a CSV file.  It reads `source` once, in pieces of `CHUNK_BYTES`, and holds at most
the prefix, one batch of rows and the last `TAIL_RECORDS` records, whatever the file's size.

Why a prefix of `PREFIX_BYTES` (1 MiB): every layout decision (encoding, delimiter, preamble,
header, column roles, date formats, decimal marks, the currency default, the balance chain's
order and sign) is made on it by the whole-file reader (whole.py), unchanged.  1 MiB is about
10,000 rows of a typical export, far more than those decisions look at (the first 200-400
records), and a statement no larger than it is simply read whole, so nearly every real file
gets exactly the whole-file result.  The rows after the prefix are read with those decisions
pinned: a cell that does not fit them is an error at its line, never read another way.

What only the end can tell is decided there: the last `TAIL_RECORDS` records are held back until
the file ends, then table.py's footer and cut-off checks run on them, as on a whole file; the
running balance is checked across batches link by link (balance.RunningChain).  An error at the
end still means nothing of the file is stored: the pipeline commits only after `StatementEnd`.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
from array import array
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import chain as chained
from itertools import islice, repeat
from pathlib import Path
from typing import Any

from importer.core.batch import BATCH_ROWS, TxBatch
from importer.core.errors import ParseError
from importer.core.models import Statement
from importer.parsers.base import ParseOptions, StatementFile
from importer.parsers.csv.balance import RunningChain
from importer.parsers.csv.cells import Cells
from importer.parsers.csv.detect import Layout, detect
from importer.parsers.csv.profiles import ColumnRef
from importer.parsers.csv.table import Records, Table, _cut_record, _ending, _table_end, _unreadable, _width, text_lines
from importer.parsers.csv.text import _decode, _wide_encoding
from importer.parsers.csv.whole import _Reader, parse_whole, truncated_error
from importer.parsers.numbers import plain_amounts
from importer.parsers.stream import Event, Rows, StatementEnd, StatementHead, events_of

PREFIX_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20
TAIL_RECORDS = 50  # as table.TAIL_RECORDS: the footer and cut-off checks look this far back
_STEP = 5_000  # records taken from the csv reader at a time (in C, then checked as a list)
_OTHER_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # line ends to str.splitlines only ("\r" is gone by then)

_Pinned = tuple[Layout, ParseOptions, RunningChain]  # what the prefix decided, for the batches after it
_Records = tuple[list[list[str]], list[int]]  # rows of cells and the line each begins on


def stream_csv(source: StatementFile, options: ParseOptions) -> Iterator[Event]:
    """The events of the CSV statement `source`, reading it once (see the module docstring)."""
    prefix = source.read(PREFIX_BYTES)
    following = source.read(CHUNK_BYTES) if len(prefix) == PREFIX_BYTES else b""
    if following and _wide_encoding(prefix):
        following += source.read()  # UTF-16/32 exports are small; their line ends are two bytes wide
    if not following or _wide_encoding(prefix) or b"\n" not in prefix:
        yield from events_of(parse_whole(source.path, options, prefix + following))
        return
    cut = prefix.rfind(b"\n") + 1
    yield from _Stream(source, options, prefix[:cut]).events(prefix[cut:] + following)


class _Stream:
    """One file's statement: the prefix read whole, then the body batch by batch."""

    def __init__(self, source: StatementFile, options: ParseOptions, head: bytes) -> None:
        self.source, self.path = source, source.path
        self.layout = detect(self.path, options, head)
        self.head_text = _head_text(self.path, head, self.layout.text.encoding)
        self.width_read = self.layout.grid.width  # the table's width, less a trailing empty field
        self.reader = _PrefixReader(self.path, self.layout, options)
        self.rows, self.first_day, self.last_day = 0, None, None
        self.options = options

    @property
    def table(self) -> Table:
        return self.layout.table

    def events(self, rest: bytes) -> Iterator[Event]:
        prefix = self.reader.checked_columns()
        currency = prefix["currency"][0] if prefix["currency"] else self.reader.currency_default
        if currency is None:
            self.reader.refuse_missing_currency()
        self.currency = currency
        yield self._head()
        yield from self._batches(prefix, self.reader.lines)
        yield from self._body(rest, self._pinned())
        yield StatementEnd(0, self._statement(), self.rows)

    def _head(self) -> StatementHead:
        profile = self.layout.profile.name if self.layout.named else None
        return StatementHead(
            0, str(self.path), "csv", self.reader.account, self.currency, self.reader.account_id, profile
        )

    def _statement(self) -> Statement:
        return Statement(
            path=str(self.path),
            format="csv",
            account=self.reader.account,
            currency=self.currency,
            transactions=(),
            bank_account_id=self.reader.account_id,
            profile=self.layout.profile.name if self.layout.named else None,
            start_date=self.first_day,
            end_date=self.last_day,
        )

    def _batches(self, columns: dict[str, Any], lines: Sequence[int]) -> Iterator[Rows]:
        """`columns` (checked, of `lines`) as `Rows` of at most `BATCH_ROWS` rows each."""
        if columns["date"]:
            days = (min(columns["date"]), max(columns["date"]))
            self.first_day = min(days[0], self.first_day or days[0])
            self.last_day = max(days[1], self.last_day or days[1])
        for start in range(0, len(lines), BATCH_ROWS):
            part = slice(start, start + BATCH_ROWS)
            yield Rows(0, _batch(self.path, self.reader.account, columns, lines, part, self.rows))
            self.rows += len(lines[part])

    def _pinned(self) -> _Pinned:
        """What the prefix decided, for the readers of the batches after it."""
        profile = self.layout.profile
        if self.reader.balance_dropped:
            profile = profile.model_copy(update={"columns": profile.columns.model_copy(update={"balance": None})})
        layout = dataclasses.replace(
            self.layout, profile=profile, evidence=[], found={}, guessed=self.layout.guessed - {"balance"}
        )
        options = dataclasses.replace(
            self.options, account=self.reader.account, currency=self.reader.currency_default or self.options.currency
        )
        return layout, options, RunningChain(self.path, self.reader.chains)

    # -- the body --------------------------------------------------------------------------
    def _body(self, rest: bytes, pinned: _Pinned) -> Iterator[Rows]:
        lines = _Lines(self.path, self.layout.text.encoding, self.source)
        start = self._body_line()
        text = self.head_text[_offset(self.head_text, start - 1) :]
        pieces = lines.texts(start, text, rest)
        held: _Records = ([], [])
        pending = _Columns(self.table.width)
        for block in _records(self.path, pieces, self.table.delimiter, self.table.width, start):
            held = self._queue(block, held, pending)
            while len(pending) >= BATCH_ROWS:
                yield from self._rows_of(*pending.take(BATCH_ROWS), pinned)
        tail, cut = self._tail(list(zip(held[1], held[0])), lines)
        pending.extend(*self._checked([cells for _, cells in tail], [line for line, _ in tail]))
        yield from self._rows_of(*pending.take(len(pending)), pinned)
        if cut is not None:
            (line, cells), ending = cut
            raise truncated_error(self.path, cells, ending, self.table, line, self.rows)

    def _queue(self, block: _Records | _Block, held: _Records, pending: _Columns) -> _Records:
        """`block`'s records after those `held`, into `pending` but for the last `TAIL_RECORDS`,
        which are returned, held back for the end's checks; a `_Block` (checked columns) goes in
        as it is, only its last records turned into rows."""
        if isinstance(block, _Block) and len(block.lines) > TAIL_RECORDS:
            pending.extend(*self._checked(*held))
            cut = len(block.lines) - TAIL_RECORDS
            pending.extend([column[:cut] for column in block.columns], block.lines[:cut])
            return list(map(list, zip(*[column[cut:] for column in block.columns]))), block.lines[cut:]
        rows, firsts = (list(map(list, zip(*block.columns))), block.lines) if isinstance(block, _Block) else block
        ready, held = _hold_back(held[0] + rows, held[1] + firsts)
        pending.extend(*self._checked(*ready))
        return held

    def _body_line(self) -> int:
        """The first line after the prefix's table (its footer-like records are read again here)."""
        records, table = self.layout.records, self.table
        if table.end < len(records.lines):
            return int(records.lines[table.end])
        return self.head_text.count("\n") + 1

    def _checked(self, rows: list[list[str]], lines: list[int]) -> tuple[list[tuple[str, ...]], list[int]]:
        """The data rows among `rows` as columns: blank ones dropped, any other width an error at its line.

        The usual step (every row of the table's width, none blank) is checked in C: `map(len)`,
        one transpose, and a blank row can only be one whose first cell is empty."""
        width = self.table.width
        if set(map(len, rows)) <= {width}:
            columns = list(zip(*rows))
            if not columns or "" not in columns[0]:
                return columns, lines
        for line, cells in zip(lines, rows):
            if _width(cells) not in (0, width):
                raise ParseError(
                    self.path,
                    f"this row has {len(cells)} fields where the table has {width}.",
                    line=line,
                    expected=f"{width} fields",
                    found=f"{len(cells)} fields",
                )
        kept = [i for i, cells in enumerate(rows) if _width(cells) and any(cells)]
        return list(zip(*[rows[i] for i in kept])), [lines[i] for i in kept]

    def _tail(self, held: list[tuple[int, list[str]]], lines: _Lines) -> tuple[list[tuple[int, list[str]]], Any]:
        """The data records among the last ones held (the footer left out), and the last one with how
        the text ends when the file cuts it off."""
        if not held:
            return [], None
        ending = lines.ending(held[-1][0], self.table.delimiter)
        records = Records(
            array("i", (_width(c) for _, c in held)),
            array("i", (n for n, _ in held)),
            dict(enumerate(c for _, c in held)),
            held[-1][0],
            ending,
        )
        header = self.table.header or []
        name = header[self.table.width - 1].strip() if len(header) >= self.table.width else ""
        cut = _cut_record(records, self.table.width, 0, name)
        end = _table_end(self.path, records, self.table.width, 0, len(held) if cut is None else cut)
        return held[:end], (None if cut is None else (held[cut], ending))

    def _rows_of(self, columns: list[list[str]], lines: list[int], pinned: _Pinned) -> Iterator[Rows]:
        """The rows of `columns` as checked typed columns (`Rows`), read with what the prefix decided."""
        if not lines:
            return
        layout, options, running = pinned
        if self.width_read < self.table.width:
            self._refuse_trailing(columns.pop(), lines)
        cells = Cells(self.path, layout.profile, self.reader.header, columns, lines)
        reader = _BatchReader(self.path, layout, options, cells, self.reader, running)
        kept = reader.lines
        yield from self._batches(reader.checked_columns(), kept)

    def _refuse_trailing(self, column: list[str], lines: list[int]) -> None:
        """The prefix showed an empty field after every row's last (Chase): a later row must too."""
        if not any(column):
            return
        row = next(i for i, cell in enumerate(column) if cell)
        raise ParseError(
            self.path,
            "this row has a value after its last column, where every row above ends in an empty field.",
            line=lines[row],
            expected="an empty last field",
            found=column[row],
        )


class _PrefixReader(_Reader):
    """The whole-file reader over the prefix, its raw cells kept as columns (`RawCells`) as a
    batch's are: a dict per row cost a tenth of the parse of a 100,000-row file."""

    def _raws(self) -> RawCells:  # type: ignore[override]
        return RawCells(self.raw_names(), self.cells.columns, range(len(self.cells)))


class _BatchReader(_PrefixReader):
    """The whole-file reader over one batch's cells, with the prefix's decisions pinned."""

    def __init__(
        self, path: Path, layout: Layout, options: ParseOptions, cells: Cells, prefix: _Reader, running: RunningChain
    ) -> None:
        self._given, self.running = cells, running
        super().__init__(path, layout, options)
        self.formats, self.marks = dict(prefix.formats), dict(prefix.marks)

    def money(self, ref: ColumnRef, *, blank: Decimal | None, what: str = "amount") -> list[Decimal | None]:
        """As `_Reader.money`; a column of plain numbers with its mark pinned read in one pass.

        Nothing is remembered across batches: looking each row up in a dict of the texts seen
        before was slower than one `Decimal` per row (measured: 2.0 against 0.7 s per 1M rows;
        the dict's entries lie all over memory), and a batch's distinct dates are few already."""
        mark = self.profile.decimal or self.marks.get(ref)
        plain = plain_amounts(self.column(ref), mark) if mark is not None else None
        if plain is not None:
            return plain  # type: ignore[return-value]  # list is invariant: no None in a plain column
        return super().money(ref, blank=blank, what=what)

    def _cells(self) -> Cells:
        return self.bookings(self._given)

    def _check_balances(
        self, amounts: list[Decimal], balances: list[Decimal | None], currencies: list[str]
    ) -> tuple[list[Decimal], list[Decimal | None]]:
        self._refuse_unconfirmed_pair(balances)
        if not self.options.check_balances or self.profile.columns.balance is None:
            return amounts, balances
        if any(chain.inverted for chain in self.running.chains.values()):
            amounts = [-a for a in amounts]
        for code in dict.fromkeys(currencies):
            self.running.check(code, *self._of_currency(code, currencies, amounts, balances))
        return amounts, balances


class RawCells(Sequence[dict[str, str]]):
    """Each row's cells by column name (`TxBatch.raw`), a row's dict built only when it is asked
    for: rules read the raw cells of few rows, and a dict per row cost a third of the parse.

    The first row asked for cuts the columns into row tuples in C (one `zip` for the batch), so
    the store, which asks for every row, builds each dict from a tuple, not a list per row."""

    __slots__ = ("_columns", "_names", "_rows", "_tuples")

    def __init__(self, names: list[str], columns: list[list[str]], rows: range) -> None:
        self._names, self._columns, self._rows = names, columns, rows
        self._tuples: list[tuple[str, ...]] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return RawCells(self._names, self._columns, self._rows[index])
        return dict(zip(self._names, self._row_tuples()[index]))

    @property
    def names(self) -> list[str]:
        """The cells' names: every row's dict has these keys, in this order."""
        return self._names

    def cell_columns(self, rows: Sequence[int]) -> list[list[str]]:
        """For each name, the cells of rows `rows` (positions in this sequence): the store
        encodes raw cells a column at a time, and a dict per row cost more than the encoding."""
        if list(rows) == list(range(len(self))) and self._rows.step == 1:
            return [column[self._rows.start : self._rows.stop] for column in self._columns]
        at = [self._rows[i] for i in rows]
        return [list(map(column.__getitem__, at)) for column in self._columns]

    def take(self, rows: Sequence[int]) -> RawCells:
        """Rows `rows` (in that order) as cells held by column: a batch without its skipped rows
        (`TxBatch.take`) keeps the store's and the rules' column-wise reading."""
        return RawCells(self._names, self.cell_columns(rows), range(len(rows)))

    def _row_tuples(self) -> list[tuple[str, ...]]:
        if self._tuples is None:
            rows = self._rows
            if rows.step == 1:
                parts = [column[rows.start : rows.stop] for column in self._columns]
            else:
                parts = [[column[i] for i in rows] for column in self._columns]
            self._tuples = list(zip(*parts)) if parts else [()] * len(rows)
        return self._tuples

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def column(self, name: str) -> list[str] | None:
        """Cell `name` of every row (None: no such column), as the rows' dicts hold it, without
        building them: a rule on `raw.<name>` reads that one cell of every row of a batch."""
        if name not in self._names:
            return None
        cells = self._columns[len(self._names) - 1 - self._names[::-1].index(name)]  # a dict keeps the last
        rows = self._rows
        return cells[rows.start : rows.stop] if rows.step == 1 else [cells[i] for i in rows]


class _Lines:
    """The text after the prefix as lines, decoded a chunk at a time; how it ends, for the tail."""

    def __init__(self, path: Path, encoding: str, source: StatementFile) -> None:
        self.path, self.source = path, source
        self.decoder = codecs.getincrementaldecoder(encoding)()
        self.encoding = encoding
        self.pieces: deque[tuple[int, str]] = deque(maxlen=2)  # the last pieces and their first lines

    def texts(self, line: int, text: str, rest: bytes) -> Iterator[str]:
        """Complete lines, a piece at a time (a csv record may span pieces, a line never does).

        A "\r" at the end of a piece is held back: it may be the first half of a "\r\n"."""
        pending, cr = text, ""
        for data in chained([rest], self.source.chunks(CHUNK_BYTES)):
            new = cr + self._decoded(data, line)
            new, cr = (new[:-1], "\r") if new.endswith("\r") else (new, "")
            pending += _newlines(new)
            whole = pending.rfind("\n") + 1
            if whole:
                line = yield from self._piece(line, pending[:whole])
                pending = pending[whole:]
        pending += _newlines(cr + self._decoded(None, line))
        if pending:
            yield from self._piece(line, pending)

    def _piece(self, line: int, piece: str) -> Generator[str, None, int]:
        """Yields `piece` (its first line is `line`); returns the line after it."""
        self.pieces.append((line, piece))
        yield piece
        return line + piece.count("\n")

    def _decoded(self, data: bytes | None, line: int) -> str:
        try:
            return self.decoder.decode(data or b"", final=data is None)
        except UnicodeDecodeError as exc:
            if self.encoding == "cp1252" and data is not None:  # as text.py: five bytes cp1252 leaves undefined
                return data.decode("latin-1")
            raise ParseError(
                self.path,
                f"is not valid {self.encoding} text.",
                line=line,
                expected=f"text in {self.encoding} (set encoding: in the profile)",
                found=(data or b"")[exc.start : exc.start + 8].hex(" "),
            ) from None

    def ending(self, last_line: int, delimiter: str) -> str:
        """How the text ends after a last record beginning at `last_line` (as table.Records.ending)."""
        first = self.pieces[0][0] if self.pieces else last_line
        text = "".join(piece for _, piece in self.pieces)
        return _ending(text, delimiter, array("i", [max(1, last_line - first + 1)]))


def _lines_of(piece: str) -> Iterable[str]:
    """The lines of `piece` as `text_lines` gives them: by `str.splitlines` (a list made in C, a
    quarter of the csv reader's time saved) unless the piece holds a character that splitlines
    also ends a line at but a file read by lines does not."""
    if any(mark in piece for mark in _OTHER_BREAKS):
        return text_lines(piece)
    return piece.splitlines(keepends=True)


@dataclasses.dataclass(frozen=True)
class _Block:
    """Records cut by `plain_columns`: checked as `_Stream._checked` would pass them unchanged."""

    columns: list[list[str]]
    lines: list[int]


def _records(path: Path, pieces: Iterator[str], delimiter: str, width: int, line: int) -> Iterator[_Records | _Block]:
    """The records of `pieces` (complete lines, the first of them line `line`) with the line each
    begins on: a piece at a time while `plain_columns` or `plain_lines` can cut them, then by the
    csv module (the reference) from the first piece neither can, to the end (a record may span
    the pieces after)."""
    for piece in pieces:
        columns = plain_columns(piece, delimiter, width)
        if columns is not None:
            yield _Block(columns, list(range(line, line + len(columns[0]))))
            line += len(columns[0])
            continue
        lines = plain_lines(piece, delimiter)
        if lines is None:
            records = csv.reader(chained.from_iterable(map(_lines_of, chained([piece], pieces))), delimiter=delimiter)
            yield from _steps(path, records, line)
            return
        yield list(map(str.split, lines, repeat(delimiter))), list(range(line, line + len(lines)))
        line += len(lines)


def plain_columns(piece: str, delimiter: str, width: int) -> list[list[str]] | None:
    """The records of `piece` (whole lines) as `width` columns, exactly as the csv module reads
    them, cut in C with no list per row (the csv reader, the rows' lists and their transpose were
    a third of the parse); None unless every line has `width` cells, the first never empty (so no
    row is blank: what `_Stream._checked` passes unchanged) and every column either has no quote
    or wraps each of its cells in one pair (`_unquoted`), or when the csv module has to decide
    (`_single_lines`).  tests/test_csv_plain_rows.py holds it to the csv module."""
    lines = _single_lines(piece, delimiter)
    if not lines or set(map(str.count, lines, repeat(delimiter))) != {width - 1}:
        return None
    cells = delimiter.join(lines).split(delimiter)
    columns = [cells[i::width] for i in range(width)]
    found = _unquoted_columns(columns) if '"' in piece else columns
    return None if found is None or "" in found[0] else found


def _unquoted_columns(columns: list[list[str]]) -> list[list[str]] | None:
    """Each column `_unquoted`; None when one of them is not."""
    texts = []
    for column in columns:
        text = _unquoted(column)
        if text is None:
            return None
        texts.append(text)
    return texts


def _unquoted(column: list[str]) -> list[str] | None:
    """`column` with the quote pair around each cell dropped, when each cell is one pair around
    text free of quotes (the csv module reads the text); the column as it is when it holds no
    quote; None otherwise.  Joined by line ends (which no cell holds), each cell but the first
    begins after a '"\\n"' between it and the one before: splitting there gives the cells'
    texts, one per cell exactly when every cell has a pair of its own and no other quote."""
    joined = "\n".join(column)
    if '"' not in joined:
        return column
    if not (joined.startswith('"') and joined.endswith('"')) or joined.count('"') != 2 * len(column):
        return None
    texts = joined[1:-1].split('"\n"')
    return texts if len(texts) == len(column) else None


def plain_lines(piece: str, delimiter: str) -> list[str] | None:
    """The lines of `piece` (whole lines) with their quotes dropped, when `str.split` cuts each into
    exactly the cells the csv module reads; None when the csv module has to decide.

    That is when a quote does more than wrap one whole cell free of delimiters and line ends
    (such a quote only marks where the cell begins and ends, so dropping it leaves the cell), or
    `_single_lines` says so (tests/test_csv_plain_rows.py holds it to the csv module)."""
    lines = _single_lines(piece, delimiter)
    if lines is None or ('"' in piece and not _quotes_wrap_cells(piece.split('"'), delimiter)):
        return None
    return list(map(str.replace, lines, repeat('"'), repeat(""))) if '"' in piece else lines


def _single_lines(piece: str, delimiter: str) -> list[str] | None:
    """The lines of `piece`, when a record can only be one of them; None when a line is blank (a
    record of no cells), ends at a character `str.split` would not cut at, holds a NUL, or may be
    too long for the csv module."""
    if delimiter in '"\n' or piece.startswith("\n") or "\n\n" in piece or "\0" in piece or "\r" in piece:
        return None
    if any(mark in piece for mark in _OTHER_BREAKS):
        return None
    lines = piece.split("\n")
    if piece.endswith("\n") or not piece:
        lines.pop()  # what follows the last line end: no line
    return None if max(map(len, lines), default=0) > csv.field_size_limit() else lines


def _quotes_wrap_cells(parts: list[str], delimiter: str) -> bool:
    """Whether the text around and between the quotes (`parts`) makes every quote wrap one whole
    cell: what a pair encloses holds no delimiter or line end, and each pair stands between a
    delimiter or line end before it and one after it."""
    if len(parts) % 2 == 0:
        return False
    inside = "".join(parts[1::2])
    if delimiter in inside or "\n" in inside:
        return False
    ends, between = (delimiter, "\n"), parts[2:-1:2]
    if not (parts[0].endswith(ends) or not parts[0]) or not (parts[-1].startswith(ends) or not parts[-1]):
        return False
    return all(map(str.startswith, between, repeat(ends))) and all(map(str.endswith, between, repeat(ends)))


def _steps(path: Path, records: Any, start: int) -> Iterator[tuple[list[list[str]], list[int]]]:
    """The records in lists of `_STEP`, each with the list of their first lines."""
    before = 0
    while True:
        try:
            rows = list(islice(records, _STEP))
        except csv.Error as exc:
            raise _unreadable(path, exc, start + records.line_num - 1) from None
        if not rows:
            return
        if records.line_num - before == len(rows):  # one line each: no cell holds a line end
            yield rows, list(range(start + before, start + before + len(rows)))
        else:
            yield rows, _first_lines(rows, start + before)
        before = records.line_num


def _hold_back(rows: list[list[str]], lines: list[int]) -> tuple[_Records, _Records]:
    """`rows` split into those ready to read and the last `TAIL_RECORDS`, held for the end's checks."""
    cut = max(0, len(rows) - TAIL_RECORDS)
    return (rows[:cut], lines[:cut]), (rows[cut:], lines[cut:])


class _Columns:
    """Checked rows waiting to fill a batch, column by column (extended and cut in C, never row by row)."""

    def __init__(self, width: int) -> None:
        self.columns: list[list[str]] = [[] for _ in range(width)]
        self.lines: list[int] = []

    def __len__(self) -> int:
        return len(self.lines)

    def extend(self, columns: Sequence[Sequence[str]], lines: list[int]) -> None:
        for column, more in zip(self.columns, columns):
            column += more
        self.lines += lines

    def take(self, count: int) -> tuple[list[list[str]], list[int]]:
        """The first `count` rows (as new lists), removed from here."""
        taken = [column[:count] for column in self.columns], self.lines[:count]
        for column in self.columns:
            del column[:count]
        del self.lines[:count]
        return taken


def _first_lines(rows: list[list[str]], line: int) -> list[int]:
    """The first line of each record, where some span lines (a quoted field holding line ends)."""
    firsts = []
    for cells in rows:
        firsts.append(line)
        line += 1 + sum(cell.count("\n") for cell in cells)
    return firsts


def _batch(
    path: Path, account: str, columns: dict[str, Any], lines: Sequence[int], part: slice, first_index: int
) -> TxBatch:
    return TxBatch(
        path=str(path),
        account=account,
        date=columns["date"][part],
        amount=columns["amount"][part],
        currency=columns["currency"][part],
        description=columns["description"][part],
        line=list(lines[part]),
        payee=columns["payee"][part],
        memo=columns["memo"][part],
        bank_id=columns["bank_id"][part],
        balance=columns["balance"][part],
        value_date=columns["value_date"][part],
        raw=columns["raw"][part],
        first_index=first_index,
    )


def _head_text(path: Path, head: bytes, encoding: str) -> str:
    """The prefix as detect() read it (decoded and with "\n" line ends), to begin the body from."""
    return _newlines(_decode(path, head, encoding))


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _offset(text: str, line_index: int) -> int:
    """Character offset of the start of 0-based line `line_index`."""
    position = 0
    for _ in range(line_index):
        position = text.index("\n", position) + 1
    return position
