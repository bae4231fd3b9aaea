"""Text to `Decimal`, with the decimal mark decided for a whole column, never guessed per cell.

A cell such as "1,234" is 1234 in an English export and 1.234 in a German one.  Read alone it
cannot be settled, so `infer_decimal_mark` looks at every value of the column (and the caller
falls back to the other columns of the file); `parse_amount` then reads each cell with that mark.

A cell is read strictly (`NUMBER_SHAPE`): one number, grouped only at thousands, at most one sign
form ("-x", "x-", "(x)", "x DR", "x CR", "+x") and at most one currency (a symbol or an ISO 4217
code) before or after it.  Anything else is `NotANumber`, never cleaned into a number: stripping
stray characters turned "-85O.00" (a letter O) into -85.00, a wrong amount stored silently.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from importer.core.currencies import is_currency

# Currency symbols (Unicode category Sc) and the written forms banks put beside amounts.
_SYMBOL = "[$\u00a2-\u00a5\u058f\u060b\u09f2\u09f3\u09fb\u0af1\u0bf9\u0e3f\u17db\u20a0-\u20c0\ufdfc\ufe69\uff04\uffe0\uffe1\uffe5\uffe6]"
_WORDS = (
    "US$",
    "CA$",
    "AU$",
    "NZ$",
    "HK$",
    "R$",
    "C$",
    "A$",
    "S$",
    "kr.",
    "kr",
    "Kr.",
    "Kr",
    "zł",
    "Kč",
    "Ft",
    "lei",
    "руб.",
    "руб",
    "р.",
    "Rs.",
    "Rs",
    "Fr.",
)
_CURRENCY = "(?:[A-Z]{3}|" + "|".join(map(re.escape, _WORDS)) + "|" + _SYMBOL + ")"
_MARKS = r"(?:DR|CR|Dr|Cr|dr|cr)\.?"
_BODY = r"(?:[0-9](?:[0-9.,'\u2019\u00a0\u202f ]*[0-9.,])?|[.,][0-9]+)"
# A cell that is shaped like an amount: sign forms and currency around one number.
NUMBER_SHAPE = re.compile(
    rf"(?P<prefix>(?:\s*(?:\(|[+\-]|{_CURRENCY}))*)\s*(?P<body>{_BODY})"
    rf"(?P<suffix>(?:\s*(?:\)|-|{_CURRENCY}|{_MARKS}))*)\s*"
)
_TOKEN = re.compile(rf"\(|\)|[+\-]|{_CURRENCY}|{_MARKS}")
_SPACES = re.compile(r"[\s\u00a0\u202f'\u2019]")
_NOT_NUMBER = re.compile(r"[^\d.,'\u2019\s\u00a0\u202f+-]")
_GROUPS = "[,.'\u2019 \u00a0\u202f]"


class NotANumber(ValueError):
    """The cell does not hold an amount; the caller adds file and line."""


def parse_amount(text: str, decimal_mark: str = ".", thousands: str | None = None) -> Decimal:
    """Parse one amount cell such as "-1.234,56 €" (decimal_mark=",") into a Decimal.

    Negative forms: "-x", "x-", "(x)", "x DR" ("x CR" and "+x" are positive), one per cell.  A
    currency symbol or code may stand before or after the number.  Thousands are grouped by
    `thousands` when given, else by the other mark, an apostrophe or a (narrow) space.
    """
    body, negative = _sign(text)
    return _to_decimal(text, _plain(text, body, decimal_mark, thousands), negative)


def _sign(text: str) -> tuple[str, bool]:
    """The number of the cell and whether it is negative; `NotANumber` unless the cell is shaped."""
    shape = NUMBER_SHAPE.fullmatch(text)
    if shape is None:
        raise NotANumber(text)
    before, after = _TOKEN.findall(shape["prefix"]), _TOKEN.findall(shape["suffix"])
    tokens = before + after
    currencies = [t for t in tokens if t not in "()+-" and not re.fullmatch(_MARKS, t)]
    signs = [t for t in tokens if t in "+-" or re.fullmatch(_MARKS, t)] + (["()"] if "(" in before else [])
    wrapped = before.count("(") == after.count(")") == (1 if "(" in before else 0)
    codes_ok = all(is_currency(c) for c in currencies if re.fullmatch("[A-Z]{3}", c))
    if len(currencies) > 1 or len(signs) > 1 or not wrapped or ")" in before or "(" in after or not codes_ok:
        raise NotANumber(text)
    sign = signs[0] if signs else "+"
    return shape["body"], sign in ("-", "()") or sign.upper().startswith("DR")


def _plain(original: str, body: str, decimal_mark: str, thousands: str | None) -> str:
    """`body` without its thousands separators and with "." as decimal mark; `NotANumber` unless
    each separator is the decimal mark (once) or groups thousands: "12.5" in a decimal-comma
    column is not 125, and "1 2 3" is not 123."""
    mark = re.escape(decimal_mark)
    groups = re.escape(thousands) if thousands else _GROUPS.replace(decimal_mark, "")
    if re.fullmatch(rf"[0-9]+(?:{mark}[0-9]*)?|{mark}[0-9]+", body):
        digits = body
    elif grouped := re.fullmatch(rf"[0-9]{{1,3}}({groups})[0-9]{{3}}(?:\1[0-9]{{3}})*(?:{mark}[0-9]*)?", body):
        digits = body.replace(grouped[1], "")
    else:
        raise NotANumber(original)
    return digits.replace(decimal_mark, ".") if decimal_mark != "." else digits


def _to_decimal(original: str, cell: str, negative: bool) -> Decimal:
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise NotANumber(original) from None
    return value.copy_negate() if negative else value  # exact: unary minus would round to 28 digits


def decimal_votes(values: Iterable[str]) -> Counter[str]:
    """How many distinct values show "." and how many show "," as their decimal mark."""
    votes: Counter[str] = Counter()
    for value in set(values):
        mark = _decimal_evidence(_SPACES.sub("", _NOT_NUMBER.sub("", value)))
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


_PLAIN = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")
# Many plain cells joined by newlines, for one regular-expression pass over a whole column.
_ALL_PLAIN = {mark: re.compile(rf"(?:-?[0-9]+(?:\{mark}[0-9]+)?\n)*-?[0-9]+(?:\{mark}[0-9]+)?") for mark in ".,"}
_PLAIN_BYTES = {mark: b"0123456789-\n" + mark.encode() for mark in ".,"}  # what a joined column may hold
_TWO_MARKS = {mark: re.compile(rf"\{mark}[0-9]*\{mark}") for mark in ".,"}  # two marks in one cell


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
    """The fast path of `_parse_cell` for a column of plain cells ("-12.50", "" or "3"): each is
    `Decimal(cell)`, exactly what `_parse_cell` gives it; None when some cell needs the general path."""
    cells = [v for v in distinct if v]
    amounts = plain_amounts(cells, decimal_mark)
    if amounts is None:
        return None
    cache: dict[str, Decimal | None] = dict(zip(cells, amounts))
    if len(cells) < len(distinct):
        cache[""] = blank
    return cache


def plain_amounts(cells: Sequence[str], decimal_mark: str) -> list[Decimal] | None:
    """Each of `cells` as `Decimal(cell)` when every one is plain ("-12.50", "3": none blank), else None.

    The whole column is checked at once (`all_plain`), so the rows cost one `Decimal` each and
    no Python call: for a column of mostly distinct amounts (a running balance) this is twice as
    fast as reading each distinct value once and looking the rows up."""
    joined = "\n".join(cells)
    if joined.count("\n") != len(cells) - 1 or not all_plain(joined, decimal_mark):
        return None
    texts = cells if decimal_mark == "." else [v.replace(",", ".") for v in cells]
    return list(map(Decimal, texts))


def all_plain(joined: str, mark: str) -> bool:
    """`_ALL_PLAIN[mark].fullmatch(joined)`: every line of `joined` is `-?[0-9]+(mark[0-9]+)?`.

    Decided by scans in C, five times faster than the backtracking regex (a third of the parse
    of an amount column).  Each rule shuts out one way a line can differ from the shape, given
    the lines hold only ASCII digits, "-" and the mark: no empty line; "-" only first and never
    alone or before the mark; the mark never first, last or twice (tests/test_numbers_plain.py
    holds it to the regex under hypothesis)."""
    if not joined.isascii() or joined.encode("ascii").translate(None, _PLAIN_BYTES[mark]):
        return False
    lines = "\n" + joined + "\n"  # every line framed by line ends: its first and last characters show
    if "\n\n" in lines or lines.count("-") != lines.count("\n-"):
        return False
    if "-\n" in lines or f"-{mark}" in lines or f"\n{mark}" in lines or f"{mark}\n" in lines:
        return False
    return _TWO_MARKS[mark].search(joined) is None


def all_plain_reference(joined: str, mark: str) -> bool:
    """`all_plain` as one regular expression: the slow reference it is tested against."""
    return _ALL_PLAIN[mark].fullmatch(joined) is not None


def _parse_cell(value: str, decimal_mark: str, thousands: str | None) -> Decimal | None:
    cell = value.strip()
    if not cell:
        return None
    if _PLAIN.fullmatch(cell) and (decimal_mark == "," or "," not in cell) and (decimal_mark == "." or "." not in cell):
        return Decimal(cell.replace(",", "."))
    return parse_amount(cell, decimal_mark, thousands)


def is_number_shaped(value: str) -> bool:
    """A cell that is an amount and nothing else ("-1.234,56 €", "(12.00)", "$5", "12.00 DR")."""
    return looks_like_amount(value.strip())
