"""Golden files for the parsers: `samples/<path>` is pinned by `tests/golden/<path>.jsonl`.

Write missing golden files with `python -m tests.golden`; it refuses to overwrite an existing
one (delete it first, after reviewing why the output changed).  The tests compare all and only
the transactions, and print a unified diff on mismatch.
"""

from __future__ import annotations

import difflib
import io
import sys
from pathlib import Path

from importer.config.settings import load_config
from importer.parsers import ParseOptions, parse_file
from importer.reports.output import write_jsonl
from importer.rules import RuleSet
from importer.run.pipeline import prepare, statement_files

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
GOLDEN = ROOT / "tests" / "golden"
SAMPLES_CURRENCY = load_config(ROOT / "importer.yaml").currency


def sample_files() -> list[Path]:
    return statement_files([SAMPLES])


def golden_path(sample: Path) -> Path:
    return GOLDEN / (str(sample.relative_to(SAMPLES)) + ".jsonl")


def render(sample: Path) -> str:
    """The parser's view of `sample`: no rules, ids assigned, paths relative to the repo."""
    relative = sample.relative_to(ROOT)
    out = io.StringIO()
    # The currency the repository's importer.yaml gives files that name none (the QIF sample).
    for statement in parse_file(relative, ParseOptions(default_currency=SAMPLES_CURRENCY)):
        write_jsonl(prepare(statement, RuleSet([])), out)
    return out.getvalue()


def diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), f"golden/{name}", "parsed")
    return "".join(lines)


def main() -> int:
    import os

    os.chdir(ROOT)
    written = 0
    for sample in sample_files():
        target = golden_path(sample)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(sample), encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
        written += 1
    print(f"{written} golden file(s) written; existing ones are never overwritten.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
