"""The layout of a CSV export: a bank profile that matches its header, else one inferred.

`detect` returns a `Layout`: the profile to read the file with (named, or built from what the
file shows), the located table, its cells as strings, and the evidence for each decision so
`importer detect` can show its work.

The cells of a table under `PLAIN_CHARS` (every stream's 1 MiB prefix, so every small import) are
read by the csv module (`read_grid`), strictly: whatever it would read differently from pandas'
C parser (a long row, an open quote, text after a closing quote, a stray carriage return, a NUL,
a byte order mark) it refuses, and pandas reads that table instead (`read_grid_pandas`, the
reference; tests/test_csv_plain_grid.py holds the two equal on every sample and corpus CSV).
pandas with numpy cost 0.7 s of CPU at start-up, about five times a 20-row import's work; on a large file its
C parser is the faster reader, so a whole file over the limit is read by it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import warnings
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from importer.core.accounts import is_iban, normalise_identifier
from importer.core.currencies import is_currency
from importer.core.errors import InputError, ParseError
from importer.internals.lazy import lazy_module
from importer.parsers.base import ParseOptions
from importer.parsers.csv.account import Found, column_account, preamble_candidates, sole
from importer.parsers.csv.profiles import Columns, Profile, all_profiles, get_profile
from importer.parsers.csv.resemble import refuse_near_header
from importer.parsers.csv.roles import indicator_sign, role_of
from importer.parsers.csv.table import (
    DATE_LIKE,
    Records,
    Table,
    delimiter_name,
    locate,
    scan,
    sniff_delimiter,
    text_lines,
)
from importer.parsers.csv.text import DecodedText, read_again, read_text
from importer.parsers.dates import NoDateFormat, infer_date_format, mostly_dates
from importer.parsers.numbers import is_number_shaped

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

HEADER_SEARCH_LINES = 60
PLAIN_CHARS = 1 << 20  # a table's text up to this long is read by the csv module, longer by pandas


class Grid(NamedTuple):
    """The data rows of a table as plain columns, every cell a str, blank rows dropped."""

    columns: list[list[str]]
    rows: list[int]  # each row's record index, counted from the table's first record

    @property
    def width(self) -> int:
        return len(self.columns)


@dataclass
class Layout:
    """How to read one file, and why."""

    profile: Profile
    named: bool  # a shipped or user profile, not an inferred layout
    text: DecodedText  # its encoding and line endings; the text itself is dropped once read
    table: Table
    records: Records
    grid: Grid  # data rows only, columns 0..width-1
    evidence: list[str] = field(default_factory=list)
    guessed: frozenset[str] = frozenset()  # roles found from content, not from a header or profile
    found: dict[str, str] = field(default_factory=dict)  # settings read from the cells (date_format, decimal)
    preamble_account: Found | None = None  # the account identifier a line above the table gives

    @property
    def lines(self) -> list[int]:
        """The line of each row of `grid`."""
        lines, first = self.records.lines, self.table.first
        return [lines[first + row] for row in self.grid.rows]


def detect(path: Path, options: ParseOptions, data: bytes | None = None) -> Layout:
    """The layout of `path` (of `data`, its bytes or their prefix, when given); errors name the
    file and line of anything unreadable."""
    profile, named, text, records, table = locate_table(path, options, data)
    grid = read_grid(path, text.text, table, records)
    # The cells are in `grid` now: keep how the text was read, not the text (a second copy of
    # the file, 200 MB or more for a million rows).
    text = dataclasses.replace(text, text="")
    evidence = _file_evidence(text, table, profile if named else None)
    guessed: frozenset[str] = frozenset()
    if profile is None or not named:
        profile, guessed = infer_profile(path, table, grid, evidence)
    account = _preamble_account(records, table, profile, evidence)
    return Layout(profile, named, text, table, records, grid, evidence, guessed, preamble_account=account)


def locate_table(
    path: Path, options: ParseOptions, data: bytes | None = None
) -> tuple[Profile | None, bool, DecodedText, Records, Table]:
    """The profile (None to infer one) and whether it is named, the text, its records and the table."""
    profile, named = _chosen_profile(path, options)
    text = read_text(path, options, profile.encoding if profile else "auto", data)
    if profile is None:
        profile = match_profile(text.text, options.profile_dirs)
        named = profile is not None
        if profile is None:  # a bank's header with a damaged name must not read as another layout
            refuse_near_header(path, text.text, options.profile_dirs)
        if profile is not None and profile.encoding != "auto":
            text = read_again(path, options, text, profile.encoding, data)
    delimiter = profile.delimiter if profile and profile.delimiter else sniff_delimiter(text.text)[0]
    records = scan(path, text.text, delimiter)
    hint = profile.header if profile and profile.has_header else ()
    table = locate(path, records, delimiter, hint)
    if table.width < 2 or table.first >= table.end:
        raise InputError(path, "holds no table: no rows of delimited fields were found.")
    return profile, named, text, records, table


def _preamble_account(records: Records, table: Table, profile: Profile, evidence: list[str]) -> Found | None:
    """The account identifier the lines above the table give (csv_account), noted in `evidence`."""
    if profile.columns.account is not None:
        return None  # the account column wins (read in csv.py)
    top = table.first - 1 if table.header is not None else table.first
    rows = [(records.lines[i], records.header_cells[i]) for i in range(top) if i in records.header_cells]
    candidates = preamble_candidates(rows, table.delimiter, profile.account_line)
    found = sole(candidates)
    if candidates:
        evidence.append(_account_note(found, candidates))
    return found


def _account_note(found: Found | None, candidates: list[Found]) -> str:
    if found is not None:
        return f"account: {found.written} (above the table: {found.where})"
    first: dict[str, Found] = {}
    for candidate in candidates:
        first.setdefault(candidate.identifier, candidate)  # each account where it first appears
    named = ", ".join(f"{f.written} ({f.where})" for f in first.values())
    return f"account: none taken, the lines above the table name several: {named}"


def _chosen_profile(path: Path, options: ParseOptions) -> tuple[Profile | None, bool]:
    if options.profile is None:
        return None, False
    return get_profile(options.profile, options.profile_dirs), True


def match_profile(text: str, profile_dirs: tuple[Path, ...] = ()) -> Profile | None:
    """The profile whose header signature one of the first lines contains, if any.

    The most specific signature wins, so a bank's variant with extra columns beats its base.
    """
    head = list(islice(text_lines(text), HEADER_SEARCH_LINES))
    head = [line[:-1] if line.endswith("\n") else line for line in head]
    found: list[Profile] = []
    for profile in all_profiles(profile_dirs).values():
        if profile.header and any(_line_has(line, profile) for line in head):
            found.append(profile)
        elif profile.row_pattern and _rows_match(head, profile.row_pattern):
            found.append(profile)
    return max(found, key=lambda p: (len(p.header), p.name), default=None)


def _rows_match(head: list[str], pattern: str) -> bool:
    lines = [line for line in head if line.strip()][:20]
    return bool(lines) and all(re.fullmatch(pattern, line.strip()) for line in lines)


def _line_has(line: str, profile: Profile) -> bool:
    if not all(name in line for name in profile.header):
        return False  # cheap test before splitting the line
    cells = line.split(profile.delimiter or _guess(line))  # plain str.split: no pandas to identify a file
    return set(profile.header) <= {cell.strip().strip('"').strip() for cell in cells}


def _guess(line: str) -> str:
    return max((",", ";", "\t", "|"), key=line.count)


def read_grid(path: Path, text: str, table: Table, records: Records) -> Grid:
    """The data rows as strings: by the csv module when the table is small and it reads it as
    pandas would, else by pandas (see the module docstring)."""
    start, stop = _table_span(text, table, records)
    if stop - start <= PLAIN_CHARS:
        grid = read_grid_plain(text[start:stop], table)
        if grid is not None:
            return grid
    return read_grid_pandas(path, text, table, records)


def read_grid_plain(text: str, table: Table) -> Grid | None:
    """`read_grid_pandas` of the table's `text` by the csv module; None where pandas might read it
    otherwise: a record wider than the table (pandas cuts or refuses it), a quote left open or text after a
    closing quote (refused in strict mode), a NUL or a byte order mark (pandas drops them)."""
    if "\x00" in text or text.startswith("\ufeff"):
        return None
    width = table.width
    try:
        rows = list(csv.reader(text_lines(text), delimiter=table.delimiter, strict=True))
    except csv.Error:
        return None
    if any(len(row) > width for row in rows):
        return None
    padded = [row if len(row) == width else row + [""] * (width - len(row)) for row in rows]
    return _grid_of(padded, table)


def _grid_of(rows: list[list[str]], table: Table) -> Grid:
    """Rows of the table's full width as a `Grid`: a trailing empty field dropped, blank rows too."""
    columns = [list(column) for column in zip(*rows)] or [[] for _ in range(table.width)]
    if table.trailing_empty and not any(columns[-1]):
        columns.pop()
    kept = [i for i, row in enumerate(rows) if any(row[: len(columns)])]
    if len(kept) == len(rows):
        return Grid(columns, kept)
    return Grid([[column[i] for i in kept] for column in columns], kept)


def _table_span(text: str, table: Table, records: Records) -> tuple[int, int]:
    """The character offsets where the table's data records begin and end in `text`."""
    start = _offset(text, records.lines[table.first] - 1)
    stop = _offset(text, records.lines[table.end] - 1) if table.end < len(records.lines) else len(text)
    return start, stop


def read_grid_pandas(path: Path, text: str, table: Table, records: Records) -> Grid:
    """The data rows as strings, read by pandas' C parser, blank rows dropped: the reference."""
    start, stop = _table_span(text, table, records)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(text[start:stop].encode("utf-8")),
                sep=table.delimiter,
                header=None,
                names=range(table.width),
                dtype=object,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                engine="c",
                index_col=False,
            )
    except pd.errors.ParserError as exc:
        raise ParseError(path, f"the table is malformed ({str(exc).strip()}).") from None
    if table.trailing_empty and (frame.iloc[:, -1] == "").all():
        frame = frame.iloc[:, :-1]
    frame = _without_blank_rows(frame)
    return Grid([frame.iloc[:, i].tolist() for i in range(frame.shape[1])], frame.index.tolist())


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame[(frame != "").any(axis=1)]`, comparing whole rows only where the first cell is empty."""
    maybe = np.flatnonzero(frame.iloc[:, 0].to_numpy() == "")
    if not len(maybe):
        return frame
    blank = maybe[(frame.iloc[maybe].to_numpy() == "").all(axis=1)]
    return frame.drop(index=frame.index[blank]) if len(blank) else frame


def _offset(text: str, line_index: int) -> int:
    """Character offset of the start of 0-based line `line_index`."""
    position = 0
    for _ in range(line_index):
        position = text.index("\n", position) + 1
    return position


def _file_evidence(text: DecodedText, table: Table, profile: Profile | None) -> list[str]:
    notes = [
        f"encoding: {text.encoding}",
        f"line endings: {text.line_endings}",
        f"delimiter: {delimiter_name(table.delimiter)} ({table.width} fields per row)",
        f"preamble: {table.preamble_lines} line(s) before the table",
        f"header: line {table.header_line}"
        if table.header is not None
        else "header: none (columns found from content)",
        f"footer: {table.footer_lines} line(s) after the table",
    ]
    if profile is not None:
        notes.insert(0, f"profile: {profile.name} ({profile.bank}), header signature {list(profile.header)}")
    return notes


def infer_profile(path: Path, table: Table, grid: Grid, evidence: list[str]) -> tuple[Profile, frozenset[str]]:
    """A profile built from the header names and the cells, and the roles found from cells only."""
    header = [c.strip() for c in (table.header or [])][: grid.width]
    roles = _roles_from_header(header)
    _drop_false_indicator(grid, roles)
    _named_account(grid, header, roles)
    named = dict(roles)
    if "account" not in roles.values() and grid.rows:
        # Before the text roles, which would take a long IBAN for a description.  Only a column
        # whose first cell is an IBAN can be one IBAN throughout: the others are not read.
        first = [column[0] for column in grid.columns]
        ibans = [i for i in range(grid.width) if i not in roles and is_iban(normalise_identifier(first[i]))]
        _take_account(grid, roles, ibans, named=False)
    _roles_from_content(grid, roles)
    columns = _columns(path, roles, grid, header)
    for index, role in sorted(roles.items()):
        name = header[index] if index < len(header) else f"column {index + 1}"
        how = "header" if index in named else "content"
        evidence.append(f"column {index + 1} {name!r}: {role} (from {how})")
    profile = Profile(
        name="detected",
        bank="unknown",
        header=tuple(h for h in header if h),
        has_header=table.header is not None,
        delimiter=table.delimiter,
        columns=columns,
    )
    return profile, frozenset(role for index, role in roles.items() if index not in named)


def _named_account(grid: Grid, header: list[str], roles: dict[int, str]) -> None:
    """The column its header calls an account is this account's only when every row holds the
    same number there (an "Auftragskonto"); one whose numbers vary is the counterparty's (an
    "IBAN" beside the payee), and must feed no role."""
    columns = [i for i, name in enumerate(header) if name and role_of(name) == "account"]
    for index in columns:
        if roles.get(index) == "account":
            del roles[index]
    _take_account(grid, roles, columns, named=True)
    roles.update({i: "ignore" for i in columns if i not in roles})


def _take_account(grid: Grid, roles: dict[int, str], columns: list[int], *, named: bool) -> bool:
    """Give the account role to the one identifier `columns` hold (csv_account.column_account);
    none when two columns hold different ones.  Whether one was given."""
    found = {i: column_account(dict.fromkeys(grid.columns[i]), named=named) for i in columns}
    held = {i: normalise_identifier(v) for i, v in found.items() if v is not None}
    if not held or len(set(held.values())) > 1:
        return False
    roles[min(held)] = "account"
    return True


def _drop_false_indicator(grid: Grid, roles: dict[int, str]) -> None:
    # "Transaction Type" holds debit/credit in some exports and "CARD_PAYMENT" in others.
    for index, role in list(roles.items()):
        if role == "indicator" and _kind(grid.columns[index]) != "indicator":
            del roles[index]
            if "memo" not in roles.values():
                roles[index] = "memo"  # the kind of booking: CARD_PAYMENT, DEBIT


def _roles_from_header(header: list[str]) -> dict[int, str]:
    roles: dict[int, str] = {}
    for index, name in enumerate(header):
        role = role_of(name) if name else None
        if role is not None and role != "ignore" and (role in ("description", "memo") or role not in roles.values()):
            roles[index] = role
    return roles


def _roles_from_content(grid: Grid, roles: dict[int, str]) -> None:
    free = [i for i in range(grid.width) if i not in roles]
    kinds = {i: _kind(grid.columns[i]) for i in free}
    for role, kind in (("date", "date"), ("value_date", "date")):
        if role not in roles.values():
            _take(roles, kinds, kind, role)
    if not {"amount", "debit", "credit"} & set(roles.values()):
        _money_roles(grid, roles, [i for i, k in kinds.items() if k == "number" and i not in roles])
    if "currency" not in roles.values():
        _take(roles, kinds, "currency", "currency")
    if "indicator" not in roles.values():
        _take(roles, kinds, "indicator", "indicator")
    if not {"description", "payee", "memo"} & set(roles.values()):  # a memo column may be the text (_texts)
        unclaimed = {i: k for i, k in kinds.items() if i not in roles}
        _take(roles, unclaimed, _longest_text(grid, unclaimed), "description")  # marks the longest in `unclaimed`


def _take(roles: dict[int, str], kinds: dict[int, str], kind: str, role: str) -> None:
    for index, found in kinds.items():
        if found == kind and index not in roles:
            roles[index] = role
            return


def _kind(column: list[str]) -> str:
    values = [v.strip() for v in dict.fromkeys(column) if v.strip()]
    if not values:
        return "empty"
    dates = [v for v in values[:200] if DATE_LIKE.match(v)]
    if _most(dates, values[:200]) and _reads_as_dates(dates):
        return "date"
    if all(len(v) == 3 and v.isalpha() and is_currency(v.upper()) for v in values):
        return "currency"
    if len(values) <= 4 and all(indicator_sign(v) is not None for v in values) and all(v.strip() for v in column):
        return "indicator"  # a mark on every row, or it is not a debit/credit column
    numbers = [v for v in values if is_number_shaped(v)]
    if _most(numbers, values) and any(_money_shaped(v) for v in numbers):
        return "number"
    return "text"


def _most(kind: list[str], values: list[str]) -> bool:
    # By majority, not unanimity: one bad cell ("twelve") must not hide the amount column; it is
    # then reported at its line when the column is read.
    return len(kind) * 2 > len(values)


def _reads_as_dates(values: list[str]) -> bool:
    try:
        infer_date_format(values)
        return True
    except NoDateFormat:
        return mostly_dates(values)  # by majority, as `_most`: one damaged date keeps its column


def _money_shaped(value: str) -> bool:
    # Account numbers and ids are long digit strings; amounts have cents, a sign or a symbol.
    digits = sum(ch.isdigit() for ch in value)
    return digits < 13 and any(ch in value for ch in ".,-+()$€£")


def _longest_text(grid: Grid, kinds: dict[int, str]) -> str:
    texts = [i for i, k in kinds.items() if k == "text"]
    if texts:
        best = max(texts, key=lambda i: _mean_length(grid.columns[i]))
        kinds[best] = "longest-text"
    return "longest-text"


def _money_roles(grid: Grid, roles: dict[int, str], numbers: list[int]) -> None:
    """Headerless money columns: one is the amount; a second that chains is the balance."""
    if not numbers:
        return
    if len(numbers) >= 2 and _complementary(grid, numbers[0], numbers[1]):
        roles[numbers[0]], roles[numbers[1]] = "debit", "credit"  # confirmed or refused by the balance
    else:
        roles[numbers[0]] = "amount"
    if len(numbers) > 1 and numbers[-1] not in roles:
        roles[numbers[-1]] = "balance"


_NOTHING = frozenset({"", "0", "0.00", "0,00"})  # an empty cell of a debit or a credit column


def _complementary(grid: Grid, first: int, second: int) -> bool:
    """Every row fills exactly one of the two columns (a debit and a credit column)."""
    pairs = zip(grid.columns[first], grid.columns[second])
    return all((a.strip() in _NOTHING) != (b.strip() in _NOTHING) for a, b in pairs)


def _columns(path: Path, roles: dict[int, str], grid: Grid, header: list[str]) -> Columns:
    by_role: dict[str, list[int]] = {}
    for index, role in sorted(roles.items()):
        by_role.setdefault(role, []).append(index)
    if "date" not in by_role and "value_date" in by_role:
        by_role["date"] = by_role.pop("value_date")  # UBS gives only a value date
    if "date" not in by_role:
        raise ParseError(
            path,
            "no column holds dates: the layout is not one we can read. Write a profile for it (see `importer detect`).",
        )
    if "amount" not in by_role and not {"debit", "credit"} <= set(by_role):
        raise ParseError(
            path,
            "no column holds the amount (nor a debit and a credit column). "
            "Write a profile for it (see `importer detect`).",
        )
    one = {role: indexes[0] for role, indexes in by_role.items() if role != "description"}
    texts, memo = _texts(by_role, grid)
    return Columns(
        date=one["date"],
        description=texts,
        amount=one.get("amount"),
        debit=one.get("debit"),
        credit=one.get("credit"),
        balance=one.get("balance"),
        payee=one.get("payee"),
        memo=memo,
        currency=one.get("currency"),
        bank_id=one.get("bank_id"),
        value_date=one.get("value_date"),
        indicator=one.get("indicator"),
        account=one.get("account"),
    )


def _texts(by_role: dict[str, list[int]], grid: Grid) -> tuple[tuple[int, ...], int | None]:
    """The description columns and the memo column, as the bank profiles map them: the
    counterparty, then the purpose ("REWE Markt GmbH" "REWE SAGT DANKE 4417"), so rules that
    name merchants match; the kind of booking ("Lastschrift") goes to the memo."""
    payee, purposes, kinds = by_role.get("payee", [])[:1], by_role.get("description", []), by_role.get("memo", [])
    purpose = purposes[:1] or _text_among_kinds(kinds, payee, grid)
    memo = next((i for i in [*kinds, *purposes[1:]] if i not in purpose), None)
    return (*payee, *purpose), memo


def _text_among_kinds(kinds: list[int], payee: list[int], grid: Grid) -> list[int]:
    """With no purpose column, the "kind" column that is really the text: the most varied one (the
    longer on a tie), when it varies at least as much as the payee.  "Buchungstext" holds the whole
    text in Commerzbank's export and the kind of booking in Sparkasse's; "Type" is all some have."""
    if not kinds:
        return []
    columns = grid.columns
    varied = max(kinds, key=lambda i: (len(set(columns[i])), _mean_length(columns[i])))
    if payee and len(set(columns[varied])) < len(set(columns[payee[0]])):
        return []
    return [varied]


def _mean_length(column: list[str]) -> float:
    """The mean length of the cells, as pandas' `str.len().mean()` (NaN for no cells)."""
    return sum(map(len, column)) / len(column) if column else float("nan")
