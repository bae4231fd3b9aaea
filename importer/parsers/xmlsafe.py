"""Untrusted XML (camt files) parsed safely, and read without caring about namespaces.

A bank file must never make us fetch a URL or expand "billion laughs" entities, so the parser is
defusedxml's: any DTD is refused outright (no camt schema uses one).  Namespaces differ per
ISO 20022 version (camt.053.001.02 ... .08) while the element names stay; they are stripped after
parsing so readers say `find("Stmt")` for every version.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from importer.core.errors import ParseError

# No camt document nests deeper than about 15 elements; a deeper file is an attack or garbage,
# refused before any reader walks it.
MAX_DEPTH = 100


def parse_xml(path: Path, data: bytes) -> tuple[Element, str]:
    """The document's root element with namespaces stripped, and the root's namespace URI.

    Every way the bytes can fail to be a safe XML document is a ParseError naming `path`: not
    well formed (with the line and column the XML parser stopped at, so a cut-off download says
    where it ends), a DTD or entity declaration, or nesting deeper than MAX_DEPTH.
    """
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(
            path,
            f"declares a DTD or entities ({type(exc).__name__}); bank statements never do, and they could "
            "make the reader fetch files or expand without end, so the file is refused.",
        ) from None
    except XmlSyntaxError as exc:
        raise _not_well_formed(path, exc) from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    _strip_namespaces(path, root)
    return root, namespace


def _strip_namespaces(path: Path, root: Element) -> None:
    """Drop every tag's namespace, refusing a tree deeper than MAX_DEPTH on the way (an explicit
    stack: a recursive walk of a hostile file would exhaust Python's)."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(
                path,
                f"nests its XML elements more than {MAX_DEPTH} deep; no bank statement does, so the file is refused.",
                expected=f"at most {MAX_DEPTH} levels",
                found=f"<{_local(element.tag)}> at level {depth}",
            )
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
        stack.extend((child, depth + 1) for child in element)


def _local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def _not_well_formed(path: Path, exc: XmlSyntaxError) -> ParseError:
    """The error for bytes that are not XML: where the parser stopped, and what it found there."""
    line, column = exc.position if exc.position else (None, None)
    reason = str(exc).split(":", 1)[0]  # expat appends "line N, column M", given apart instead
    at = f" at column {column + 1}" if column is not None else ""
    return ParseError(
        path,
        f"is not well-formed XML ({reason}{at}): the file is damaged or was cut off; download it again.",
        line=line,
    )


def text(element: Element | None, path: str) -> str | None:
    """The stripped text at `path` below `element`, or None when absent or empty."""
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None
