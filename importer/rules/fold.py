"""Case folding shared by `contains`-style tests and the literal prefilter.

Text tests compare `fold(needle)` with `fold(text)`.  The prefilter also looks for literals taken
from regular expressions, which run with `re.IGNORECASE`; under that flag four non-ASCII letters
match ASCII ones (İ, ı ~ i; ſ ~ s; the Kelvin sign ~ k), so they are mapped first.  That keeps the
prefilter a superset of what a regex can match (tests/test_rules_matcher.py checks it over every
code point).
"""

from __future__ import annotations

_IGNORECASE_TWINS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def fold(text: str) -> str:
    """`text` as the case-insensitive tests see it."""
    # Most bank text is ASCII, and translate() is slow; the twins are all non-ASCII.
    return text.lower() if text.isascii() else text.translate(_IGNORECASE_TWINS).lower()
