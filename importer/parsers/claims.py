"""Which format a file is, from its first bytes: one cheap test per format, needing no parser.

`identify` (importer/parsers/__init__.py) asks every format whether it claims a file before it
imports any parser, and then imports only the one that does: a CSV import never loads the OFX,
camt, MT940 or QIF readers.  So these tests live here, importing nothing but `re`, and each
reader's `identify` is the same function (one definition; tests/test_startup_imports.py checks the
registry and the readers agree).  The CSV test is not here: whether text is a bank's CSV takes the
profiles and the delimiter sniffing (importer/parsers/csv/identify.py), imported when asked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importer.parsers.base import FileSample

_OFX_MARKERS = (b"OFXHEADER", b"<OFX>", b"<ofx>", b"<?OFX", b"<OFX ")
_MT940_TAG = re.compile(rb"(?m)^(\{1:[^}]*\}.*)?:(20|25|28C|60F|60M|61|62F|62M|64|86|34F):")
_QIF_HEADER = re.compile(rb"^\s*(?:#[^\n]*\n\s*)*!(Type:|Account|Option:|Clear:)", re.IGNORECASE)


def ofx(sample: FileSample) -> bool:
    """An OFX header or root element (SGML or XML) in the head."""
    return any(marker in sample.head for marker in _OFX_MARKERS)


def camt(sample: FileSample) -> bool:
    """An ISO 20022 document of the bank-to-customer (camt.05x) family."""
    head = sample.head
    return b"<Document" in head and (b"camt.05" in head or b"BkToCstmr" in head)


def mt940(sample: FileSample) -> bool:
    """SWIFT field tags at line starts, in a file that is neither XML nor JSON."""
    head = sample.head.lstrip()
    return not head.startswith((b"<", b'{"')) and _MT940_TAG.search(sample.head) is not None


def qif(sample: FileSample) -> bool:
    """A `!Type:`, `!Account`, `!Option:` or `!Clear:` header first (comments and a BOM allowed)."""
    return _QIF_HEADER.match(sample.head.lstrip(b"\xef\xbb\xbf")) is not None
