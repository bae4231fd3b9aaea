"""OFX 1.x (SGML) and 2.x (XML) bank and credit-card statements, also as .qfx and .qbo.

Why not ofxparse: on real files it is right about what it reads, but it builds a BeautifulSoup
DOM and reads 1,200-2,500 transactions a second (a 100,000-transaction SGML file did not finish
in four minutes), it refuses whole files over one empty <NAME>, and it drops the timezone the
bank wrote.  `ofx_tree` reads SGML and XML alike in one regex pass; a test compares our reading
with ofxparse's on every corpus file ofxparse accepts.

That tree reader is the reference.  Large files go through a fast path first (`fast_statements`:
ofx_fast cuts out the runs of transactions, ofx_rows builds them column by column), which answers
exactly as the reference or not at all; tests/test_ofx_fast.py holds it to that.

Never a wrong number, never a silent half file: values are read strictly (ofx_values); a file
that stops before its aggregates close is a TruncatedError carrying the statements of the complete
transactions; an OFX 2.x file (XML declaration, closed leaves) must be well-formed XML, with no
DTD, so no entity can expand; nesting is bounded; and whatever else a damaged file makes Python
raise becomes a ParseError naming the file (`OfxParser.parse` is that boundary).

Dates are the calendar day the bank wrote ("20261031230000[-5:EST]" is 31 October), not that
instant moved to UTC: the statement, the bank's web page and the user's memory all use local days.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from importer.core.errors import ImporterError, ParseError
from importer.core.models import Statement, Transaction
from importer.parsers import claims
from importer.parsers.base import (
    FileSample,
    ParseOptions,
    StatementFile,
    read_statement,
)
from importer.parsers.ofx import fast as ofx_fast
from importer.parsers.ofx import rows as ofx_rows
from importer.parsers.ofx import streaming
from importer.parsers.ofx.form import check_xml, is_xml
from importer.parsers.ofx.statements import (
    Doc,
    read_statements,
    stmttrns,
    tree_rows,
    truncated,
)
from importer.parsers.ofx.text import decode
from importer.parsers.ofx.tree import (
    Damaged,
    Node,
    line_at,
    parse_tree,
    prepare,
    unclosed,
)
from importer.parsers.stream import Event, events_of

# What a damaged file can make Python raise below our own checks (a character reference past
# U+10FFFF, a model refusing a value...): each becomes a ParseError naming the file.
_DAMAGE = (ValueError, IndexError, KeyError, OverflowError, UnicodeError, RecursionError)


class OfxParser:
    """Reads every bank and credit-card statement in an OFX file; each becomes its own Statement."""

    name = "ofx"

    def identify(self, sample: FileSample) -> bool:
        return claims.ofx(sample)

    def parse(self, path: Path, options: ParseOptions) -> list[Statement]:
        return _parse(path, read_statement(path, options), options)

    def stream(self, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
        """The statements as events, in constant memory (ofx/streaming.py), except with --account:
        whether that name applies depends on the file holding a single account, known at its end."""
        try:
            if options.account:
                yield from events_of(_parse(source.path, source.read(), options))
            else:
                yield from streaming.events(source, options)
        except _DAMAGE as error:
            raise _damaged(source.path, error) from None


def _parse(path: Path, data: bytes, options: ParseOptions) -> list[Statement]:
    text = decode(data)
    try:
        fast = fast_statements(path, text, options)
        return fast if fast is not None else reference_statements(path, text, options)
    except _DAMAGE as error:
        raise _damaged(path, error) from None


def _damaged(path: Path, error: Exception) -> ParseError:
    return ParseError(
        path, f"could not be read as OFX ({type(error).__name__}: {error}); the file looks damaged. Download it again."
    )


def reference_statements(path: Path, text: str, options: ParseOptions) -> list[Statement]:
    """The statements in `text` (the decoded file), read through the whole tree: the reference."""
    doc = Doc(path, prepare(text), options)
    root = _tree(doc)
    _check_whole(doc, root, text)
    return read_statements(doc, root, tree_rows)


def _tree(doc: Doc) -> Node:
    try:
        return parse_tree(doc.text)
    except Damaged as damage:
        raise ParseError(
            doc.path,
            f"{damage.reason}, so the file is damaged or not an OFX statement. Download it again.",
            line=line_at(doc.text, damage.offset),
        ) from None


def _check_whole(doc: Doc, root: Node, text: str) -> None:
    """The file is all there (its aggregates close) and, when OFX 2.x, well-formed XML."""
    cut_in = unclosed(root)
    if cut_in:
        raise truncated(doc, root, cut_in)
    if is_xml(text):
        check_xml(doc.path, text)


def fast_statements(path: Path, text: str, options: ParseOptions) -> list[Statement] | None:
    """What `reference_statements` gives, or None when this path does not vouch for the file.

    Why: the tree reader spends ~60 µs per transaction; issue 9 wants 100,000 a second.  The
    scanner (ofx_fast) cuts the runs of STMTTRN blocks out, the tree reader reads the small rest
    (sign-on, accounts, balances: all error handling stays there), and the runs are read column by
    column (ofx_rows).  Any error, and anything the scanner does not read exactly as the tree
    does, leaves the whole file to the reference, so results and messages are the reference's.
    So does a cut-off file (an aggregate of the skeleton left open; a run is only cut out when its
    </BANKTRANLIST> came) and an OFX 2.x file that is not well-formed XML.
    tests/test_ofx_fast.py compares both on every corpus and sample file and on generated ones."""
    doc = Doc(path, prepare(text), options)
    cut = ofx_fast.cut(doc.text)
    if cut is None:
        return None
    if is_xml(text):
        try:
            check_xml(path, text)
        except ParseError:
            return None

    def rows(doc: Doc, account: str, currency: str, tranlist: Node | None) -> tuple[Transaction, ...]:
        columns = ofx_fast.read_runs([cut.runs[int(node.values[ofx_fast.MARKER])] for node in stmttrns(tranlist)])
        read = ofx_rows.transactions(columns, str(doc.path), account, currency) if columns is not None else None
        if read is None:
            raise _NotFast
        return read

    try:
        skeleton = parse_tree(cut.skeleton)
        # A cut-off file goes to the reference, which builds the partial statements.
        return None if unclosed(skeleton) else read_statements(doc, skeleton, rows)
    except (_NotFast, ImporterError, Damaged):
        return None


class _NotFast(Exception):
    """The fast path met something it does not vouch for."""
