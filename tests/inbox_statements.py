"""Small statement files written on the fly for the inbox, routine and report tests.

They use the Chase checking layout (a profile the project ships), newest line first with a
running balance, as Chase writes them, so the balance chain can be checked across files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

HEADER = "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"
Line = tuple[dt.date, str, Decimal]


def write_chase(path: Path, lines: Sequence[Line], opening: Decimal = Decimal("1000.00")) -> Decimal:
    """Write `lines` as a Chase CSV at `path`; returns the closing balance."""
    balance, rows = opening, []
    for day, description, amount in sorted(lines, key=lambda line: line[0]):
        balance += amount
        kind = "CREDIT" if amount > 0 else "DEBIT"
        rows.append(f'{kind},{day:%m/%d/%Y},"{description}",{amount},DEBIT_CARD,{balance},,\n')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(reversed(rows)), encoding="utf-8")
    return balance


def month_lines(month: str, seed: int, count: int = 3) -> list[Line]:
    """`count` distinct purchases in `month` (YYYY-MM); `seed` keeps files apart."""
    first = dt.date.fromisoformat(month + "-01")
    return [
        (first + dt.timedelta(days=(seed + i) % 27), f"SHOP {seed} ITEM {i}", -Decimal(f"{seed % 90 + 1}.{i:02d}"))
        for i in range(count)
    ]
