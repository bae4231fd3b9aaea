"""JSON with exact money: Decimal is written as a JSON number digit for digit, and read back as one.

`json` cannot write a Decimal as a number, and going through float would lose cents
(0.1 + 0.2).  Decimals are written as marked strings first and the marks removed after.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\u00a7dec\u00a7"
_MARKED = re.compile(f'"{_MARK}(-?[0-9.E+-]+)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value}"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(obj: Any) -> bytes:
    """`obj` as compact JSON bytes; Decimal values become exact JSON numbers."""
    text = json.dumps(obj, default=_default, ensure_ascii=False, separators=(",", ":"))
    return _MARKED.sub(r"\1", text).encode() if _MARK in text else text.encode()


def loads(data: bytes | str) -> Any:
    """JSON with every non-integer number read as Decimal."""
    return json.loads(data, parse_float=Decimal)
