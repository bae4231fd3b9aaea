"""OFX parse throughput, ours against plain ofxparse: `python -m benchmarks.ofx_bench [--rows N]`.

Writes an OFX 1.x SGML file (unclosed leaf tags, CRLF) and an OFX 2.x XML file of N transactions
under benchmarks/data/ (git-ignored), then times `importer.parsers.parse_file` (the fast path),
our tree reader alone (`reference_statements`, the reference the fast path must equal) and
`ofxparse.OfxParser.parse` on each.  ofxparse runs in a child process with a time limit, since
on large SGML files it may not finish at all; a second, smaller size gives its rate anyway.
Rates are per CPU second of the parsing process (wall time is shown too), so that a busy machine
slows both readers alike rather than skewing the comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from benchmarks.generate import descriptions

SGML_HEADER = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'


def _transactions(rows: int, xml: bool, seed: int = 11) -> Iterator[str]:
    """One <STMTTRN> per row, made as it is written: a 10M-row file needs no more memory than 10 rows."""
    rng = random.Random(seed)
    day = dt.date(2020, 1, 1)
    for i, text in enumerate(descriptions(rows, seed)):
        if i % 40 == 0:
            day += dt.timedelta(days=1)
        cents = -rng.randint(100, 25000) if rng.random() < 0.93 else rng.randint(50000, 400000)
        amount = f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        fields = [
            ("TRNTYPE", "DEBIT" if cents < 0 else "CREDIT"),
            ("DTPOSTED", f"{day:%Y%m%d}120000.000[-5:EST]"),
            ("TRNAMT", amount),
            ("FITID", f"{day:%Y%m%d}{i:07d}"),
            ("NAME", text[:32].replace("&", "&amp;")),
            ("MEMO", f"POS PURCHASE {i}"),
        ]
        leaves = "".join(f"<{tag}>{value}</{tag}>" if xml else f"<{tag}>{value}\r\n" for tag, value in fields)
        yield f"<STMTTRN>{leaves}</STMTTRN>\r\n"


def write_ofx(path: Path, rows: int, xml: bool) -> Path:
    """A one-account checking statement of `rows` transactions, SGML (1.02) or XML (2.11)."""

    def close(tag: str) -> str:
        return f"</{tag}>" if xml else "\r\n"

    head = (
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0"
        + close("CODE")
        + "<SEVERITY>INFO"
        + close("SEVERITY")
        + "</STATUS><DTSERVER>20260101120000"
        + close("DTSERVER")
        + "<LANGUAGE>ENG"
        + close("LANGUAGE")
        + "</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1"
        + close("TRNUID")
        + "<STATUS><CODE>0"
        + close("CODE")
        + "<SEVERITY>INFO"
        + close("SEVERITY")
        + "</STATUS><STMTRS><CURDEF>USD"
        + close("CURDEF")
        + "<BANKACCTFROM><BANKID>121000248"
        + close("BANKID")
        + "<ACCTID>4000123456"
        + close("ACCTID")
        + "<ACCTTYPE>CHECKING"
        + close("ACCTTYPE")
        + "</BANKACCTFROM><BANKTRANLIST><DTSTART>20200101"
        + close("DTSTART")
        + "<DTEND>20261231"
        + close("DTEND")
        + "\r\n"
    )
    tail = (
        "</BANKTRANLIST><LEDGERBAL><BALAMT>1000.00"
        + close("BALAMT")
        + "<DTASOF>20261231"
        + close("DTASOF")
        + "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")  # a file cut short by ^C is not reused as complete
    with partial.open("w", encoding="ascii", newline="") as out:
        out.write((XML_HEADER if xml else SGML_HEADER) + head)
        out.writelines(_transactions(rows, xml))
        out.write(tail)
    return partial.replace(path)


def data_file(rows: int, xml: bool) -> Path:
    from benchmarks.data import data_file as generated  # that module imports this one

    return generated("xml.ofx" if xml else "sgml.ofx", rows)


Timing = tuple[int, float, float]  # rows, wall seconds, CPU seconds


def time_ours(path: Path) -> Timing:
    from importer.parsers import ParseOptions, parse_file

    wall, cpu = time.perf_counter(), time.process_time()
    count = sum(len(s.transactions) for s in parse_file(path, ParseOptions()))
    return count, time.perf_counter() - wall, time.process_time() - cpu


def time_tree(path: Path) -> Timing:
    """Our reference reader alone: what `parse_file` costs whenever the fast path declines a file."""
    from importer.internals.gcpause import paused_gc
    from importer.parsers import ParseOptions
    from importer.parsers.ofx.reader import reference_statements
    from importer.parsers.ofx.text import decode

    wall, cpu = time.perf_counter(), time.process_time()
    with paused_gc():  # as parse_file does
        count = sum(len(s.transactions) for s in reference_statements(path, decode(path.read_bytes()), ParseOptions()))
    return count, time.perf_counter() - wall, time.process_time() - cpu


def _reference(path: str, queue: multiprocessing.Queue[Timing]) -> None:
    from ofxparse import OfxParser  # type: ignore[import-untyped]  # ofxparse ships no types

    warnings.simplefilter("ignore")
    wall, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as handle:
        document = OfxParser.parse(handle)
    count = sum(len(a.statement.transactions) for a in document.accounts)
    queue.put((count, time.perf_counter() - wall, time.process_time() - cpu))


def time_reference(path: Path, limit: float) -> Timing | None:
    """ofxparse's timing in a child process, or None when it takes longer than `limit` (wall)."""
    queue: multiprocessing.Queue[Timing] = multiprocessing.Queue()
    child = multiprocessing.Process(target=_reference, args=(str(path), queue))
    child.start()
    child.join(limit)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return queue.get() if not queue.empty() else None


def _line(name: str, path: Path, result: Timing | None, limit: float) -> str:
    if result is None:
        return f"{name:<10} {path.name:<24} did not finish within {limit:.0f} s (wall)"
    count, wall, cpu = result
    return (
        f"{name:<10} {path.name:<24} {count:>8} rows {cpu:8.2f} s CPU {count / cpu:>10,.0f} rows/s  ({wall:.2f} s wall)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reference-rows", type=int, default=10_000, help="a smaller size for ofxparse's rate")
    parser.add_argument("--limit", type=float, default=240.0, help="seconds ofxparse may take per file")
    args = parser.parse_args()
    for xml in (False, True):
        big = data_file(args.rows, xml)
        print(_line("ours", big, time_ours(big), args.limit))
        print(_line("tree", big, time_tree(big), args.limit))
        print(_line("ofxparse", big, time_reference(big, args.limit), args.limit))
        small = data_file(args.reference_rows, xml)
        print(_line("ofxparse", small, time_reference(small, args.limit), args.limit))


if __name__ == "__main__":
    main()
