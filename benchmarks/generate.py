"""Synthetic but realistic statements: many merchants, noisy descriptions, repeats on one day.

Every layout is written from the same row stream (`rows()`), so a 100k-row Chase file, its
Sparkasse twin and its debit/credit twin hold the same transactions, and the rule files written
by `benchmarks.compare` match the same merchants in all of them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

MERCHANTS = [
    "STARBUCKS STORE",
    "WHOLE FOODS MARKET",
    "TRADER JOE'S",
    "SAFEWAY",
    "SHELL OIL",
    "CHEVRON",
    "UBER *TRIP",
    "LYFT *RIDE",
    "AMAZON MKTPL*",
    "TARGET",
    "WALGREENS",
    "CVS/PHARMACY",
    "NETFLIX.COM",
    "SPOTIFY USA",
    "COMCAST CABLE",
    "PG&E WEB ONLINE",
    "HOME DEPOT",
    "COSTCO WHSE",
    "IKEA",
    "APPLE.COM/BILL",
    "DELTA AIR",
    "MARRIOTT",
    "AIRBNB * HM",
    "DOORDASH*",
    "GRUBHUB*",
    "CHIPOTLE",
    "MCDONALD'S",
    "SUBWAY",
    "PAYPAL *EBAY",
    "VENMO",
    "ZELLE TO",
    "ATM WITHDRAWAL",
    "CHECK",
    "GYM MEMBERSHIP",
    "PLANET FITNESS",
]
CITIES = ["SAN FRANCISCO CA", "OAKLAND CA", "NEW YORK NY", "SEATTLE WA", "AUSTIN TX", "CHICAGO IL"]
KINDS = [
    "MARKET",
    "CAFE",
    "PHARMACY",
    "AUTO REPAIR",
    "DELI",
    "GRILL",
    "BOOKS",
    "HARDWARE",
    "SALON",
    "TAQUERIA",
    "FLORIST",
    "PET SUPPLY",
    "DENTAL",
    "YOGA",
    "BREWING",
    "CLEANERS",
    "OPTICAL",
    "TIRE",
    "BAKERY",
    "SUSHI",
]
SYLLABLES = ["KOR", "VAN", "TI", "MEL", "BRO", "SA", "LU", "NIX", "PAR", "DEL", "OR", "QUIN", "TAV", "ERA", "ZO", "FEN"]
PREFIXES = ["", "", "", "POS ", "SQ *", "TST* ", "CARD PURCHASE ", "RECURRING "]  # the noise banks add
VERSION = 2  # part of every generated file's name: a change to what is written must bump it
CHUNK = 100_000  # rows held in memory at once while writing a statement
MERCHANT_COUNT = 400  # distinct merchants in generated statements; rules know only some of them
CHASE_HEADER = "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #"
SPARKASSE_HEADER = (
    '"Auftragskonto";"Buchungstag";"Valutadatum";"Buchungstext";"Verwendungszweck";'
    '"Beguenstigter/Zahlungspflichtiger";"Kontonummer/IBAN";"BIC (SWIFT-Code)";"Betrag";"Waehrung";"Info"'
)
DEBIT_CREDIT_HEADER = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit"
FIRST_DAY = dt.date(2020, 1, 1)  # the day before the first row's
BANK_DAYS = 25_000  # the days a statement may span: it ends before 2088, within the years a bank date may have
PAST_DAYS = 2_500  # the days the 100k statement spans at 40 a day: it ends on 2026-11-05, in the past


class Row(NamedTuple):
    day: dt.date
    cents: int  # negative = money out
    description: str


def merchant_names(count: int, rng: random.Random) -> list[str]:
    """`count` distinct merchant names: the real ones first, then invented ones."""
    names = dict.fromkeys(m.rstrip(" *") for m in MERCHANTS)
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        names[f"{word} {rng.choice(KINDS)}"] = None
    return list(names)[:count]


def merchants() -> list[str]:
    """The merchants generated statements name, most frequent first (rules are written for a prefix)."""
    return merchant_names(MERCHANT_COUNT, random.Random(5))


def descriptions(rows: int, seed: int = 7) -> Iterator[str]:
    """Noisy card-statement texts: prefix, merchant (skewed towards the first ones), store number, city.

    Drawn in chunks, so that a 10M-row statement is written in constant memory: the merchants come
    from one generator and the noise from a second, so the texts do not depend on the chunk size.
    """
    picker, noise = random.Random(seed), random.Random(seed * 1_000_003 + 1)
    names = merchants()
    weights = [1 / (rank + 10) for rank in range(len(names))]  # a long tail, as real spending has
    for start in range(0, rows, CHUNK):
        for name in picker.choices(names, weights, k=min(CHUNK, rows - start)):
            yield f"{noise.choice(PREFIXES)}{name} {noise.randint(100, 99999):05d} {noise.choice(CITIES)}"


def rows(count: int, seed: int = 7, days: int = BANK_DAYS) -> Iterator[Row]:
    """`count` transactions over consecutive days from 2020-01-02, mostly small card spending:
    40 a day, or more when that would take more than `days` days.  By default a 10M-row statement
    still ends within the years a bank date may have (BANK_DAYS) instead of being refused for its
    dates; the upload's statement is held to PAST_DAYS (`write_past_chase_csv`)."""
    rng = random.Random(seed)
    day = FIRST_DAY
    per_day = rows_per_day(count, days)
    for i, text in enumerate(descriptions(count, seed)):
        if i % per_day == 0:
            day += dt.timedelta(days=1)
        cents = -rng.randint(100, 25000) if rng.random() < 0.93 else rng.randint(50000, 400000)
        yield Row(day, cents, text)


def rows_per_day(count: int, days: int = BANK_DAYS) -> int:
    """40, or as many as put `count` rows in `days` days; 40 up to 1M rows by default, so the files
    measured before are unchanged."""
    return max(40, -(-count // days))


def _money(cents: int, point: str = ".") -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}{point}{abs(cents) % 100:02d}"


def write_chase_csv(path: Path, count: int, seed: int = 7, days: int = BANK_DAYS) -> Path:
    """Chase checking layout: comma-separated, decimal point, newest first, running balance."""
    return _write(path, CHASE_HEADER, newest_first(_chase_lines(count, seed, days), path), "utf-8")


def write_past_chase_csv(path: Path, count: int) -> Path:
    """The Chase statement the upload stage sends: the same as `write_chase_csv` up to 100k rows;
    above, more rows a day, so that its last day is no later than the 100k statement's and the
    services, which refuse a date more than a day ahead (API-CONTRACTS.md), take every row."""
    return write_chase_csv(path, count, days=PAST_DAYS)


def _chase_lines(count: int, seed: int, days: int) -> Iterator[str]:
    balance = 100000 * 100
    for row in rows(count, seed, days):
        balance += row.cents  # the balance runs forward in time, whichever way the file is read
        kind = "DEBIT" if row.cents < 0 else "CREDIT"
        yield f'{kind},{row.day:%m/%d/%Y},"{row.description}",{_money(row.cents)},DEBIT_CARD,{_money(balance)},,'


def newest_first(lines: Iterator[str], path: Path) -> Iterator[str]:
    """`lines` reversed in constant memory: chunks spilled to files beside `path`, read back last first."""
    spills = []
    try:
        for number, chunk in enumerate(_chunks(lines)):
            spills.append(path.with_name(f"{path.name}.chunk{number}"))
            spills[-1].write_text("\n".join(chunk), encoding="utf-8")
        for spill in reversed(spills):
            yield from reversed(spill.read_text(encoding="utf-8").split("\n"))
    finally:
        for spill in spills:
            spill.unlink(missing_ok=True)


def _chunks(lines: Iterator[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_sparkasse_csv(path: Path, count: int, seed: int = 7) -> Path:
    """Sparkasse CSV-CAMT layout: semicolons, quoted fields, decimal comma, two-digit years, cp1252."""
    lines = (
        f'"DE12500105170648489890";"{r.day:%d.%m.%y}";"{r.day:%d.%m.%y}";"KARTENZAHLUNG";"{r.description}";'
        f'"{r.description.split(" 0")[0][:27]}";"DE89370400440532013000";"COBADEFFXXX";"{_money(r.cents, ",")}";"EUR";"Umsatz gebucht"'
        for r in rows(count, seed)
    )
    return _write(path, SPARKASSE_HEADER, lines, "cp1252")


def write_debit_credit_csv(path: Path, count: int, seed: int = 7) -> Path:
    """Capital One layout: ISO dates, money out in Debit and money in in Credit, both unsigned."""
    return _write(path, DEBIT_CREDIT_HEADER, (_debit_credit_line(r) for r in rows(count, seed)), "utf-8")


def _debit_credit_line(r: Row) -> str:
    debit, credit = (_money(-r.cents), "") if r.cents < 0 else ("", _money(r.cents))
    return f"{r.day:%Y-%m-%d},{r.day:%Y-%m-%d},4821,{r.description.replace(',', ' ')},Merchandise,{debit},{credit}"


def _write(path: Path, header: str, lines: Iterable[str], encoding: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")  # a file cut short by ^C is not reused as complete
    with partial.open("w", encoding=encoding, newline="\n") as out:
        out.write(header + "\n")
        for line in lines:
            out.write(line + "\n")
    partial.replace(path)
    return path
