"""A payee's name as people group it: "STARBUCKS STORE 05512 SAN FRANCISCO CA" → "STARBUCKS STORE".

Banks decorate the same payee with store numbers, references, cities, dates and card numbers:
the name is cut at the first word holding a digit (or a `*`, `#`, `//`), and its first two words
kept, which groups those lines together while keeping "TRADER JOE'S" apart from "TRADER VIC'S".
"""

from __future__ import annotations

import re

from importer.models import Transaction

_WORD = re.compile(r"[^\W\d_][\w&'.\-/]*", re.UNICODE)
_CUT = re.compile(r"[*#]|//")  # what follows a star, hash or double slash is a reference
_KEPT_WORDS = 2


def payee_key(txn: Transaction) -> str:
    """The normalised payee of `txn`: its payee when the bank gave one, else its description."""
    return normalise_payee(txn.payee or txn.description)


def normalise_payee(text: str) -> str:
    head = _CUT.split(text, maxsplit=1)[0] or text
    words: list[str] = []
    for word in head.split():
        if any(map(str.isdigit, word)):
            break
        if _WORD.fullmatch(word) and len(word.strip(".-/'")) > 1:
            words.append(word.strip(".-/'"))
    return " ".join(words[:_KEPT_WORDS] or head.split()[:1]).upper()
