"""Run the parsers over the shared corpus and tabulate: parsed / refused (with reason) / wrong.

    python -m tests.conformance [csv ofx qif camt mt940]

"wrong" means parsed, but the count differs from MANIFEST.csv's expected count, or a file that
upstream expects to be refused was accepted.  Tests call `check()` per file; this table is for
people (and for the issue notes).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, replace

from importer.core.errors import BalanceError, ImporterError
from importer.parsers import ParseOptions, parse_file
from tests.corpus import CorpusFile, corpus_files, corpus_root


@dataclass(frozen=True)
class Result:
    file: CorpusFile
    status: str  # "parsed" | "refused" | "wrong"
    count: int | None
    detail: str


def check(entry: CorpusFile, options: ParseOptions | None = None) -> Result:
    """Parse one corpus file and judge it against the manifest."""
    options = options or ParseOptions()
    try:
        statements = parse_file(entry.path, options)
    except BalanceError as exc:
        # Refused for its balances; the count with the check off shows nothing else is wrong.
        count = sum(len(s.transactions) for s in parse_file(entry.path, replace(options, check_balances=False)))
        wrong = entry.expected_count is not None and count != entry.expected_count
        return Result(
            entry,
            "wrong" if wrong else "refused",
            count,
            "balance: " + str(exc).replace(str(entry.path), entry.relative),
        )
    except ImporterError as exc:
        return Result(entry, "refused", None, str(exc).replace(str(entry.path), entry.relative))
    count = sum(len(s.transactions) for s in statements)
    if entry.must_fail:
        return Result(entry, "wrong", count, "upstream expects this file to be refused")
    if entry.expected_count is not None and count != entry.expected_count:
        return Result(entry, "wrong", count, f"expected {entry.expected_count} transactions")
    return Result(entry, "parsed", count, "")


def table(results: list[Result]) -> str:
    lines = [f"{'status':<8} {'count':>6} {'expect':>6}  file  (reason)"]
    for r in results:
        expect = "" if r.file.expected_count is None else str(r.file.expected_count)
        count = "" if r.count is None else str(r.count)
        lines.append(f"{r.status:<8} {count:>6} {expect:>6}  {r.file.relative}  {r.detail}".rstrip())
    totals = Counter(r.status for r in results)
    lines.append(", ".join(f"{totals[s]} {s}" for s in ("parsed", "refused", "wrong")) + f" of {len(results)}")
    return "\n".join(lines)


# What the table passes for formats whose files do not say it (QIF names no currency or account).
TABLE_OPTIONS: dict[str, tuple[ParseOptions, str]] = {
    "qif": (ParseOptions(currency="USD", account="Imported"), "--currency USD --account Imported"),
}


def main(formats: list[str]) -> int:
    if corpus_root() is None:
        print("conformance corpus not found: set IMPORTER_CORPUS or place it at ../shared/corpus")
        return 0
    for fmt in formats or ["csv", "ofx", "qif", "camt", "mt940"]:
        options, flags = TABLE_OPTIONS.get(fmt, (ParseOptions(), ""))
        print(f"\n== {fmt} ==" + (f" (read with {flags})" if flags else ""))
        print(table([check(entry, options) for entry in corpus_files(fmt)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
