"""The fast path for OFX transaction lists: runs of STMTTRN blocks cut out and read column by column.

`ofx_tree` reads every token into a tree, ~60 µs a transaction; issue 9 wants 10 µs.  Nearly all
of a large file is the run of STMTTRN blocks inside each BANKTRANLIST, so `cut` lifts those runs
out and leaves a marker block in their place: the tree reader then reads the small rest, and the
marker lands exactly where the run's blocks would have landed (same parent, same order), so the
statement reader finds the run through it.  `read_columns` turns a run into one list per leaf the
statement reader uses, with one regex pass.

It vouches only for what it reads exactly as `ofx_tree` does; anything else makes it answer None
and the whole file goes to the tree reader:

* a block is "<STMTTRN>", then leaves, then "</STMTTRN>"; text after an aggregate's tag is ignored
  there as here;
* a leaf is "<TAG>" (upper case, no attributes, not an aggregate such as PAYEE or CURRENCY), its
  text stripped and then its entities decoded, as the tree does, and optionally "</TAG>";
* an empty leaf followed by another tag is, for the tree, an aggregate that is never closed and
  folds back into the block: the same values as an empty leaf, unless its tag is closed later in
  the block; a block naming a tag twice is therefore refused (the first value wins there anyway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from importer.parsers.ofx.tree import AGGREGATES, unescape

MARKER = "FASTRUN"  # the leaf of a marker block; a file's own STMTTRN never reaches the skeleton
# The leaves the statement reader uses (ofx._transaction).
LEAVES = ("TRNTYPE", "DTPOSTED", "TRNAMT", "FITID", "NAME", "MEMO", "CHECKNUM", "DTAVAIL")

_LIST, _END, _BLOCK_TAG = "<BANKTRANLIST>", "</BANKTRANLIST>", "<STMTTRN>"
_STRAY = re.compile(r"<STMTTRN(?![A-Za-z0-9_.])", re.IGNORECASE)
_NOT_AGGREGATE = "(?!(?:" + "|".join(sorted(AGGREGATES)) + ")>)"
# A leaf's text stripped: str.strip() and \s both mean Py_UNICODE_ISSPACE.  Atomic, so a block
# that does not match fails in linear time.
_TEXT = r"(?>\s*([^<]*[^<\s])?\s*)"
_LEAF = re.compile(rf"<{_NOT_AGGREGATE}([A-Z][A-Z0-9_.]*)>{_TEXT}(?:</\1>[^<]*)?")
# A block after "<STMTTRN>".
_BLOCK = re.compile(rf"[^<]*((?><{_NOT_AGGREGATE}([A-Z][A-Z0-9_.]*)>{_TEXT}(?:</\2>[^<]*)?)*+)</STMTTRN>[^<]*")
_TOKEN = re.compile(r"<(/?)([^<>]*)>")
_NAME = re.compile(r"[A-Z][A-Z0-9_.]*")

Columns = dict[str, list[str]]  # LEAVES → one text per block ("" when absent or empty)


@dataclass(frozen=True)
class Cut:
    """The file with each run replaced by a marker block naming its index in `runs`."""

    skeleton: str
    runs: tuple[str, ...]


def cut(text: str) -> Cut | None:
    """The runs of STMTTRN blocks, each the whole of a BANKTRANLIST's content from its first
    "<STMTTRN>" to its "</BANKTRANLIST>"; None when there is none or a STMTTRN lies elsewhere."""
    kept: list[str] = []
    runs: list[str] = []
    done = search = 0
    while (opened := text.find(_LIST, search)) >= 0 and (closed := text.find(_END, opened)) >= 0:
        start = text.find(_BLOCK_TAG, opened, closed)
        if start >= 0:
            kept.append(text[done:start])
            runs.append(text[start:closed])
            done = closed
        search = closed
    kept.append(text[done:])
    if not runs or any(_STRAY.search(part) for part in kept):
        return None
    markers = [f"<STMTTRN><{MARKER}>{index}</STMTTRN>" for index in range(len(runs))] + [""]
    return Cut("".join(part + marker for part, marker in zip(kept, markers)), tuple(runs))


def read_runs(runs: list[str]) -> Columns | None:
    """The LEAVES of every block of `runs`, in order; None when a block is not one this module vouches for."""
    columns: Columns = {leaf: [] for leaf in LEAVES}
    for run in runs:
        read = read_columns(run)
        if read is None:
            return None
        for leaf in LEAVES:
            columns[leaf] += read[leaf]
    return columns


def read_columns(run: str) -> Columns | None:
    """The LEAVES of every block of `run` as the tree holds them (stripped, entities decoded), or
    None when a block is not one this module vouches for."""
    columns = _uniform(run) or _mixed(run)
    if columns is None or "&" not in run:
        return columns
    return {leaf: _unescaped(values) for leaf, values in columns.items()}


def _unescaped(values: list[str]) -> list[str]:
    # One join tells whether a column needs the per-value pass at all.
    return [unescape(v) if "&" in v else v for v in values] if "&" in "".join(values) else values


def _uniform(run: str) -> Columns | None:
    """When every block has the first block's tags in the same order (as exports usually do): one
    findall of a pattern made for that layout."""
    layout = _layout(run[: run.find("</STMTTRN>") + 10])
    if layout is None:
        return None
    pattern, tags, brackets = _pattern(layout)
    rows = pattern.findall(run)
    count = run.count(_BLOCK_TAG)
    # Matches are disjoint and each holds `brackets` "<": if they hold all of them, the run is
    # nothing but these blocks.
    if len(rows) != count or run.count("<") != count * brackets:
        return None
    found = dict(zip(tags, zip(*rows) if len(tags) > 1 else [rows]))
    # The tree strips a leaf's text; stripping a column in one C-level pass is cheaper than
    # stripping in the pattern.
    return {leaf: list(map(str.strip, found[leaf])) if leaf in found else [""] * count for leaf in LEAVES}


def _layout(block: str) -> tuple[tuple[str, bool], ...] | None:
    """The block's leaves as (tag, closed) pairs, or None when it is not a plain list of leaves."""
    tokens = _TOKEN.findall(block)
    if tokens[:1] != [("", "STMTTRN")] or tokens[-1:] != [("/", "STMTTRN")]:
        return None
    layout: list[tuple[str, bool]] = []
    for closing, tag in tokens[1:-1]:
        if not closing and _NAME.fullmatch(tag) and tag not in AGGREGATES:
            layout.append((tag, False))
        elif closing and layout and layout[-1] == (tag, False):
            layout[-1] = (tag, True)
        else:
            return None
    tags = [tag for tag, _ in layout]
    return tuple(layout) if len(set(tags)) == len(tags) else None


@lru_cache(maxsize=64)
def _pattern(layout: tuple[tuple[str, bool], ...]) -> tuple[re.Pattern[str], tuple[str, ...], int]:
    """The pattern of one block of `layout`, the tag of each group, and the "<" in one block."""
    leaves = "".join(
        f"<{re.escape(tag)}>([^<]*)" + (f"</{re.escape(tag)}>[^<]*" if closed else "") for tag, closed in layout
    )
    pattern = re.compile(f"<STMTTRN>[^<]*{leaves}</STMTTRN>[^<]*")
    return pattern, tuple(tag for tag, _ in layout), 2 + len(layout) + sum(closed for _, closed in layout)


def _mixed(run: str) -> Columns | None:
    """Blocks of varying layouts: one match and one findall per block."""
    blocks = run.split(_BLOCK_TAG)
    leaves: list[dict[str, str]] = []
    for block in blocks[1:]:
        match = _BLOCK.fullmatch(block)
        if match is None:
            return None
        pairs = _LEAF.findall(match.group(1))
        values = dict(pairs)
        if len(values) != len(pairs):
            return None
        leaves.append(values)
    return {leaf: [values.get(leaf, "") for values in leaves] for leaf in LEAVES}
