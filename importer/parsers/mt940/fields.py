"""SWIFT MT940/MT942 text to fields, and the :61: statement line and :86: details read apart.

A file is a run of ":TAG:value" fields, each value possibly continued on following lines,
wrapped in SWIFT blocks ("{1:...}{2:...}{4:" ... "-}") or bank header lines ("ABNANL2A", "940")
that carry nothing we need.  German banks structure :86: with "?NN" subfields (DFÜ-Abkommen):
?00 booking text, ?20-?29 and ?60-?63 purpose, ?30 bank code, ?31 account/IBAN, ?32-?33 name.

Amounts and dates are read strictly: an amount is digits with at most one decimal comma and no
sign (the sign is the C/D mark), a date is YYMMDD with a real month and day.  Anything else makes
`balance`/`statement_line` return None (the caller names file, line and text).  One leniency
stays, because banks rely on it: a February day 29 or 30 past the month's end ("160230", banks'
30-day months) is the month's last day.  A block end ("-" or "-}") is kept as a field with tag
"-", so a reader can tell an MT942 that was closed from one that was cut off.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

_FIELD = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_BLOCK_START = re.compile(r"^\{1:[^}]*\}(\{2:[^}]*\})?(\{3:(\{[^}]*\})*\})?\{4:\s*")
_BLOCK_END = re.compile(r"^-\}?(\{5:.*)?$")
# SWIFT writes the decimal comma always; a few banks leave it out of whole amounts ("C500NTRF"),
# which is read only when the transaction type code (N, F or S and three more) follows at once.
_LINE_AMOUNT = r"(?P<amount>\d+,\d*(?![\d,])|\d+(?=[NFS][A-Z0-9]{3}))"
_STATEMENT_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
    + _LINE_AMOUNT
    + r"(?P<type>[A-Z][A-Z0-9]{3})?(?P<customer>.*?)(?://(?P<bank>.*))?$"
)
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})?(?P<amount>\d+(?:,\d*)?)$")
_AMOUNT = re.compile(r"^\d+(?:,\d*)?$")
_DEBITS = ("D", "RC", "ED")  # RC (reversal of a credit) takes money out
_SUBFIELD = re.compile(r"\?(\d{2})")
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}
# SEPA keywords inside the German purpose text ("EREF+...SVWZ+Miete Oktober").
_SEPA = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|SQTP|PURP)\+")


@dataclass(frozen=True)
class Field:
    tag: str
    value: str  # continuation lines joined with "\n"
    line: int


BLOCK_END = "-"  # the tag of the pseudo-field for a block end


@dataclass(frozen=True)
class StatementLine:
    value_date: dt.date
    entry_date: dt.date | None
    amount: Decimal
    kind: str
    customer_ref: str | None
    bank_ref: str | None
    extra: str | None  # supplementary details after the first line
    debit: bool = False  # D, RC or ED: counted by MT942's :90D:


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
        elif _BLOCK_END.match(line.strip()):
            found.append(Field(BLOCK_END, "", number))
            open_field = False
        elif line.startswith("{"):
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
    """A SWIFT amount: digits with at most one decimal comma ("1500,", "0,42"); ValueError else."""
    if not _AMOUNT.match(text):
        raise ValueError(f"{text!r} is not a SWIFT amount")
    return Decimal(text.replace(",", ".", 1))


def swift_date(text: str) -> dt.date:
    """YYMMDD; ValueError unless month and day are real (February 29 and 30 read as its last day)."""
    if not re.fullmatch(r"\d{6}", text):
        raise ValueError(f"{text!r} is not a YYMMDD date")
    year, month, day = 2000 + int(text[:2]), int(text[2:4]), int(text[4:6])
    if year > dt.date.today().year + 20:
        year -= 100
    return _day(year, month, day)


def _day(year: int, month: int, day: int) -> dt.date:
    if not 1 <= month <= 12 or day < 1:
        raise ValueError(f"month {month}, day {day} is not a date")
    last = calendar.monthrange(year, month)[1]
    if day > last and not (month == 2 and day <= 30):  # banks' 30-day months write "160230"
        raise ValueError(f"day {day} is past the end of month {month}")
    return dt.date(year, month, min(day, last))


def balance(value: str) -> tuple[Decimal, dt.date, str | None] | None:
    """:60F:/:62F:/:64: "C070903EUR766656,49" as (signed amount, date, currency if written);
    None unless the field's first line is exactly that."""
    first = value.split("\n", 1)[0]
    match = _BALANCE.match(first.strip())
    if not match:
        return None
    try:
        total, day = amount(match.group("amount")), swift_date(match.group("date"))
    except ValueError:
        return None
    return (-total if match.group("mark") == "D" else total), day, match.group("currency")


def count_and_sum(value: str) -> tuple[int, str, Decimal] | None:
    """MT942's :90D:/:90C: "3EUR1234,56" (number of entries, currency, their sum); None if not that."""
    match = re.fullmatch(r"(\d{1,5})([A-Z]{3})(\d+(?:,\d*)?)", value.split("\n", 1)[0].strip())
    return (int(match.group(1)), match.group(2), amount(match.group(3))) if match else None


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
        entry_date = _entry_date(value_date, match.group("entry"))
    except ValueError:
        return None
    mark = match.group("mark")
    # RC (reversal of a credit) takes money out; RD (reversal of a debit) puts it back.
    signed = -total if mark in _DEBITS else total
    return StatementLine(
        value_date=value_date,
        entry_date=entry_date,
        amount=signed,
        kind=match.group("type") or "",
        customer_ref=_reference(match.group("customer")),
        bank_ref=_reference(match.group("bank")),
        extra=" ".join(extra.split()) or None,
        debit=mark in _DEBITS,
    )


def _entry_date(value_date: dt.date, text: str | None) -> dt.date | None:
    """The MMDD entry date in the value date's year (or the next/previous one across New Year)."""
    if not text:
        return None
    month, day = int(text[:2]), int(text[2:])
    year = value_date.year
    # Booked in late December for a January value date, or the other way round.
    if month == 12 and value_date.month == 1:
        year -= 1
    elif month == 1 and value_date.month == 12:
        year += 1
    return _day(year, month, day)


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
    pairs = dict(
        re.findall(
            r"/(TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM)/(.*?)(?=/(?:TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|ADDR)/|$)",
            joined,
        )
    )
    return Details(
        payee=" ".join(pairs.get("NAME", "").split()) or None,
        iban=pairs.get("IBAN", "").strip() or None,
        purpose=" ".join(pairs.get("REMI", "").split()) or None,
        booking_text=pairs.get("TRTP", "").strip() or None,
        code=None,
    )
