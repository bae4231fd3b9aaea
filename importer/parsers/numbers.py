"""Text to `Decimal`, with the separators a bank uses stated explicitly, never guessed per cell."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SIGN_WRAPPERS = re.compile(r"^\((?P<inner>.*)\)$")
_NOISE = re.compile(r"[^\d.,'\s\u00a0\u202f+-]")


class NotANumber(ValueError):
    """The cell does not hold an amount; the caller adds file and line."""


def parse_amount(text: str, decimal_mark: str = ".", thousands: str | None = None) -> Decimal:
    """Parse one amount cell such as "-1.234,56 €" (decimal_mark=",") into a Decimal.

    Negative forms: "-x", "x-", "(x)".  Currency symbols and codes in the cell are ignored.
    """
    cell = text.strip()
    negative = False
    wrapped = _SIGN_WRAPPERS.match(cell)
    if wrapped:
        cell, negative = wrapped.group("inner").strip(), True
    cell = _NOISE.sub("", cell).strip()
    if cell.endswith("-"):
        cell, negative = cell[:-1].strip(), not negative
    if thousands:
        cell = cell.replace(thousands, "")
    cell = cell.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if decimal_mark != ".":
        cell = cell.replace(".", "").replace(decimal_mark, ".")
    return _to_decimal(text, cell, negative)


def _to_decimal(original: str, cell: str, negative: bool) -> Decimal:
    if not cell or cell in {"+", "-"}:
        raise NotANumber(original)
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise NotANumber(original) from None
    if not value.is_finite():
        raise NotANumber(original)
    return -value if negative else value
