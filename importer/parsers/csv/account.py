"""Which account a CSV export is of, as the file writes it: a line above the table, or a column.

A statement's identity (importer/core/accounts.py) is the identifier its bank writes into the file.
CSV exports write it in one of three places, read in this order:

1. a column a profile names (`columns.account`, read in csv.py);
2. a line above the table (`IBAN;DE89 3704 0044 ...`, `Kontonummer: 1234567`): the line a
   profile's `account_line` pattern finds, else an IBAN that passes the mod-97 check anywhere
   there, or the value after a label the column vocabulary calls an account ("Konto", "Account
   number", "Rekeningnummer", ...);
3. in a detected layout, a column whose every filled cell is one account number (an
   "Auftragskonto" column), never a column of counterparty IBANs, whose values vary.

Where several different identifiers are candidates, none is taken: a statement filed under the
wrong account is worse than one that asks the user which account it is.  An account number the
IBAN contains (`Kontonummer: 5418276390` beside the IBAN) is the same account, not a second one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from importer.core.accounts import is_iban, normalise_identifier
from importer.parsers.csv.roles import role_of

# IBANs as people write them: in groups of four, spaced or not, the last group shorter.
_IBAN_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
# An account number: digits, capital letters and the separators banks print ("12-34-56 12345678",
# "0123 45678901.23A", "123456789/1234"); lower-case letters mean words ("Girokonto").
_NUMBER = re.compile(r"[0-9A-Z][0-9A-Z \-./]*")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_MIN_DIGITS = 5


@dataclass(frozen=True)
class Found:
    """An identifier as the file writes it, and where it was found (for `importer detect`)."""

    written: str
    where: str

    @property
    def identifier(self) -> str:
        return normalise_identifier(self.written)


def account_shaped(value: str) -> bool:
    """Whether `value` reads as an account number: enough digits, no words, and a valid IBAN if
    it has an IBAN's shape (a failed check digit is a typo or a placeholder, not an account)."""
    text = value.strip()
    if not _NUMBER.fullmatch(text) or sum(ch.isdigit() for ch in text) < _MIN_DIGITS:
        return False
    identifier = normalise_identifier(text)
    return is_iban(identifier) if _IBAN_SHAPE.fullmatch(identifier) else True


def preamble_candidates(rows: Sequence[tuple[int, list[str]]], delimiter: str, pattern: str | None) -> list[Found]:
    """The identifiers the lines above the table give; the account when they all name one
    (`sole`).  `rows` are (line, cells) of those lines; `pattern` is a profile's `account_line`,
    which, when it finds any, is the only place looked at."""
    if pattern is not None:
        found = _by_pattern(rows, delimiter, re.compile(pattern))
        if found:
            return found
    return _merged([*_labelled(rows), *_ibans(rows)])


def _by_pattern(rows: Iterable[tuple[int, list[str]]], delimiter: str, pattern: re.Pattern[str]) -> list[Found]:
    found = []
    for line, cells in rows:
        match = pattern.search(delimiter.join(cells))
        if match is not None and match.group(1) and match.group(1).strip():
            found.append(Found(match.group(1).strip(), f"line {line}, found by account_line"))
    return found


def _labelled(rows: Iterable[tuple[int, list[str]]]) -> list[Found]:
    """Values after an account label: `Kontonummer: 1234567`, `Account;12-34-56;12345678`."""
    found = []
    for line, cells in rows:
        label, values = _label_and_values(cells)
        if label and role_of(label) == "account":
            value = _number_cells(values)
            if value is not None:
                found.append(Found(value, f"line {line}, after {label.strip()!r}"))
    return found


def _label_and_values(cells: list[str]) -> tuple[str, list[str]]:
    filled = [c.strip() for c in cells if c.strip()]
    if not filled:
        return "", []
    label, colon, rest = filled[0].partition(":")
    return (label, [rest.strip(), *filled[1:]]) if colon else (label, filled[1:])


def _number_cells(values: list[str]) -> str | None:
    """The account number the cells after a label spell: the leading cells with digits in them
    (a sort code and an account number may sit in two cells; a currency after them is not part)."""
    taken: list[str] = []
    for value in filter(None, values):
        if not any(ch.isdigit() for ch in value):
            break
        taken.append(value)
    text = " ".join(taken)
    return text if taken and account_shaped(text) else None


def _ibans(rows: Iterable[tuple[int, list[str]]]) -> list[Found]:
    return [
        Found(match.group(0), f"line {line}, an IBAN")
        for line, cells in rows
        for cell in cells
        for match in _IBAN_TEXT.finditer(cell)
        if is_iban(normalise_identifier(match.group(0)))
    ]


def _merged(found: list[Found]) -> list[Found]:
    """`found` without the account numbers an IBAN among them contains (one account, twice)."""
    ibans = [f.identifier for f in found if is_iban(f.identifier)]
    return [f for f in found if is_iban(f.identifier) or not any(_within(f.identifier, i) for i in ibans)]


def _within(number: str, iban: str) -> bool:
    digits = "".join(ch for ch in number if ch.isdigit())
    return bool(digits) and digits.lstrip("0") in iban[4:]


def sole(found: list[Found]) -> Found | None:
    """The first of `found` when they all name one identifier; None when they name several."""
    return found[0] if found and len({f.identifier for f in found}) == 1 else None


def column_account(values: Iterable[str], *, named: bool) -> str | None:
    """The identifier a column gives when every filled cell holds the same one, as first written.

    `named`: the header calls the column an account, and one value on every row confirms it, so
    any account number will do (anonymised exports write IBANs whose check digits fail); a column
    found from its cells alone must hold a valid IBAN.
    """
    filled = [v.strip() for v in values if v.strip()]
    identifiers = {normalise_identifier(v) for v in filled}
    if len(identifiers) != 1:
        return None  # a counterparty's account varies from row to row
    written = filled[0]
    if named:
        return written if account_shaped(written) or _IBAN_SHAPE.fullmatch(identifiers.pop()) else None
    return written if is_iban(identifiers.pop()) else None
