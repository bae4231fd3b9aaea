"""The parts of one camt entry (Ntry): its TxDtls, with counterparty, remittance and reference.

Amounts are read strictly (`amount`): ISO 20022 writes an amount as an unsigned xs:decimal and
gives the direction in CdtDbtInd, so "1e3", "NaN", "1_000", "-5" or "12,50" are not amounts, and a
detail holding one makes the whole entry unreadable (NotAnAmount) rather than silently unsplit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element

from importer.parsers.xmlsafe import text

_NO_REFERENCE = {"NOTPROVIDED", "NONREF"}
# xs:decimal without its sign (ISO 20022 amounts are never negative).  Python's Decimal() would
# also take exponents, underscores, NaN and Infinity, none of which a bank writes.
_AMOUNT = re.compile(r"^\+?(?:\d+(?:\.\d*)?|\.\d+)$")


class NotAnAmount(ValueError):
    """An Amt whose text is not an ISO 20022 amount; the caller names the file and entry."""

    def __init__(self, found: str, where: str) -> None:
        self.found = found
        self.where = where
        super().__init__(f"{where}: {found!r} is not an amount")


def exact_amount(found: str | None) -> bool:
    """Whether `found` is exactly an ISO 20022 amount."""
    return _AMOUNT.match((found or "").strip()) is not None


def amount(found: str | None, where: str) -> Decimal:
    """`found` (an Amt's text) as a Decimal; NotAnAmount unless it is exactly an unsigned decimal."""
    value = (found or "").strip()
    if not _AMOUNT.match(value):
        raise NotAnAmount(value, where)
    return Decimal(value)


@dataclass(frozen=True)
class Detail:
    """What one transaction of an entry says beyond its date."""

    amount: Decimal
    counterparty: str | None = None
    iban: str | None = None
    remittance: str | None = None
    reference: str | None = None  # the bank's own (AcctSvcrRef): unique per booking
    end_to_end: str | None = None  # the payer's (EndToEndId, else TxId): may repeat across months
    info: str | None = None
    note: str | None = None


def details(entry: Element, amount: Decimal) -> list[Detail]:
    """One Detail per TxDtls when they add up to the entry's `amount`, else one for the entry."""
    parts = entry.findall("NtryDtls/TxDtls")
    if len(parts) > 1:
        amounts = [_amount(part, entry) for part in parts]
        if None not in amounts and sum(a for a in amounts if a is not None) == amount:
            return [_detail(part, a) for part, a in zip(parts, amounts) if a is not None]
        note = f"batch of {len(parts)} transactions whose amounts do not add up to the entry; imported as one"
        return [_detail(None, amount, note)]
    return [_detail(parts[0] if parts else None, amount)]


def _amount(part: Element, entry: Element) -> Decimal | None:
    """The detail's amount in the entry's currency, signed; None when it gives none."""
    entry_amount = entry.find("Amt")
    currency = entry_amount.get("Ccy") if entry_amount is not None else None
    for path in ("Amt", "AmtDtls/TxAmt/Amt"):
        element = part.find(path)
        if element is not None and element.text and element.get("Ccy", currency) == currency:
            value = amount(element.text, f"TxDtls {path}")
            indicator = text(part, "CdtDbtInd") or text(entry, "CdtDbtInd")
            return -value if indicator == "DBIT" else value
    return None


def _detail(part: Element | None, amount: Decimal, note: str | None = None) -> Detail:
    if part is None:
        return Detail(amount=amount, note=note)
    # Money out: the other side is the creditor; money in: the debtor.
    role = "Cdtr" if amount < 0 else "Dbtr"
    return Detail(
        amount=amount,
        counterparty=text(part, f"RltdPties/{role}/Nm") or text(part, f"RltdPties/{role}/Pty/Nm"),
        iban=text(part, f"RltdPties/{role}Acct/Id/IBAN"),
        remittance=_remittance(part),
        reference=_reference(part, "Refs/AcctSvcrRef"),
        end_to_end=_reference(part, "Refs/EndToEndId") or _reference(part, "Refs/TxId"),
        info=text(part, "AddtlTxInf"),
        note=note,
    )


def _remittance(part: Element) -> str | None:
    lines = [e.text.strip() for e in part.findall("RmtInf/Ustrd") if e.text and e.text.strip()]
    if not lines:
        lines = [e.text.strip() for e in part.findall("RmtInf/Strd/CdtrRefInf/Ref") if e.text and e.text.strip()]
        lines += [e.text.strip() for e in part.findall("RmtInf/Strd/AddtlRmtInf") if e.text and e.text.strip()]
    return " ".join(lines) or None


def _reference(part: Element, path: str) -> str | None:
    value = text(part, path)
    return value if value and value.upper() not in _NO_REFERENCE else None
