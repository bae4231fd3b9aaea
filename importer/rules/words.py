"""Values as people read them in explain, lint, test and suggest output: never a Python repr.

`repr` shows a tuple as `('subscription',)`, None as `None` and a line break as `\\n`; the
messages the rules tools print are read by people who wrote YAML, so values are shown the
way they would write them.
"""

from __future__ import annotations

from collections.abc import Iterable


def quoted(text: str) -> str:
    """`text` in single quotes; line breaks (the parts of `text`) shown as ` / `."""
    return "'" + " / ".join(text.splitlines()) + "'"


def listed(values: Iterable[object]) -> str:
    """Several values as a comma-separated list, texts quoted."""
    return ", ".join(quoted(v) if isinstance(v, str) else str(v) for v in values)


def shown(value: object) -> str:
    """One action value: a text as written, a list comma-separated, nothing as `none`."""
    if value is None:
        return "none"
    if isinstance(value, (tuple, list, frozenset, set)):
        return ", ".join(map(str, value))
    return str(value)
