"""Which form an OFX file has (1.x SGML or 2.x XML), and the XML checks an OFX 2.x file must pass.

An OFX 2.x file must be well-formed XML without a DTD, so no entity can expand: a reader that
took it loosely could read a damaged file to wrong values.  `XmlCheck` runs expat over the text
as it is read, so the streaming reader checks the file without holding it; it keeps the first
fault and says it when asked (`raise_fault`), because the readers report a damaged structure or a
cut-off file before a fault of XML form (that is the order the reference reader checks in).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from pathlib import Path

from importer.core.errors import ParseError

_XML_DECLARATION = re.compile(r"\s*<\?xml", re.IGNORECASE)
# The first leaf holding text, and the tag after it: a closing tag of the same name marks OFX 2.x.
_FIRST_LEAF = re.compile(
    r"<([A-Za-z][A-Za-z0-9_.]*)>\s*[^<\s][^<]*<(/?[A-Za-z][A-Za-z0-9_.]*)"
)  # linear: \s and [^<\s] never overlap


def is_xml(text: str) -> bool:
    """OFX 2.x: an XML declaration and closed leaves.  Some banks (ANZ) put the declaration above
    an SGML body with open leaves; that body is read as SGML, as they meant it."""
    leaf = _FIRST_LEAF.search(text) if _XML_DECLARATION.match(text) else None
    return leaf is not None and leaf.group(2) == "/" + leaf.group(1)


def check_xml(path: Path, text: str) -> None:
    """A ParseError unless `text` is well-formed XML without a DTD (hence without entities to expand)."""
    check = XmlCheck(path)
    check.feed(text, final=True)
    check.raise_fault()


class XmlCheck:
    """`check_xml` over a text given piece by piece."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._parser = xml.parsers.expat.ParserCreate()
        self._parser.StartDoctypeDeclHandler = _refuse_dtd
        self._fault: ParseError | None = None

    def feed(self, text: str, final: bool = False) -> None:
        """The next piece of the text (`final`: the last); a fault is kept, and the rest not read."""
        if self._fault is not None:
            return
        try:
            self._parser.Parse(text, final)
        except _Dtd:
            self._fault = ParseError(
                self._path,
                "declares a DTD; OFX files never do, and its entities could make a reader fetch files or expand "
                "without end, so the file is refused.",
            )
        except xml.parsers.expat.ExpatError as error:
            self._fault = _malformed(self._path, error)

    def raise_fault(self) -> None:
        if self._fault is not None:
            raise self._fault


def _malformed(path: Path, error: xml.parsers.expat.ExpatError) -> ParseError:
    reason = xml.parsers.expat.errors.messages[error.code]
    return ParseError(
        path,
        f"is not well-formed XML ({reason} at column {error.offset + 1}); an OFX 2.x file must be. Download it again.",
        line=error.lineno,
    )


class _Dtd(Exception):
    """The XML declares a document type."""


def _refuse_dtd(*_: object) -> None:
    raise _Dtd
