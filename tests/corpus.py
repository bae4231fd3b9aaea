"""The shared conformance corpus (../shared/corpus or $IMPORTER_CORPUS), read in place.

Never copied into the project.  Tests that use it skip with a message where it is absent.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.golden import ROOT


@dataclass(frozen=True)
class CorpusFile:
    """One MANIFEST.csv row."""

    path: Path
    relative: str
    format: str
    bank: str
    encoding: str
    expected_count: int | None
    facts: str
    quirks: str

    @property
    def must_fail(self) -> bool:
        """Upstream expects this file to be refused."""
        text = self.facts.lower()
        if "fail-soft" in text and "discarded" not in text:
            # ofxparse's strict mode raises over a blank balance, yet its lenient mode keeps every
            # transaction: nothing is lost, so reading the file is right.
            return False
        return any(mark in text for mark in ("parse must fail", "expected to fail", "strict parse raises"))


# Counts in MANIFEST.csv that reading the file shows to be wrong: path -> (count, why).
MANIFEST_ERRATA: dict[str, tuple[int, str]] = {
    "qif/quiffen/test_transaction_before_account_definition_1.qif": (
        2,
        "quiffen's test counts accounts; 2 transactions",
    ),
    "qif/quiffen/test_transaction_before_account_definition_2.qif": (
        2,
        "quiffen's test counts accounts; 2 transactions",
    ),
}


def corpus_root() -> Path | None:
    candidate = Path(os.environ.get("IMPORTER_CORPUS", ROOT.parent / "shared" / "corpus"))
    return candidate if (candidate / "MANIFEST.csv").is_file() else None


def corpus_files(fmt: str) -> list[CorpusFile]:
    """Every corpus file of format `fmt` ("csv", "ofx", "qif", "camt", "mt940"); [] when absent."""
    root = corpus_root()
    if root is None:
        return []
    with (root / "MANIFEST.csv").open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["format"] == fmt]
    return [_entry(root, row) for row in rows]


def _entry(root: Path, row: dict[str, str]) -> CorpusFile:
    count = row["expected_txn_count"].strip()
    if row["path"] in MANIFEST_ERRATA:
        count = str(MANIFEST_ERRATA[row["path"]][0])
    return CorpusFile(
        path=root / row["path"],
        relative=row["path"],
        format=row["format"],
        bank=row["bank_or_origin"],
        encoding=row["encoding_guess"],
        expected_count=int(count) if count else None,
        facts=row["expected_facts"],
        quirks=row["quirks"],
    )


def corpus_params(fmt: str) -> list[object]:
    """pytest parameters over the corpus files of `fmt`, or one skipped parameter when absent."""
    files = corpus_files(fmt)
    if not files:
        reason = "conformance corpus not found: set IMPORTER_CORPUS or place it at ../shared/corpus"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    return [pytest.param(f, id=f.relative) for f in files]
