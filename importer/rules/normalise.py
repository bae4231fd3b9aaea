"""A payee's name as people group it: "STARBUCKS STORE 05512 SAN FRANCISCO CA" → "STARBUCKS STORE".

Banks decorate the same payee with store numbers, references, dates and card numbers; words
holding a digit are dropped and the first two remaining words kept, which groups those lines
together while keeping "TRADER JOE'S" apart from "TRADER VIC'S".
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
    words = [w.strip(".-/'") for w in head.split() if _WORD.fullmatch(w) and not any(c.isdigit() for c in w)]
    words = [w for w in words if len(w) > 1] or [w for w in head.split()][:1]
    return " ".join(words[:_KEPT_WORDS]).upper()
