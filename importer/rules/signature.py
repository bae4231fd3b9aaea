"""Which of the rules' literals a text contains, for a whole column at once: its signature.

Every `contains` test on a field is decided by which of its needles occur in the folded text, and
every other text test with literals (see conditions.py `requirement`) fails when none of them
occur.  So rows whose texts hold the same literals get the same answers from all of them: the
signature (one character per literal found, sorted) is the text part of the batch key.

Bank descriptions are nearly all distinct, but mostly through their digits (store numbers,
references, dates).  A literal without ASCII digits occurs in a text exactly when it occurs in
the same text with every digit made "0" (it cannot overlap a digit, and "0" cannot be part of
it), so each distinct *digit-blind* text is scanned once.  A literal with digits is found through
a digit-free piece of it (its proxy) and then confirmed in the row's own text.  Folding, blinding
and splitting run over the joined column in a few C-level passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import cast

import ahocorasick  # type: ignore[import-not-found]  # ships no type stubs

from importer.rules.fold import fold

_SEP = "\0"
SCANS_KEPT = 100_000  # distinct digit-blind texts remembered across batches, at most
_BLIND = bytes.maketrans(b"123456789", b"000000000")
_BLIND_FOLD = bytes.maketrans(b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"000000000abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
Scanned = str | tuple[str, tuple[str, ...]]  # a signature, or one with literals to confirm (`_confirm`)


class Signer:
    """Signatures of texts against a fixed set of folded literals (the keywords of one field)."""

    def __init__(self, keywords: Iterable[str]) -> None:
        words = sorted({word for word in keywords if word})
        self.mark = {word: _mark(i) for i, word in enumerate(words)}
        entries: dict[str, tuple[str, tuple[str, ...]]] = {}
        for word in words:
            if _DIGITS.isdisjoint(word):
                entries[word] = (self.mark[word], entries.get(word, ("", ()))[1])
            else:
                mark, confirm = entries.get(_proxy(word), ("", ()))
                entries[_proxy(word)] = (mark, (*confirm, word))
        # Scans of digit-blind texts kept from one batch to the next: a statement's merchants recur.
        self.seen: dict[bytes, Scanned] = {}
        self.automaton = ahocorasick.Automaton()
        for word, entry in entries.items():
            self.automaton.add_word(word, entry)
        if entries:
            self.automaton.make_automaton()

    def signatures(self, texts: Sequence[str]) -> list[str]:
        """The signature of each text (a sorted string of literal marks; "" when none occur)."""
        blind = _blinded(texts)
        if len(self.seen) > SCANS_KEPT:
            self.seen.clear()
        distinct = set(blind)
        known: dict[bytes, Scanned | None] = dict(zip(distinct, map(self.seen.get, distinct)))  # most seen before
        for text in [text for text, sig in known.items() if sig is None]:
            known[text] = self.seen[text] = self._scan(text.decode())
        found = cast(dict[bytes, Scanned], known)  # every None was just replaced
        sigs: list[Scanned] = list(map(found.__getitem__, blind))
        if any(isinstance(entry, tuple) for entry in found.values()):
            for i, entry in enumerate(sigs):
                if isinstance(entry, tuple):
                    sigs[i] = self._confirm(entry, texts[i])
        return sigs  # type: ignore[return-value]

    def _scan(self, blind: str) -> Scanned:
        marks: set[str] = set()
        confirm: set[str] = set()
        if self.mark:
            for _, (mark, words) in self.automaton.iter(blind):
                marks.add(mark)
                confirm.update(words)
        marks.discard("")
        sig = "".join(sorted(marks))
        return (sig, tuple(confirm)) if confirm else sig

    def _confirm(self, entry: tuple[str, tuple[str, ...]], text: str) -> str:
        # A proxy was seen: the literals with digits it stands for are looked up in the real text.
        sig, words = entry
        folded = fold(text)
        return "".join(sorted({*sig, *(self.mark[word] for word in words if word in folded)}))


def _blinded(texts: Sequence[str]) -> list[bytes]:
    """Each text folded, as UTF-8, with every ASCII digit made "0"."""
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1:  # a text holds the separator itself: one at a time
        return [fold(text).encode().translate(_BLIND) for text in texts]
    if joined.isascii():  # ASCII folding is lower(), done by the same byte table as the digits
        return joined.encode().translate(_BLIND_FOLD).split(_SEP.encode())
    # Folding the joined column equals folding each text: "\0" is neither cased nor case-ignorable,
    # so it also ends the context that str.lower() looks at for a final sigma.
    return fold(joined).encode().translate(_BLIND).split(_SEP.encode())


def _proxy(word: str) -> str:
    """The longest digit-free piece of `word`; "0" (what any digit becomes) when it is all digits."""
    return max(re.split("[0-9]", word), key=len) or "0"


def _mark(index: int) -> str:
    # One character per literal; surrogates are skipped so every mark is a valid code point.
    code = index + 1
    return chr(code if code < 0xD800 else code + 0x800)
