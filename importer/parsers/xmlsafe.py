"""Untrusted XML (camt files) parsed safely, and read without caring about namespaces.

A bank file must never make us fetch a URL or expand "billion laughs" entities, so the parser is
defusedxml's: any DTD is refused outright (no camt schema uses one).  Namespaces differ per
ISO 20022 version (camt.053.001.02 ... .08) while the element names stay; they are stripped after
parsing so readers say `find("Stmt")` for every version.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, ParseError as XmlSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from importer.errors import ParseError


def parse_xml(path: Path, data: bytes) -> tuple[Element, str]:
    """The document's root element with namespaces stripped, and the root's namespace URI."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(
            path,
            f"declares a DTD or entities ({type(exc).__name__}); bank statements never do, and they could "
            "make the reader fetch files or expand without end, so the file is refused.",
        ) from None
    except XmlSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        reason = str(exc).split(":", 1)[0]  # expat appends "line N, column M", given as line= instead
        raise ParseError(path, f"is not well-formed XML ({reason}).", line=line) from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root, namespace


def text(element: Element | None, path: str) -> str | None:
    """The stripped text at `path` below `element`, or None when absent or empty."""
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None
