"""A header one or two names off a bank profile's is that bank's header damaged: refuse the file.

`match_profile` wants every name of a profile's header signature on one line.  One flipped byte
in a header ("DAte" for "Date") used to drop the file to generic detection, which then reads
other columns, or (a file that names no currency) takes the configured default currency: numbers
wrong without a word.  So, when no profile matched, a line that holds all but one or two of a
signature's names, each missing name within an edit or two of a cell of that line, is refused
as damaged, naming the line, the profile and the cell.  A header that merely shares common
names with a profile ("Date", "Amount") is not refused: the missing names must be misspelled
there, not absent; nor is a name spelled another way only in case or spacing ("TimeZone").
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from itertools import islice, pairwise
from pathlib import Path

from importer.core.errors import ParseError
from importer.parsers.csv.profiles import Profile, all_profiles
from importer.parsers.csv.table import DELIMITERS, text_lines
from importer.parsers.spelling import edit_distance

HEAD_LINES = 60  # as many as `match_profile` searches for a header
HEADER_MOST = 4096  # characters: the longest profile header is under 200
MOST_MISSING = 2  # names of a signature a damaged header may lack; more is another layout


@dataclass(frozen=True)
class Resemblance:
    """A line that is `profile`'s header but for `found` in column `column` (1-based)."""

    line: int
    profile: Profile
    column: int
    found: str
    expected: str


def refuse_near_header(path: Path, text: str, profile_dirs: tuple[Path, ...] = ()) -> None:
    """A ParseError when a line of the head of `text` nearly is a profile's header (see above)."""
    found = resemblance(text, profile_dirs)
    if found is not None:
        raise ParseError(
            path,
            f"the header looks like the {found.profile.name} export's ({found.profile.bank}), but column "
            f"{found.column} reads {found.found!r} instead of {found.expected!r}: the file may be damaged. "
            f"Download it again; if the bank has renamed the column, copy the {found.profile.name} profile "
            "into your profile folder with the new name.",
            line=found.line,
            expected=repr(found.expected),
            found=found.found,
        )


def resemblance(text: str, profile_dirs: tuple[Path, ...] = ()) -> Resemblance | None:
    """The first head line that nearly is some profile's header, with the cell that differs."""
    profiles = [p for p in all_profiles(profile_dirs).values() if p.header and p.has_header]
    for number, line in enumerate(islice(text_lines(text), HEAD_LINES), 1):
        if len(line) > HEADER_MOST:
            continue  # not a header, and searching a damaged 50 MB line for forty headers takes seconds
        for profile in profiles:
            miss = _near_miss(line.rstrip("\r\n"), profile)
            if miss is not None:
                return Resemblance(number, profile, *miss)
    return None


def _near_miss(line: str, profile: Profile) -> tuple[int, str, str] | None:
    """(column, cell, name) of the first signature name that `line` misspells, when `line` holds
    every other name of the signature and misspells at most `MOST_MISSING` of them."""
    names = profile.header
    if sum(name in line for name in names) < len(names) - MOST_MISSING:
        return None  # the cheap test first: most lines are data and share no name
    delimiter = profile.delimiter or max(DELIMITERS, key=line.count)
    cells = _cells(line, delimiter)
    missing = [name for name in names if name not in cells]
    if not 0 < len(missing) <= MOST_MISSING:
        return None
    candidates = _candidates(cells, delimiter)
    hits = [hit for target in _targets(missing, delimiter) if (hit := _misspelled(candidates, target, names))]
    covered = {part for _, _, text in hits for part in text.split(delimiter)}
    return hits[0] if covered >= set(missing) else None


def _cells(line: str, delimiter: str) -> list[str]:
    try:
        return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


def _candidates(cells: list[str], delimiter: str) -> list[tuple[int, str]]:
    """Each cell, and each two neighbours joined again: a damaged byte can add a delimiter."""
    joined = [(i + 1, delimiter.join(pair)) for i, pair in enumerate(pairwise(cells))]
    return [(i + 1, cell) for i, cell in enumerate(cells)] + joined


def _targets(missing: list[str], delimiter: str) -> list[str]:
    """Each missing name, and two missing neighbours joined: a damaged byte can take a delimiter."""
    return missing + [delimiter.join(pair) for pair in pairwise(missing)]


def _misspelled(candidates: list[tuple[int, str]], target: str, names: tuple[str, ...]) -> tuple[int, str, str] | None:
    """The first candidate, not itself a signature name, that is `target` with a character or two
    changed (quotes aside: a damaged delimiter leaves them inside a cell)."""
    most = 2 if len(target) >= 5 else 1  # "In" and "Out" are two edits apart, and not one name
    for column, text in candidates:
        if text in names or _variant(text, target):
            continue
        if 0 < edit_distance(text.replace('"', ""), target, most) <= most:
            return column, text, target
    return None


_SPACING = re.compile(r"[ _\-]")


def _variant(text: str, name: str) -> bool:
    """Whether `text` is `name` spelled another way ("TimeZone" for "Time Zone", PayPal's own
    custom export): a damaged byte changes a letter, it does not only join words or change case."""
    return _SPACING.sub("", text).casefold() == _SPACING.sub("", name).casefold()
