"""Synthetic but realistic statements: many merchants, noisy descriptions, repeats on one day."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

MERCHANTS = [
    "STARBUCKS STORE", "WHOLE FOODS MARKET", "TRADER JOE'S", "SAFEWAY", "SHELL OIL", "CHEVRON",
    "UBER *TRIP", "LYFT *RIDE", "AMAZON MKTPL*", "TARGET", "WALGREENS", "CVS/PHARMACY", "NETFLIX.COM",
    "SPOTIFY USA", "COMCAST CABLE", "PG&E WEB ONLINE", "HOME DEPOT", "COSTCO WHSE", "IKEA", "APPLE.COM/BILL",
    "DELTA AIR", "MARRIOTT", "AIRBNB * HM", "DOORDASH*", "GRUBHUB*", "CHIPOTLE", "MCDONALD'S", "SUBWAY",
    "PAYPAL *EBAY", "VENMO", "ZELLE TO", "ATM WITHDRAWAL", "CHECK", "GYM MEMBERSHIP", "PLANET FITNESS",
]  # fmt: skip
CITIES = ["SAN FRANCISCO CA", "OAKLAND CA", "NEW YORK NY", "SEATTLE WA", "AUSTIN TX", "CHICAGO IL"]
CHASE_HEADER = "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #"


def descriptions(rows: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(MERCHANTS)} {rng.randint(100, 99999):05d} {rng.choice(CITIES)}" for _ in range(rows)
    ]


def write_chase_csv(path: Path, rows: int, seed: int = 7) -> Path:
    """A Chase-layout CSV of `rows` lines, newest first, with a consistent running balance."""
    rng = random.Random(seed)
    texts = descriptions(rows, seed)
    day = dt.date(2020, 1, 1)
    balance = 100000 * 100
    lines = []
    for i in range(rows):
        if i % 40 == 0:
            day += dt.timedelta(days=1)
        cents = -rng.randint(100, 25000) if rng.random() < 0.93 else rng.randint(50000, 400000)
        balance += cents
        kind = "DEBIT" if cents < 0 else "CREDIT"
        lines.append(f'{kind},{day:%m/%d/%Y},"{texts[i]}",{cents / 100:.2f},DEBIT_CARD,{balance / 100:.2f},,')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CHASE_HEADER + "\n" + "\n".join(reversed(lines)) + "\n", encoding="utf-8")
    return path
