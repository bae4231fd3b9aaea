"""OFX bytes to text: the header's CHARSET (1.x) or the XML declaration (2.x), checked against the bytes.

Headers lie ("ENCODING:USASCII" above Latin-1 accents) or are missing.  UTF-8 is tried first
because it fails loudly on anything else; only then the declared 8-bit charset, then cp1252,
which decodes any byte, so a file is never refused for its encoding alone.
"""

from __future__ import annotations

import codecs
import re

_XML_ENCODING = re.compile(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9_.:-]+)[\"']", re.IGNORECASE)
_SGML_CHARSET = re.compile(rb"CHARSET:\s*([A-Za-z0-9_-]+)", re.IGNORECASE)
# OFX 1.x CHARSET values name code pages by number or ISO name.
_CHARSETS = {"1252": "cp1252", "ISO-8859-1": "latin-1", "8859-1": "latin-1", "NONE": "cp1252"}


def decode(data: bytes) -> str:
    """The file as text, with a UTF-8 byte-order mark removed."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(declared_codec(data[:4096]), errors="replace")


def declared_codec(head: bytes) -> str:
    """The 8-bit codec the file's first bytes `head` declare (cp1252 when none or unknown)."""
    match = _XML_ENCODING.search(head) or _SGML_CHARSET.search(head)
    name = match.group(1).decode("ascii").upper() if match else "1252"
    codec = _CHARSETS.get(name, name)
    try:
        codecs.lookup(codec)
    except LookupError:
        return "cp1252"
    return "cp1252" if codec.lower() in {"utf-8", "utf8", "us-ascii", "ascii", "usascii"} else codec
