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
from itertools import compress, repeat
from operator import is_

import ahocorasick  # type: ignore[import-not-found]  # ships no type stubs

from importer.rules.fold import fold
from importer.rules.literals import required_literals

_SEP = "\0"
SCANS_KEPT = 100_000  # distinct digit-blind texts remembered across batches, at most
_BLIND = bytes.maketrans(b"123456789", b"000000000")
_BLIND_FOLD = bytes.maketrans(b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"000000000abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
Scanned = str | tuple[str, tuple[str, ...]]  # a signature, or one with literals to confirm (`_confirm`)
Entry = tuple[str, tuple[str, ...], tuple[int, ...]]  # a literal's mark, literals to confirm, regexes to try


class Signer:
    """Signatures of texts against a fixed set of folded literals (the keywords of one field), and
    of the field's digit-blind regexes (literals.py `digit_blind`): a regex's mark is in the
    signature of an ASCII text when the regex matches it, so a signature decides the regex too.
    A text that is not ASCII gets the `unsure` mark instead, which no ASCII text's signature holds,
    and its regexes are left to be run on the row itself (plans.py `Batch.known`)."""

    def __init__(self, keywords: Iterable[str], patterns: Sequence[re.Pattern[str]] = ()) -> None:
        words = sorted({word for word in keywords if word})
        self.mark = {word: _mark(i) for i, word in enumerate(words)}
        self.patterns = tuple((pattern, _mark(len(words) + i)) for i, pattern in enumerate(patterns))
        self.unsure = _mark(len(words) + len(patterns))  # the highest mark: it sorts last
        entries: dict[str, Entry] = {}
        for word in words:
            if _DIGITS.isdisjoint(word):
                entries[word] = (self.mark[word], *_entry(entries, word)[1:])
            else:
                mark, confirm, tried = _entry(entries, _proxy(word))
                entries[_proxy(word)] = (mark, (*confirm, word), tried)
        self.always = _add_triggers(entries, patterns)  # regexes with no literal: tried on every text
        # Scans of digit-blind texts kept from one batch to the next: a statement's merchants recur.
        self.seen: dict[bytes, Scanned] = {}
        self.confirms = any(confirm for _, confirm, _ in entries.values())  # a literal with digits
        self.automaton = ahocorasick.Automaton()
        for word, entry in entries.items():
            self.automaton.add_word(word, entry)
        self.scans = bool(entries)
        if entries:
            self.automaton.make_automaton()

    def forget(self) -> None:
        """Drop the scans kept so far (see `RuleSet.forget`)."""
        self.seen.clear()

    def signatures(self, texts: Sequence[str]) -> list[str]:
        """The signature of each text (a sorted string of literal marks; "" when none occur)."""
        blind, ascii_only = _blinded(texts)
        if len(self.seen) > SCANS_KEPT:
            self.seen.clear()
        # Most digit-blind texts were scanned in an earlier batch: one C-level lookup per row.
        sigs: list[Scanned | None] = list(map(self.seen.get, blind))
        if None in sigs:
            self._scan_new(blind, sigs)
        if self.confirms:
            for i in compress(range(len(sigs)), map(isinstance, sigs, repeat(tuple))):
                sigs[i] = self._confirm(sigs[i], texts[i])  # type: ignore[arg-type]  # a tuple: just checked
        if self.patterns and not ascii_only:
            for i in [i for i, text in enumerate(texts) if not text.isascii()]:
                sigs[i] = f"{sigs[i]}{self.unsure}"
        return sigs  # type: ignore[return-value]  # every None was filled in, every tuple confirmed

    def _scan_new(self, blind: list[bytes], sigs: list[Scanned | None]) -> None:
        """Fill in the signatures of the texts not seen before, scanning each distinct one once."""
        seen, rows = self.seen, list(compress(range(len(sigs)), map(is_, sigs, repeat(None))))
        texts = list(map(blind.__getitem__, rows))
        for text in dict.fromkeys(texts):  # each new distinct text, in C; none is in `seen` yet
            seen[text] = self._scan(text.decode())
        list(map(sigs.__setitem__, rows, map(seen.__getitem__, texts)))  # scattered back in one C pass

    def _scan(self, blind: str) -> Scanned:
        marks: list[str] = []
        confirm: list[str] = []
        tried = self.always
        if self.scans:
            for _, (mark, words, patterns) in self.automaton.iter(blind):
                if mark:
                    marks.append(mark)
                confirm += words
                if patterns:
                    tried = [*tried, *patterns]
        if tried and blind.isascii():
            for i in set(tried) if len(tried) > 1 else tried:
                pattern, mark = self.patterns[i]
                if pattern.search(blind):
                    marks.append(mark)
        sig = marks[0] if len(marks) == 1 else "".join(sorted(set(marks)))
        return (sig, tuple(set(confirm))) if confirm else sig

    def _confirm(self, entry: tuple[str, tuple[str, ...]], text: str) -> str:
        # A proxy was seen: the literals with digits it stands for are looked up in the real text.
        sig, words = entry
        folded = fold(text)
        return "".join(sorted({*sig, *(self.mark[word] for word in words if word in folded)}))


def _blinded(texts: Sequence[str]) -> tuple[list[bytes], bool]:
    """Each text folded, as UTF-8, with every ASCII digit made "0"; and whether all are ASCII."""
    joined = _SEP.join(texts)
    ascii_only = joined.isascii()
    if joined.count(_SEP) != len(texts) - 1:  # a text holds the separator itself: one at a time
        return [fold(text).encode().translate(_BLIND) for text in texts], ascii_only
    if ascii_only:  # ASCII folding is lower(), done by the same byte table as the digits
        return joined.encode().translate(_BLIND_FOLD).split(_SEP.encode()), True
    # Folding the joined column equals folding each text: "\0" is neither cased nor case-ignorable,
    # so it also ends the context that str.lower() looks at for a final sigma.
    return fold(joined).encode().translate(_BLIND).split(_SEP.encode()), False


def _entry(entries: dict[str, Entry], word: str) -> Entry:
    return entries.get(word, ("", (), ()))


def _add_triggers(entries: dict[str, Entry], patterns: Sequence[re.Pattern[str]]) -> list[int]:
    """Each regex's index on the entries of its required literals (or their proxies), so a scan
    runs it only on texts where it can match; the indices of the regexes with no literal."""
    always: list[int] = []
    for i, pattern in enumerate(patterns):
        literals = required_literals(pattern.pattern)
        if literals is None:
            always.append(i)
        for word in literals or ():
            key = word if _DIGITS.isdisjoint(word) else _proxy(word)
            mark, confirm, tried = _entry(entries, key)
            entries[key] = (mark, confirm, (*tried, i))
    return always


def _proxy(word: str) -> str:
    """The longest digit-free piece of `word`; "0" (what any digit becomes) when it is all digits."""
    return max(re.split("[0-9]", word), key=len) or "0"


def _mark(index: int) -> str:
    # One character per literal; surrogates are skipped so every mark is a valid code point.
    code = index + 1
    return chr(code if code < 0xD800 else code + 0x800)
