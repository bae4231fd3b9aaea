"""OFX leaf text to values: dates and amounts, shared by the tree reader and the fast scanner.

Both are read strictly, as the OFX specification writes them, because a reading that "cleans"
a damaged value makes a wrong number: "-12.3x4" is not -12.34, and "20261331" is no day.

* An amount is an optional sign, digits, and at most one decimal mark, "." or "," (OFX allows
  either).  Thousands separators, exponents, "NaN", "1_000" and currency signs are not amounts.
* A date is "YYYYMMDD", optionally "HHMMSS" and then ".XXX", optionally a "[offset:TZ]" suffix,
  each part in its range.  The calendar day is what we keep (see ofx.py for why).

Each reader answers None for text that is not such a value; the caller names the record.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_DATE = re.compile(
    r"([0-9]{4})([0-9]{2})([0-9]{2})"
    r"(?:([01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9]|60)(?:\.[0-9]{3})?)?"
    r"(?:\[[+-]?[0-9]{1,2}(?:\.[0-9]{1,2})?(?::[A-Za-z][A-Za-z0-9_/+-]*)?\])?"
)
DATE_FORMAT = "YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]]"
AMOUNT_FORMAT = "an amount such as -12.34 or -12,34 (sign, digits, one decimal mark)"


def date_value(text: str) -> dt.date | None:
    """The calendar day of an OFX date (see the module docstring), or None when `text` is not one."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def amount(text: str) -> Decimal | None:
    """The Decimal an OFX amount says, or None when `text` is not exactly one."""
    if AMOUNT.fullmatch(text) is None:
        return None
    return Decimal(text.replace(",", ".") if "," in text else text)
