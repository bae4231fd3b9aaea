"""Whether a file is a CSV statement, from its first 64 KiB.

Plain text with commas in it is not evidence enough: QIF, MT940 and OFX files are text too,
and exactly one parser may claim a file.  We claim a file when a bank profile's header is in
it, or when a delimiter splits many lines into the same number of fields and among those
fields one column holds dates and another holds amounts.  Files that announce another format
(OFXHEADER, <OFX>, <?xml, !Type, :20:, {1:) are never ours.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable

from importer.core.errors import InputError
from importer.parsers.base import HEAD_BYTES, FileSample
from importer.parsers.csv.detect import match_profile
from importer.parsers.csv.table import DATE_LIKE, is_header, sniff_delimiter
from importer.parsers.csv.text import detect_encoding, looks_binary
from importer.parsers.numbers import is_number_shaped

TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".ssv", ".dat"}
_FOREIGN = re.compile(
    rb"^\s*(OFXHEADER|<OFX|<\?xml|<Document|!Type|!Account|!Option|!Clear|\{1:|:20:|:940:)", re.IGNORECASE
)
_MT940_LINE = re.compile(rb"^:(20|25|28C?|60[FM]|61|62[FM]|86):", re.MULTILINE)
MIN_SHARE = 0.6  # of a column's cells that must look like dates (or amounts)


def claims(sample: FileSample) -> bool:
    """True when `sample` is a delimited statement (see the module docstring)."""
    head = sample.head
    if _foreign(head):
        return False
    suffix = sample.path.suffix.lower()
    if sample.options.profile is not None:
        return suffix in TEXT_SUFFIXES
    if not head.strip() or _binary(head):
        # Ours to refuse with a clear message: nobody else reads an empty or binary ".csv".
        return suffix in {".csv", ".tsv"}
    text = _head_text(sample)
    return text is not None and (_profile_match(text, sample) or tabular_evidence(text))


def _foreign(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00")[:256].replace(b"\x00", b"")
    return bool(_FOREIGN.match(start)) or len(_MT940_LINE.findall(head[:4096])) >= 2


def _binary(head: bytes) -> bool:
    try:
        detect_encoding(__import__("pathlib").Path("."), head)
        return False
    except InputError:
        return looks_binary(head)


def _head_text(sample: FileSample) -> str | None:
    head = sample.head
    if len(head) >= HEAD_BYTES:  # the last line may be cut in half
        head = head[: head.rfind(b"\n") + 1] or head
    try:
        encoding = detect_encoding(sample.path, head)
        return head.decode(encoding, errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    except (InputError, LookupError):
        return None


def _profile_match(text: str, sample: FileSample) -> bool:

    try:
        return match_profile(text, sample.options.profile_dirs) is not None
    except Exception:  # a broken user profile is reported by parse, not by identify
        return False


def tabular_evidence(text: str) -> bool:
    """A consistent delimiter over the table's lines, a date column and an amount column."""
    delimiter, _run, width = sniff_delimiter(text)
    rows = [row for row in _rows(text, delimiter) if len(row) == width]
    if width < 2 or len(rows) < min(3, len(_rows(text, delimiter))):
        return False
    if len(rows) > 1 and is_header(rows[0]):
        rows = rows[1:]
    columns = list(zip(*rows))
    dates = [i for i, col in enumerate(columns) if _share(col, lambda v: bool(DATE_LIKE.match(v))) >= MIN_SHARE]
    amounts = [i for i, col in enumerate(columns) if i not in dates and _share(col, _amount_like) >= MIN_SHARE]
    return bool(dates) and bool(amounts)


def _rows(text: str, delimiter: str) -> list[list[str]]:
    # Line by line, so one unclosed quote cannot swallow the rest of the sample.
    rows = []
    for line in text.split("\n"):
        try:
            row = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if row:
            rows.append(row)
    return rows


def _share(column: tuple[str, ...], test: Callable[[str], object]) -> float:
    values = [v.strip() for v in column if v.strip()]
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _amount_like(value: str) -> bool:
    return is_number_shaped(value)
