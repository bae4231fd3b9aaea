"""OFX leaf text to values: dates and amounts, shared by the tree reader and the fast scanner."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation


def optional_date(text: str | None) -> dt.date | None:
    """The calendar day of "YYYYMMDD[HHMMSS[.XXX][[gmt:tz]]]", or None when there is none."""
    if text is None or len(text) < 8 or not text[:8].isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def amount(text: str) -> Decimal | None:
    """`Decimal(text)`, or failing that the loose reading below; None when neither reads."""
    try:
        return Decimal(text)
    except InvalidOperation:
        return loose_amount(text)


def loose_amount(text: str) -> Decimal | None:
    """Amounts as some banks write them: "-200,00", "1.025,53", "1 025,53"."""
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".") if cleaned.rfind(",") > cleaned.rfind(".") else cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
