"""SWIFT MT940/MT942 text to fields, and the :61: statement line and :86: details read apart.

A file is a run of ":TAG:value" fields, each value possibly continued on following lines,
wrapped in SWIFT blocks ("{1:...}{2:...}{4:" ... "-}") or bank header lines ("ABNANL2A", "940")
that carry nothing we need.  German banks structure :86: with "?NN" subfields (DFÜ-Abkommen):
?00 booking text, ?20-?29 and ?60-?63 purpose, ?30 bank code, ?31 account/IBAN, ?32-?33 name.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_FIELD = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_BLOCK_START = re.compile(r"^\{1:[^}]*\}(\{2:[^}]*\})?(\{3:(\{[^}]*\})*\})?\{4:\s*")
_BLOCK_END = re.compile(r"^-\}?(\{5:.*)?$")
_STATEMENT_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d,]*)(?P<type>[A-Z][A-Z0-9]{3})?(?P<customer>.*?)(?://(?P<bank>.*))?$"
)
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})?(?P<amount>\d[\d,]*)$")
_SUBFIELD = re.compile(r"\?(\d{2})")
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}
# SEPA keywords inside the German purpose text ("EREF+...SVWZ+Miete Oktober").
_SEPA = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|SQTP|PURP)\+")


@dataclass(frozen=True)
class Field:
    tag: str
    value: str  # continuation lines joined with "\n"
    line: int


@dataclass(frozen=True)
class StatementLine:
    value_date: dt.date
    entry_date: dt.date | None
    amount: Decimal
    kind: str
    customer_ref: str | None
    bank_ref: str | None
    extra: str | None  # supplementary details after the first line


@dataclass(frozen=True)
class Details:
    payee: str | None
    iban: str | None
    purpose: str | None
    booking_text: str | None
    code: str | None
    end_to_end: str | None = None


def fields(text: str) -> list[Field]:
    """Every field in file order; SWIFT block wrappers and bank header lines are dropped."""
    found: list[Field] = []
    lines = _rejoin_split_tags(text.splitlines())
    open_field = False
    for number, raw in enumerate(lines, start=1):
        line = _BLOCK_START.sub("", raw.rstrip("\r"))
        match = _FIELD.match(line)
        if match:
            found.append(Field(match.group(1), match.group(2), number))
            open_field = True
        elif _BLOCK_END.match(line.strip()) or line.startswith("{"):
            open_field = False
        elif open_field and found:
            last = found[-1]
            found[-1] = Field(last.tag, last.value + "\n" + line, last.line)
    return found


def _rejoin_split_tags(lines: list[str]) -> list[str]:
    # Some exports wrap right after the leading colon (":" then "86:..."); glue those back.
    out: list[str] = []
    for line in lines:
        if out and out[-1].strip() == ":" and re.match(r"^\d{2}[A-Z]?:", line):
            out[-1] = ":" + line
        else:
            out.append(line)
    return out


def amount(text: str) -> Decimal:
    """A SWIFT amount: digits with a decimal comma ("1500,", "0,42")."""
    return Decimal(text.replace(",", ".", 1))


def swift_date(text: str) -> dt.date:
    """YYMMDD; a day past the month's end (banks' 30-day months: "160230") is its last day."""
    year, month, day = 2000 + int(text[:2]), int(text[2:4]), int(text[4:6])
    if year > dt.date.today().year + 20:
        year -= 100
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day, last))


def balance(value: str) -> tuple[Decimal, dt.date, str | None] | None:
    """:60F:/:62F:/:64: "C070903EUR766656,49" as (signed amount, date, currency if written)."""
    first = value.split("\n", 1)[0]
    match = _BALANCE.match("".join(ch for ch in first if ch.isprintable()).strip())
    if not match:
        return None
    total = amount(match.group("amount"))
    return (-total if match.group("mark") == "D" else total), swift_date(match.group("date")), match.group("currency")


def statement_line(value: str) -> StatementLine | None:
    """The :61: field, or None when it does not follow the layout."""
    first, _, extra = value.partition("\n")
    match = _STATEMENT_LINE.match(first.strip())
    if not match:  # the amount wrapped onto the next line (Sparkasse)
        first, extra = value.replace("\n", ""), ""
        match = _STATEMENT_LINE.match(first.strip())
    if not match:
        return None
    try:
        total = amount(match.group("amount"))
        value_date = swift_date(match.group("value"))
    except (InvalidOperation, ValueError):
        return None
    mark = match.group("mark")
    # RC (reversal of a credit) takes money out; RD (reversal of a debit) puts it back.
    signed = -total if mark in ("D", "RC", "ED") else total
    return StatementLine(
        value_date=value_date,
        entry_date=_entry_date(value_date, match.group("entry")),
        amount=signed,
        kind=match.group("type") or "",
        customer_ref=_reference(match.group("customer")),
        bank_ref=_reference(match.group("bank")),
        extra=" ".join(extra.split()) or None,
    )


def _entry_date(value_date: dt.date, text: str | None) -> dt.date | None:
    if not text:
        return None
    month, day = int(text[:2]), int(text[2:])
    year = value_date.year
    # Booked in late December for a January value date, or the other way round.
    if month == 12 and value_date.month == 1:
        year -= 1
    elif month == 1 and value_date.month == 12:
        year += 1
    try:
        return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
    except ValueError:
        return None


def _reference(text: str | None) -> str | None:
    value = (text or "").strip()
    return None if value.upper() in _NO_REFERENCE else value


def details(value: str) -> Details:
    """The :86: field: German ?NN subfields, Dutch /TAG/ pairs, or free text."""
    joined = value.replace("\n", "")
    if re.match(r"^\d{3}\?", joined) or joined.startswith("?"):
        return _subfields(joined)
    if joined.startswith("/") and ("/NAME/" in joined or "/REMI/" in joined):
        return _slash_pairs(joined)
    return Details(None, None, " ".join(value.split()) or None, None, None)


def _subfields(joined: str) -> Details:
    code = joined[:3] if joined[:3].isdigit() else None
    parts: dict[str, str] = {}
    pieces = _SUBFIELD.split(joined)
    for key, text in zip(pieces[1::2], pieces[2::2]):
        parts[key] = parts.get(key, "") + text
    purpose = "".join(parts.get(f"{n:02d}", "") for n in [*range(20, 30), *range(60, 64)])
    name = " ".join((parts.get("32", "") + parts.get("33", "")).split())
    sepa = _sepa(purpose)
    text = sepa.get("SVWZ") or (purpose if not sepa else None)
    return Details(
        payee=name or None,
        iban=parts.get("31", "").strip() or None,
        purpose=" ".join(text.split()) if text and text.strip() else None,
        booking_text=parts.get("00", "").strip() or None,
        code=code,
        end_to_end=_reference(sepa.get("EREF")),
    )


def _sepa(purpose: str) -> dict[str, str]:
    pieces = _SEPA.split(purpose)
    return {key: value.strip() for key, value in zip(pieces[1::2], pieces[2::2])}


def _slash_pairs(joined: str) -> Details:
    # "/TRTP/SEPA OVERBOEKING/IBAN/NL..../NAME/Foo/REMI/bar/EREF/..." (Rabobank, ING, ABN AMRO SEPA).
    pairs = dict(re.findall(r"/(TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM)/(.*?)(?=/(?:TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|ADDR)/|$)", joined))
    return Details(
        payee=" ".join(pairs.get("NAME", "").split()) or None,
        iban=pairs.get("IBAN", "").strip() or None,
        purpose=" ".join(pairs.get("REMI", "").split()) or None,
        booking_text=pairs.get("TRTP", "").strip() or None,
        code=None,
    )
