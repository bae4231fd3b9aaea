"""Text to `Decimal`, with the decimal mark decided for a whole column, never guessed per cell.

A cell such as "1,234" is 1234 in an English export and 1.234 in a German one.  Read alone it
cannot be settled, so `infer_decimal_mark` looks at every value of the column (and the caller
falls back to the other columns of the file); `parse_amount` then reads each cell with that mark.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

_WRAPPED = re.compile(r"^\((?P<inner>.*)\)$")
_DEBIT_CREDIT = re.compile(r"^(?P<body>.*?)\s*\b(?P<mark>DR|CR|Dr|Cr|dr|cr)\.?$")
# Anything that is neither a digit, a separator nor a sign: currency symbols and codes.
_NOISE = re.compile(r"[^\d.,'\u2019\s\u00a0\u202f+-]")
_SPACES = re.compile(r"[\s\u00a0\u202f'\u2019]")
_GROUPED = {".": re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$"), ",": re.compile(r"^\d{1,3}(\.\d{3})+(,\d*)?$")}


class NotANumber(ValueError):
    """The cell does not hold an amount; the caller adds file and line."""


def parse_amount(text: str, decimal_mark: str = ".", thousands: str | None = None) -> Decimal:
    """Parse one amount cell such as "-1.234,56 €" (decimal_mark=",") into a Decimal.

    Negative forms: "-x", "x-", "(x)", "x DR" ("x CR" is positive).  Currency symbols and codes
    in the cell are ignored; thousands separators may be "." "," "'" or (narrow) spaces.
    """
    body, negative = _sign(text.strip())
    if thousands:
        body = body.replace(thousands, "")
    body = _SPACES.sub("", body)
    if body.startswith("-"):
        body, negative = body[1:], not negative
    elif body.startswith("+"):
        body = body[1:]
    return _to_decimal(text, _plain(text, body, decimal_mark), negative)


def _sign(cell: str) -> tuple[str, bool]:
    negative = False
    wrapped = _WRAPPED.match(cell)
    if wrapped:
        cell, negative = wrapped.group("inner").strip(), True
    marked = _DEBIT_CREDIT.match(cell)
    if marked:
        cell, negative = marked.group("body"), marked.group("mark").upper() == "DR"
    cell = _NOISE.sub("", cell).strip()
    if cell.endswith("-"):
        cell, negative = cell[:-1].strip(), not negative
    return cell, negative


def _plain(original: str, body: str, decimal_mark: str) -> str:
    """`body` with thousands separators removed and the decimal mark as "."."""
    other = "," if decimal_mark == "." else "."
    if other in body:
        if not _GROUPED[decimal_mark].match(body):
            raise NotANumber(original)  # "12.5" in a decimal-comma column is not 125
        body = body.replace(other, "")
    return body.replace(decimal_mark, ".") if decimal_mark != "." else body


def _to_decimal(original: str, cell: str, negative: bool) -> Decimal:
    if not cell or cell in {"+", "-", "."}:
        raise NotANumber(original)
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise NotANumber(original) from None
    if not value.is_finite():
        raise NotANumber(original)
    return -value if negative else value


def decimal_votes(values: Iterable[str]) -> Counter[str]:
    """How many distinct values show "." and how many show "," as their decimal mark."""
    votes: Counter[str] = Counter()
    for value in set(values):
        mark = _decimal_evidence(_SPACES.sub("", _NOISE.sub("", value)))
        if mark:
            votes[mark] += 1
    return votes


def _decimal_evidence(body: str) -> str | None:
    points, commas = body.count("."), body.count(",")
    if points and commas:
        return "." if body.rfind(".") > body.rfind(",") else ","
    for mark, count, other in ((".", points, ","), (",", commas, ".")):
        if count > 1:
            return other  # repeated: it groups thousands
        if count == 1:
            decimals = len(body) - body.rfind(mark) - 1
            return None if decimals == 3 else mark  # "1,234" could be either
    return None


def infer_decimal_mark(values: Sequence[str], default: str | None = None) -> str | None:
    """The decimal mark of a column: the only one its values show, else the majority, else `default`."""
    votes = decimal_votes(values)
    if not votes:
        return default
    return "," if votes[","] > votes["."] else "."


def looks_like_amount(value: str) -> bool:
    """A cell that reads as a number under some decimal mark (used to detect columns)."""
    for mark in (".", ","):
        try:
            parse_amount(value, mark)
            return True
        except NotANumber:
            continue
    return False


_PLAIN = re.compile(r"^-?\d+(?:[.,]\d+)?$")
# Many plain cells joined by newlines, for one regular-expression pass over a whole column.
_ALL_PLAIN = {mark: re.compile(rf"(?:-?\d+(?:\{mark}\d+)?\n)*-?\d+(?:\{mark}\d+)?") for mark in ".,"}


def parse_amount_column(
    values: Sequence[str], decimal_mark: str, thousands: str | None = None, blank: Decimal | None = None
) -> tuple[list[Decimal | None], int | None]:
    """Every cell of a column (`blank` for a blank one) and the index of the first that is no number.

    Each distinct cell is parsed once, in the order of first appearance, so the first bad distinct
    cell is also the first bad row; the rows then only look their value up.
    """
    distinct = list(dict.fromkeys(values))
    cache = _plain_column(distinct, decimal_mark, blank)
    if cache is None:
        cache = {}
        for value in distinct:
            try:
                parsed = _parse_cell(value, decimal_mark, thousands)
            except NotANumber:
                index = values.index(value)
                return [blank if p is None else p for p in map(cache.__getitem__, values[:index])], index
            cache[value] = blank if parsed is None else parsed
    return list(map(cache.__getitem__, values)), None


def _plain_column(distinct: list[str], decimal_mark: str, blank: Decimal | None) -> dict[str, Decimal | None] | None:
    """The fast path of `_parse_cell` for a column of plain cells ("-12.50", "" or "3"): one regular
    expression checks them all and each is then `Decimal(cell)`, exactly what `_parse_cell` gives
    them; None when some cell needs the general path."""
    cells = [v for v in distinct if v]
    joined = "\n".join(cells)
    if joined.count("\n") != len(cells) - 1 or not _ALL_PLAIN[decimal_mark].fullmatch(joined):
        return None
    texts = cells if decimal_mark == "." else [v.replace(",", ".") for v in cells]
    cache: dict[str, Decimal | None] = dict(zip(cells, map(Decimal, texts)))
    if len(cells) < len(distinct):
        cache[""] = blank
    return cache


def _parse_cell(value: str, decimal_mark: str, thousands: str | None) -> Decimal | None:
    cell = value.strip()
    if not cell:
        return None
    if _PLAIN.match(cell) and (decimal_mark == "," or "," not in cell) and (decimal_mark == "." or "." not in cell):
        return Decimal(cell.replace(",", "."))
    return parse_amount(cell, decimal_mark, thousands)


# A cell that is shaped like an amount: sign, currency symbol or code, digits and separators.
NUMBER_SHAPE = re.compile(
    r"^[+\-(]?\s*(?:[A-Z]{3}\s|[^\w\s\d.,]{1,3}\s?)?[+\-]?\s?\d[\d.,'\u2019 \u00a0\u202f]*"
    r"(?:\s?(?:[A-Z]{3}|[^\w\s\d.,]{1,3}))?\s*(?:-|\)|DR|CR|Dr|Cr)?$"
)


def is_number_shaped(value: str) -> bool:
    """A cell that is an amount and nothing else ("-1.234,56 €", "(12.00)", "$5", "12.00 DR")."""
    cell = value.strip()
    return bool(NUMBER_SHAPE.match(cell)) and looks_like_amount(cell)
