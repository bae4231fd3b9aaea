"""How far apart two short texts are, for telling a damaged name from another name.

A byte damaged in a download turns a header name or a QIF payee into something one or two
letters off the real one; reading it as a different name would silently change what the file
means, so parsers compare such names with the ones they expect and refuse near misses.
"""

from __future__ import annotations


def edit_distance(a: str, b: str, most: int) -> int:
    """The Levenshtein distance of `a` and `b`, or `most + 1` for anything farther."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return min(previous[-1], most + 1)
