"""Statement files written by tests: Chase-style CSV and OFX 1.x, from a list of lines.

The dedupe and crash tests need many small variations (overlaps, repeats, reused FITIDs, a
pending line that later posts), so they are generated here rather than kept as samples.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

CHASE_HEADER = "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #"


@dataclass(frozen=True)
class Line:
    day: dt.date
    amount: str
    description: str
    fitid: str | None = None


def day(n: int, month: int = 10) -> dt.date:
    return dt.date(2026, month, n)


def chase_csv(path: Path, lines: list[Line], opening: str = "1000.00") -> Path:
    """A Chase checking export (newest first, running balance, the trailing comma Chase writes)."""
    balance = Decimal(opening)
    rows = []
    for line in lines:
        balance += Decimal(line.amount)
        kind = "CREDIT" if Decimal(line.amount) > 0 else "DEBIT"
        rows.append(f'{kind},{line.day:%m/%d/%Y},"{line.description}",{line.amount},{kind}_CARD,{balance},,')
    path.write_text("\n".join([CHASE_HEADER, *reversed(rows)]) + "\n", encoding="utf-8")
    return path


def ofx(
    path: Path,
    lines: list[Line],
    account: str = "000123456789",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Path:
    """An OFX 1.02 bank statement of one account."""
    start = start or min(line.day for line in lines)
    end = end or max(line.day for line in lines)
    body = "".join(
        f"<STMTTRN><TRNTYPE>{'CREDIT' if Decimal(ln.amount) > 0 else 'DEBIT'}<DTPOSTED>{ln.day:%Y%m%d}120000"
        f"<TRNAMT>{ln.amount}<FITID>{ln.fitid or f'{ln.day:%Y%m%d}{n:04d}'}<NAME>{ln.description}</STMTTRN>\n"
        for n, ln in enumerate(lines)
    )
    path.write_text(
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0"
        "<SEVERITY>INFO</STATUS><DTSERVER>20261101<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1>"
        "<STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>USD<BANKACCTFROM>"
        f"<BANKID>021000021<ACCTID>{account}<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>"
        f"<DTSTART>{start:%Y%m%d}<DTEND>{end:%Y%m%d}\n{body}</BANKTRANLIST>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n",
        encoding="ascii",
    )
    return path
