"""Bytes of a delimited export to text: encoding and line endings, decided over the whole file.

Banks write UTF-8 with and without a byte-order mark, UTF-16 and UTF-32 with or without one
(Excel "Unicode text"; without a mark they show by their NUL bytes), Windows
code pages (cp1252 in western Europe, cp1250 in central Europe, cp1251 in Russia) and
latin-1.  Strict UTF-8 is tried first because it almost never decodes text written in another
encoding; otherwise charset-normalizer picks among the single-byte code pages.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from importer.core.errors import InputError, ParseError
from importer.parsers.base import ParseOptions, read_statement

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Single-byte code pages charset-normalizer may name that we accept as they are.
_CODE_PAGES = {
    "cp1250",
    "cp1251",
    "cp1252",
    "cp1253",
    "cp1254",
    "cp1257",
    "latin_1",
    "iso8859_2",
    "iso8859_5",
    "iso8859_15",
    "koi8_r",
    "mac_cyrillic",
    "cp866",
}


@dataclass(frozen=True)
class DecodedText:
    """A file's text with newlines normalised to "\\n", and how it was found."""

    text: str
    encoding: str
    line_endings: str  # "LF", "CRLF", "CR", "mixed" or "none"


def read_text(path: Path, options: ParseOptions, encoding: str = "auto", data: bytes | None = None) -> DecodedText:
    """The whole file as text; an error for empty, binary or undecodable files.

    A profile's `encoding` names the code page of 8-bit text; it does not override a file that is
    plainly UTF-16 or UTF-32 (a byte-order mark, or the NUL bytes of wide ASCII), which read as
    UTF-8 would be NULs between letters and match no header.
    """
    data = read_statement(path, options) if data is None else data  # given: the bytes a stream already read
    if not data.strip():
        raise InputError(path, "the file is empty: there is no table to read.")
    wide = _wide_encoding(data)
    name = detect_encoding(path, data) if encoding == "auto" else wide or python_encoding(encoding)
    text = _decode(path, data, name)
    return DecodedText(text=_normalise_newlines(text), encoding=name, line_endings=line_endings(text))


def python_encoding(name: str) -> str:
    # utf-8-sig reads both plain UTF-8 and UTF-8 with a byte-order mark.
    return "utf-8-sig" if name.lower().replace("_", "-") in {"utf-8", "utf8"} else name


def read_again(
    path: Path, options: ParseOptions, text: DecodedText, encoding: str, data: bytes | None = None
) -> DecodedText:
    """`read_text(path, encoding)` for a file already read as `text`: the same text under the new
    name when the codec is the one detection found, so the file is decoded once, not twice."""
    name = python_encoding(encoding)
    if _codec(name) == _codec(text.encoding) or (name == "utf-8-sig" and text.encoding == "utf-8"):
        return DecodedText(text=text.text, encoding=name, line_endings=text.line_endings)  # no BOM: detection saw none
    return read_text(path, options, encoding, data)


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def detect_encoding(path: Path, data: bytes) -> str:
    """The encoding of `data`; refuses binary files."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    wide = _wide_encoding(data)
    if wide:
        return wide
    if looks_binary(data):
        raise InputError(
            path, "is a binary file, not delimited text (a spreadsheet or a PDF?). Export the statement as CSV."
        )
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return _single_byte(data)


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters, in the first 8 KiB."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return controls > len(head) // 50


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32 from a byte-order mark, or from where the NUL bytes fall; else None."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return _bomless_utf32(data) or _bomless_utf16(data)


def _bomless_utf32(data: bytes) -> str | None:
    # Text of the Basic Multilingual Plane in UTF-32 has two NUL bytes in every four.
    head = data[: 4096 - 4096 % 4]
    if len(head) < 8:
        return None
    full = [head[lane::4].count(0) == len(head[lane::4]) for lane in range(4)]
    if full[2] and full[3] and not full[0]:
        return "utf-32-le"
    if full[0] and full[1] and not full[3]:
        return "utf-32-be"
    return None


def _bomless_utf16(data: bytes) -> str | None:
    # ASCII text in UTF-16 has a NUL in every other byte.
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > len(head) * 0.4 and even == 0:
        return "utf-16-le"
    if even > len(head) * 0.4 and odd == 0:
        return "utf-16-be"
    return None


def _single_byte(data: bytes) -> str:
    best = from_bytes(data[:200_000], cp_isolation=sorted(_CODE_PAGES)).best()
    if best is None or best.encoding not in _CODE_PAGES:
        return "cp1252"
    # German or French text reads the same in cp1250 and cp1252; the western page is the likelier.
    if best.encoding != "cp1252" and _same_text(data, best.encoding, "cp1252"):
        return "cp1252"
    return best.encoding


def _same_text(data: bytes, first: str, second: str) -> bool:
    try:
        return data.decode(first) == data.decode(second)
    except UnicodeDecodeError:
        return False


def _decode(path: Path, data: bytes, name: str) -> str:
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        if name == "cp1252":  # five byte values are undefined in cp1252 but not in latin-1
            return data.decode("latin-1")
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            path,
            f"is not valid {name} text.",
            line=line,
            expected=f"text in {name} (set encoding: in the profile)",
            found=data[exc.start : exc.start + 8].hex(" "),
        ) from None
    except LookupError:
        raise ParseError(path, f"names an unknown text encoding {name!r}.") from None


def line_endings(text: str) -> str:
    crlf = text.count("\r\n")
    cr, lf = text.count("\r") - crlf, text.count("\n") - crlf
    kinds = [name for name, count in (("CRLF", crlf), ("CR", cr), ("LF", lf)) if count]
    return kinds[0] if len(kinds) == 1 else ("none" if not kinds else "mixed")


def _normalise_newlines(text: str) -> str:
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")
