"""The generated statements under benchmarks/data/ (git-ignored): written once, streaming, reused after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks import generate, ofx_bench

DATA = Path(__file__).parent / "data"
WRITERS: dict[str, Callable[[Path, int], Path]] = {
    "chase.csv": generate.write_chase_csv,
    "sparkasse.csv": generate.write_sparkasse_csv,
    "debit-credit.csv": generate.write_debit_credit_csv,
    "sgml.ofx": lambda path, rows: ofx_bench.write_ofx(path, rows, xml=False),
    "xml.ofx": lambda path, rows: ofx_bench.write_ofx(path, rows, xml=True),
}
# Statements only some stages read (no parse job of their own): the upload's, whose dates are all past.
TWINS: dict[str, Callable[[Path, int], Path]] = {"chase-past.csv": generate.write_past_chase_csv}


def data_file(kind: str, rows: int, folder: Path = DATA) -> Path:
    """The `kind` statement (a WRITERS or TWINS key) of `rows` rows, generated when missing.

    The generator's version is in the name, so a file written by an older generator is never
    taken for the current one (nor compared with a figure measured on it).
    """
    stem, suffix = kind.rsplit(".", 1)
    path = folder / f"{stem}-{rows}-g{generate.VERSION}.{suffix}"
    return path if path.exists() else {**WRITERS, **TWINS}[kind](path, rows)
