"""A payee's name as people group it: "STARBUCKS STORE 05512 SAN FRANCISCO CA" → "STARBUCKS STORE".

Banks decorate the same payee with booking types, store numbers, references, cities, dates and
card numbers.  Known booking types are taken off the front ("POINT OF SALE PURCHASE",
"FACTURE CARTE DU 06/10", "Kartenzahlung", "PRLV SEPA", ...) and the back ("D/D", "DIRECT
DEBIT"): they name how money moved, not to whom, and grouping by them puts a supermarket and a
utility into one suggestion.  Then the name is cut at the first word holding a digit (or a `*`,
`#`, `//`), and its first two words kept, which groups those lines together while keeping
"TRADER JOE'S" apart from "TRADER VIC'S".

`PayeeKeys` is the batch form the import's report counts with, across a file's batches: a
statement's lines differ mostly in their digits, and the merchant never holds one, so it is
worked out once per distinct text with every ASCII digit made "0" (see `_DIGIT_BLIND`);
`normalise_payee` stays the reference (tests/test_rules_normalise.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from importer.core.models import Transaction

_WORD = re.compile(r"[^\W\d_][\w&'.\-/]*", re.UNICODE)
_CUT = re.compile(r"[*#]|//")  # what follows a star, hash or double slash is a reference
_KEPT_WORDS = 2
# Booking types that open a bank line, longest first within a family, one alternative per line.
_PREFIXES = [
    r"point of sale(?: purchase| debit)?",
    r"point of",
    r"pos(?: purchase| debit)?",
    r"pre-?authori[sz]ed debit",
    r"purchase authori[sz]ed on \d\d/\d\d",
    r"debit card purchase",
    r"checkcard \d+",
    r"card payment to",
    r"card payment",
    r"card transaction of [\d.,]+ \w{3} issued by",
    r"contactless(?: payment)?",
    r"direct debit(?: to)?",
    r"bill pay(?:ment)?",
    r"internet bill pay",
    r"facture carte(?: du \d\d/\d\d)?",
    r"paiement par carte",
    r"carte x?\d+",
    r"cb",
    r"prlv sepa",
    r"prlv",
    r"vir sepa(?: recu| emis)?(?: /de)?",
    r"vir(?:ement)?",
    r"sepa[- ]lastschrift",
    r"basislastschrift",
    r"folgelastschrift",
    r"erstlastschrift",
    r"lastschrift",
    r"kartenzahlung",
    r"bargeldauszahlung",
    r"(?:online-|sepa[- ])?(?:überweisung|ueberweisung)",
    r"gutschrift",
    r"dauerauftrag",
    r"bea,? betaalpas",
    r"betaalpas",
    r"bea",
    r"ideal",
    r"incasso",
    r"compra",
    r"recibo",
    r"e-transfer sent",
]
_SUFFIXES = [r"d/d", r"dd", r"direct debit", r"sto", r"bgc", r"fpo", r"fpi"]
_PREFIX = re.compile(r"^\s*(?:" + "|".join(_PREFIXES) + r")\b[\s,:/-]*", re.IGNORECASE)
_SUFFIX = re.compile(r"[\s,]+(?:" + "|".join(_SUFFIXES) + r")\s*$", re.IGNORECASE)
# `merchant` gives the same for a text and for the text with each ASCII digit made "0" (its
# digit-blind twin): every pattern above sees a digit as `\d`/`\w` whichever it is, a word with a
# digit cuts the name whichever digit, and the words kept hold none.
_DIGIT_BLIND = bytes.maketrans(b"123456789", b"000000000")
_SEP = "\0"


def payee_key(txn: Transaction, description_first: bool = False) -> str:
    """The merchant of `txn`: from its payee when the bank gave one, else its description, else its
    memo (a European export may hold only the booking type in the description).  For stored
    history, `description_first`: a rule may have rewritten the payee there."""
    first = (txn.description, txn.payee) if description_first else (txn.payee, txn.description)
    for text in (*first, txn.memo):
        key = merchant(text or "")
        if key:
            return key
    return normalise_payee(txn.description)


def normalise_payee(text: str) -> str:
    """`merchant(text)`, or when `text` is nothing but a booking type, its first word."""
    return merchant(text) or _first_word(text)


def normalise_payees(texts: Iterable[str]) -> list[str]:
    """`normalise_payee` of each text, the merchant worked out once per distinct digit-blind text."""
    return PayeeKeys().of(texts)


class PayeeKeys:
    """`normalise_payees` over the batches of one file: its merchants recur from batch to batch,
    so what was worked out is kept for the next, up to `KEPT` texts (past that it starts over).
    Owned by the file's import and dropped with it, so nothing outlives the file."""

    KEPT = 100_000

    def __init__(self) -> None:
        self.merchants: dict[str, str] = {}

    def of(self, texts: Iterable[str]) -> list[str]:
        """The report key of each text, equal to `normalise_payee(text)`."""
        if len(self.merchants) > self.KEPT:
            self.merchants.clear()
        texts = list(texts)
        merchants, keys = self.merchants, []
        for text, blind in zip(texts, _digit_blind(texts)):
            found = merchants.get(blind)
            if found is None:
                found = merchants[blind] = merchant(blind)
            keys.append(found or _first_word(text))  # the fallback may hold digits: from the text itself
        return keys


def _digit_blind(texts: list[str]) -> list[str]:
    """Each text with every ASCII digit made "0", in a few C-level passes over the joined texts
    (`str.translate` takes about as long per text as the merchant itself)."""
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1:  # a text holds the separator: one at a time
        return list(map(_blind, texts))
    return _blind(joined).split(_SEP)


def _blind(text: str) -> str:
    # In UTF-8 no byte of another character is an ASCII digit: the table changes the digits only.
    return text.encode("utf-8", "surrogatepass").translate(_DIGIT_BLIND).decode("utf-8", "surrogatepass")


def _first_word(text: str) -> str:
    return " ".join(text.split()[:1]).upper()


def merchant(text: str) -> str:
    """The merchant named in `text`, upper case; "" when it names none (only a booking type)."""
    head = _CUT.split(_strip_booking(text), maxsplit=1)[0]
    words: list[str] = []
    for word in head.split():
        if any(map(str.isdigit, word)):
            break
        kept = word.strip(".-/'")
        if len(kept) > 1 and _WORD.fullmatch(word):
            words.append(kept)
            if len(words) == _KEPT_WORDS:  # the words after these are never shown
                break
    return " ".join(words).upper()


def _strip_booking(text: str) -> str:
    before = None
    while before != text:  # "VIR SEPA RECU" then "/DE": types nest, so strip until nothing changes
        before, text = text, _SUFFIX.sub("", _PREFIX.sub("", text, count=1))
    return text
