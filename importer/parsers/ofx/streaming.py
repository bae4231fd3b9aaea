"""OFX read as a stream: one pass over the file in pieces, rows out in column batches, memory
bounded by a batch and not by the file.

The file is decoded piece by piece, and cut as the fast path cuts it (fast.py): the runs of
STMTTRN blocks inside each BANKTRANLIST go, a batch of at most BATCH_ROWS blocks at a time,
to the column reader (fast.py, rows.py), and everything else (sign-on, accounts, balances: a few
kilobytes) is kept as the skeleton, where each run leaves one marker block and its line breaks,
so that a line in the skeleton is the same line in the file.  The skeleton is read by the tree
reader (tree.py) when a run starts, for the statement's head (account, currency: OFX writes both
before BANKTRANLIST), and again at the end of the file, for the balances and every check of the
reference.  A batch the column reader does not vouch for is read by the tree reader instead, under
the same open aggregates, so its values and error messages are the reference's, with the line.

The reference's checks all stay: strict values; damaged and nested-too-deep tags; a file cut
off is a TruncatedError naming the last complete transaction, raised after the complete rows were
yielded (and the StatementEnd of each statement they belong to, so that `collect` of the events
before the error is what --allow-partial keeps); FITIDs on some transactions of a statement but
not all are only known at the statement's end, so the error comes there; the XML form of OFX 2.x
(expat over every piece, no DTD) is reported after the structure, as the reference does.

What it cannot do in constant memory, it does in memory: a statement with an empty CURDEF and
no --currency is held until its end, where its transactions' CURRENCY says the currency; text
in which "<STMTTRN>" never appears in upper case is one batch.  A file with several faults may
report another one first than the reference (the first in file order); with one, it is the same.
A block left open where the next block would be read inside it ("<NAME>" then "<PAYEE>…</PAYEE>"
then "<STMTTRN>": the tree takes NAME for an aggregate) is refused here as in the reference
(statements.nested_block): reading on would drop the inner transactions without a word.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from importer.core.batch import BATCH_ROWS, TxBatch, batched
from importer.core.errors import ImporterError, InputError, ParseError, TruncatedError
from importer.core.models import Transaction
from importer.parsers.base import ParseOptions, StatementFile
from importer.parsers.ofx import fast as ofx_fast
from importer.parsers.ofx import rows as ofx_rows
from importer.parsers.ofx.form import XmlCheck, is_xml
from importer.parsers.ofx.statements import (
    PRUNE,
    STATEMENTS,
    Doc,
    account_name,
    check_printable_fitids,
    check_signon,
    currency_of,
    cut_off,
    fid_of,
    finished,
    holds_a_block,
    last_complete,
    missing_fitid,
    nested_block,
    stmttrns,
    transaction_of,
    tree_rows,
    why_empty,
)
from importer.parsers.ofx.text import declared_codec
from importer.parsers.ofx.tree import (
    Damaged,
    Node,
    line_at,
    parse_tree,
    prepare,
    unclosed,
)
from importer.parsers.stream import Event, Rows, StatementEnd, StatementHead

CHUNK_BYTES = 1 << 20
# A run is cut into a batch once this much of it is held: 10,000-20,000 blocks of a usual bank's
# size, so that `_split` seldom has to count blocks one by one.
BATCH_BYTES = 2 << 20
_LIST, _BLOCK = "<BANKTRANLIST>", "<STMTTRN>"
# Where a run of blocks ends: its list's end tag, or (Nubank never closes BANKTRANLIST) what the
# tree reader takes as ending the list (tree._ENDED_BY) or the statement.
_RUN_ENDS = (
    "</BANKTRANLIST>",
    "<LEDGERBAL>",
    "<AVAILBAL>",
    "<BALLIST>",
    "<MKTGINFO>",
    "<CASHADVBALAMT>",
    "<INTRATE>",
    "</STMTRS>",
    "</CCSTMTRS>",
)
_HOLD = max(map(len, _RUN_ENDS)) - 1  # a tag cut in two by a piece's end is held for the next piece
_FIRST_BLOCK = re.compile(r"<STMTTRN(?![A-Za-z0-9_.])", re.IGNORECASE)  # as fast._STRAY


def events(source: StatementFile, options: ParseOptions) -> Iterator[Event]:
    """The statements of the OFX file `source` as events, reading it once."""
    reader = _Reader(source.path, options)
    try:
        for kind, text in _pieces(_prepared(reader.texts(source))):
            yield from reader.take(kind, text)
        yield from reader.finish()
    except ImporterError as error:
        # The reference refuses a file of broken XML form before reading its statements: a fault
        # expat found already (it reads ahead of the scanner) is the answer, unless the structure
        # itself is broken (a damaged tag, a cut-off file), which the reference says first.
        if reader.xml is not None and not reader.broken and not isinstance(error, TruncatedError):
            reader.xml.raise_fault()
        raise


# ---------------------------------------------------------------- bytes to text, as text.decode


class _Decoder:
    """text.decode piece by piece: UTF-8, and the declared 8-bit charset from the first byte UTF-8
    cannot read.  That equals decoding the whole file so only while what came before is ASCII;
    after UTF-8 text that is not, the file mixes encodings and is refused (text.decode would
    have read the UTF-8 part as cp1252 too, to the wrong letters)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
        self._utf8 = True
        self._ascii = True
        self._lines = 0
        self._head = b""

    def decode(self, data: bytes, final: bool = False) -> str:
        if not self._head and data:
            data = data.removeprefix(codecs.BOM_UTF8)
            self._head = data[:4096]
        pending = self._decoder.getstate()[0] if self._utf8 else b""
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            text = self._fall_back(pending + data, final)
        self._ascii = self._ascii and text.isascii()
        self._lines += text.count("\n")
        return text

    def _fall_back(self, data: bytes, final: bool) -> str:
        from_ascii = self._ascii and _ascii_compatible(declared_codec(self._head))
        if not from_ascii:
            raise ParseError(
                self._path,
                "is UTF-8 up to here and not after: it mixes text encodings, so its letters cannot be read for sure. Download it again.",
                line=self._lines + 1,
            )
        self._utf8 = False
        self._decoder = codecs.getincrementaldecoder(declared_codec(self._head))(errors="replace")
        return self._decoder.decode(data, final)


def _ascii_compatible(codec: str) -> bool:
    sample = bytes(range(32, 127)) + b"\r\n\t"
    return sample.decode(codec, errors="replace") == sample.decode("ascii")


def _prepared(texts: Iterable[str]) -> Iterator[str]:
    """tree.prepare over the text in pieces, each cut where no comment or CDATA section is open."""
    held = ""
    for text in texts:
        held += text
        cut = _safe_cut(held)
        if cut > 0:
            yield prepare(held[:cut])
            held = held[cut:]
    yield prepare(held)


def _safe_cut(text: str) -> int:
    cut = len(text) - len("<![CDATA[")  # an opener cut in two waits for its end
    if "<!" not in text:
        return cut
    for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>")):
        start = text.rfind(opener)
        if start >= 0 and text.find(closer, start + len(opener)) < 0:
            cut = min(cut, start)
    return cut


# ---------------------------------------------------------------- text to skeleton and runs


@dataclass
class _Scan:
    """Where the scanner is: in the skeleton, in a BANKTRANLIST before its first block, in a run."""

    mode: str = "skeleton"
    held: str = ""
    searched: int = 0  # the run's end tags were looked for up to here in `held`


def _pieces(texts: Iterable[str]) -> Iterator[tuple[str, str]]:
    """("skeleton", text), ("run", "") when a run starts, ("blocks", complete blocks), ("end", "")
    when it ends, and at the end of a file cut inside a run ("tail", its incomplete block)."""
    scan = _Scan()
    for text in texts:
        scan.held += text
        yield from _advance(scan, final=False)
    yield from _advance(scan, final=True)


def _advance(scan: _Scan, final: bool) -> Iterator[tuple[str, str]]:
    steps = {"skeleton": _in_skeleton, "list": _in_list, "run": _in_run}
    while scan.mode in steps:
        pieces = steps[scan.mode](scan, final)
        if pieces is None:
            return
        yield from pieces


def _in_skeleton(scan: _Scan, final: bool) -> list[tuple[str, str]] | None:
    start = scan.held.find(_LIST)
    if start >= 0:
        return _move(scan, start + len(_LIST), "list")
    keep = len(scan.held) if final else max(len(scan.held) - _HOLD, 0)
    return _move(scan, keep, "skeleton") if keep else None


def _in_list(scan: _Scan, final: bool) -> list[tuple[str, str]] | None:
    block = _FIRST_BLOCK.search(scan.held)
    end = _run_end(scan.held, 0)
    if block is not None and (end < 0 or block.start() < end):
        return [*_move(scan, block.start(), "run"), ("run", "")]
    if end >= 0:
        return _move(scan, end, "skeleton")
    return _move(scan, len(scan.held), "skeleton") if final and scan.held else None


def _in_run(scan: _Scan, final: bool) -> list[tuple[str, str]] | None:
    end = _run_end(scan.held, max(scan.searched - _HOLD, 0))
    scan.searched = len(scan.held)
    if end >= 0:
        return _run_ended(scan, end)
    if final:
        return _tail(scan)
    cut = scan.held.rfind(_BLOCK) if len(scan.held) >= BATCH_BYTES else -1
    if cut <= 0:
        return None
    blocks, scan.held, scan.searched = scan.held[:cut], scan.held[cut:], len(scan.held) - cut
    return [("blocks", b) for b in _split(blocks)]


def _run_ended(scan: _Scan, end: int) -> list[tuple[str, str]]:
    """The last batches of a run ending at `end`, then its end with the unclosed block that goes to
    the skeleton (if any).  The last batch is "last" when the list's end tag follows it; any other
    is followed by a block, which the tree nests inside it when it is left open."""
    cut = _unclosed_last(scan.held, end)
    blocks, moved = scan.held[:cut], scan.held[cut:end]
    scan.held, scan.mode, scan.searched = scan.held[cut:], "skeleton", 0
    pieces = [("blocks", b) for b in _split(blocks) if b]
    if pieces and scan.held.startswith("</BANKTRANLIST>"):
        pieces[-1] = ("last", pieces[-1][1])
    return [*pieces, ("end", moved)]


def _tail(scan: _Scan) -> list[tuple[str, str]]:
    """The end of a file cut inside a run: its complete blocks, then the one it ends in."""
    held, scan.held, scan.mode = scan.held, "", "done"
    closed = held.rfind("</STMTTRN>")
    after = held.find("<", closed + 1) if closed >= 0 else 0  # the text after an end tag goes with it
    cut = len(held) if after < 0 else after
    return [*(("blocks", b) for b in _split(held[:cut]) if b), ("tail", held[cut:])]


def _unclosed_last(text: str, end: int) -> int:
    """Where the run of `text` ending at `end` really ends: before its last block when that block
    is not closed and a balance, not the list's end tag, comes next (the tree then nests the
    balance in the block: the skeleton's tree reads it as the reference does)."""
    if text.startswith("</BANKTRANLIST>", end):
        return end
    last = text.rfind(_BLOCK, 0, end)
    return last if last > text.rfind("</STMTTRN>", 0, end) else end


def _move(scan: _Scan, upto: int, mode: str) -> list[tuple[str, str]]:
    text, scan.held, scan.mode = scan.held[:upto], scan.held[upto:], mode
    return [("skeleton", text)] if text else []


def _run_end(text: str, start: int) -> int:
    found = [at for tag in _RUN_ENDS if (at := text.find(tag, start)) >= 0]
    return min(found) if found else -1


def _split(blocks: str) -> Iterator[str]:
    """`blocks` in pieces of at most BATCH_ROWS blocks."""
    if blocks.count(_BLOCK) <= BATCH_ROWS:
        yield blocks
        return
    start = 0
    while True:
        at = start
        for _ in range(BATCH_ROWS):
            at = blocks.find(_BLOCK, at + 1)
            if at < 0:
                yield blocks[start:]
                return
        yield blocks[start:at]
        start = at


# ---------------------------------------------------------------- skeleton and runs to events


@dataclass
class _Head:
    """A statement whose head was yielded: what its end needs."""

    account: str
    account_id: str | None
    currency: str
    rows: int = 0
    with_fitid: bool = False
    first_missing: tuple[int, int] | None = None  # (transaction, line) of the first without FITID


@dataclass
class _Run:
    """The run being read: its statement (`index` None for a run the reference ignores too, one
    that is not in a statement's first BANKTRANLIST), the open aggregates around it (`prefix`,
    so a batch read by the tree nests as deep as in the file), and what the statement's end checks."""

    index: int | None
    prefix: str
    doc: Doc
    stmt: Node | None = None
    fid: str | None = None
    head: _Head | None = None  # None while the currency waits for the transactions (empty CURDEF)
    held: list[tuple[str, int]] = field(default_factory=list)  # (blocks, lines before) while waiting


class _Reader:
    """The state of one file's stream: the skeleton so far, the statements whose head and end were
    yielded, the run being read."""

    def __init__(self, path: Path, options: ParseOptions) -> None:
        self.path = path
        self.options = options
        self.skeleton: list[str] = []
        self.lines = 0  # line breaks in the file before what comes next
        self.heads: dict[int, _Head] = {}
        self.ended: set[int] = set()
        self.streamed: set[int] = set()  # statements with a run (their skeleton list holds its marker)
        self.run: _Run | None = None
        self.runs = 0
        self.last_batch: tuple[str, int] | None = None  # (prefixed blocks, lines before): for a cut-off file
        self.tail = ""
        self.xml: XmlCheck | None = None
        self.broken = False  # the tree reader found the structure damaged

    def texts(self, source: StatementFile) -> Iterator[str]:
        """The file's text in pieces, each fed to the XML check of an OFX 2.x file as it passes."""
        decoder = _Decoder(self.path)
        for data in source.chunks(CHUNK_BYTES):
            text = decoder.decode(data)
            if source.bytes_read == len(data):  # the first piece says the form
                self.xml = XmlCheck(self.path) if is_xml(text) else None
            yield self._checked(text, final=False)
        yield self._checked(decoder.decode(b"", final=True), final=True)

    def _checked(self, text: str, final: bool) -> str:
        if self.xml is not None:
            self.xml.feed(text, final)
        return text

    def take(self, kind: str, text: str) -> Iterator[Event]:
        if kind == "skeleton":
            self.skeleton.append(text)
            self.lines += text.count("\n")
        elif kind == "run":
            yield from self._start_run()
        elif kind in ("blocks", "last"):
            yield from self._blocks(text, followed=kind == "blocks")
        elif kind == "end":
            yield from self._end_run(text)
        else:
            self.tail = text

    def _tree(self, text: str, base: int = 0) -> Node:
        try:
            return parse_tree(text)
        except Damaged as damage:
            self.broken = True
            raise ParseError(
                self.path,
                f"{damage.reason}, so the file is damaged or not an OFX statement. Download it again.",
                line=base + line_at(text, damage.offset),
            ) from None

    def _skeleton(self) -> tuple[Doc, Node]:
        text = "".join(self.skeleton)
        self.skeleton = [text]
        return Doc(self.path, text, self.options), self._tree(text)

    def _found(self, doc: Doc, root: Node) -> tuple[list[Node], str | None]:
        """The statements in the skeleton so far, and the FID of the sign-on."""
        ofx = root.child("OFX")
        if ofx is None:
            raise ParseError(self.path, "has no <OFX> element, so it is not an OFX statement.")
        check_signon(doc, ofx)
        return list(ofx.find_all(STATEMENTS, PRUNE)), fid_of(ofx)

    def _start_run(self) -> Iterator[Event]:
        doc, root = self._skeleton()
        if root.child("OFX") is None:  # blocks outside any <OFX>: no statement's; the end says why
            self.run = _Run(None, _open_path(root)[0], doc)
        else:
            found, fid = self._found(doc, root)
            yield from self._sync(doc, found, fid)
            self.run = self._run_for(doc, root, found, fid)
        self.skeleton.append(f"<STMTTRN><{ofx_fast.MARKER}>{self.runs}</STMTTRN>")
        self.runs += 1
        if self.run.head is not None and self.run.index is not None:
            yield self._head(self.run.index, self.run.head)

    def _run_for(self, doc: Doc, root: Node, found: list[Node], fid: str | None) -> _Run:
        prefix, innermost = _open_path(root)
        stmt = found[-1] if found else None
        if stmt is None or not stmt.open or stmt.child("BANKTRANLIST") is not innermost or stmttrns(innermost):
            return _Run(None, prefix, doc)
        run = _Run(len(found) - 1, prefix, doc, stmt, fid)
        self.streamed.add(len(found) - 1)
        if stmt.get("CURDEF") or self.options.currency:
            run.head = self._head_of(doc, stmt, fid)
        return run

    def _head_of(self, doc: Doc, stmt: Node, fid: str | None, tranlist: Node | None = None) -> _Head:
        currency = currency_of(doc, stmt, tranlist)
        name, account_id = account_name(doc, stmt, fid, True)
        return _Head(name, account_id, currency)

    def _head(self, index: int, head: _Head) -> StatementHead:
        self.heads[index] = head
        return StatementHead(
            index=index,
            path=str(self.path),
            format="ofx",
            account=head.account,
            currency=head.currency,
            bank_account_id=head.account_id,
        )

    def _sync(self, doc: Doc, found: list[Node], fid: str | None) -> Iterator[Event]:
        """Head, rows and end of each statement now closed whose end was not yielded yet."""
        for index, stmt in enumerate(found):
            if stmt.open or index in self.ended:
                continue
            if index not in self.heads:
                yield from self._whole(doc, index, stmt, fid)
            yield from self._end(doc, index, stmt)

    def _whole(self, doc: Doc, index: int, stmt: Node, fid: str | None) -> Iterator[Event]:
        """A statement read from the skeleton alone (no run of blocks: none, or not cut out)."""
        head = self._head_of(doc, stmt, fid)
        rows = tree_rows(doc, head.account, head.currency, stmt.child("BANKTRANLIST"))
        yield self._head(index, head)
        yield from (Rows(index, batch) for batch in batched(rows))
        head.rows = len(rows)

    def _end(self, doc: Doc, index: int, stmt: Node) -> Iterator[Event]:
        """The statement's end, after the rows of any block the skeleton kept (an unclosed last
        block before the balances: the tree decides where it ends)."""
        head = self.heads[index]
        kept = [n for n in stmttrns(stmt.child("BANKTRANLIST")) if ofx_fast.MARKER not in n.values and not n.open]
        if kept and index in self.streamed:
            rows = self._transactions(head, doc, kept)
            yield Rows(index, TxBatch.of(rows, first_index=head.rows))
            head.rows += len(rows)
        statement = finished(doc, stmt, head.account, head.account_id, head.currency)
        self.ended.add(index)
        yield StatementEnd(index, statement, head.rows)

    def _blocks(self, text: str, followed: bool) -> Iterator[Event]:
        run, base = self.run, self.lines
        assert run is not None  # the scanner yields blocks only inside a run
        self.lines += text.count("\n")
        self.skeleton.append("\n" * (self.lines - base))  # so the skeleton's lines are the file's
        self.last_batch = (run.prefix + text, base)
        if run.index is None:
            return
        if run.head is None:
            run.held.append((text, base))
            return
        batch = self._fast(run, run.head, text) or self._slow(run, run.head, text, base, followed)
        yield Rows(run.index, batch)
        run.head.rows += len(batch)

    def _fast(self, run: _Run, head: _Head, text: str) -> TxBatch | None:
        columns = ofx_fast.read_columns(text)
        if columns is None:
            return None
        fitids = columns["FITID"]
        if head.first_missing is None and not all(fitids):
            return None  # the tree reader says on which line the first one is missing
        batch = ofx_rows.batch(columns, str(self.path), head.account, head.currency, head.rows)
        head.with_fitid = head.with_fitid or (batch is not None and any(fitids))
        _check_fitids(self.path, head)
        return batch

    def _slow(self, run: _Run, head: _Head, text: str, base: int, followed: bool) -> TxBatch:
        doc, nodes = self._nodes(run, text, base, followed)
        return TxBatch.of(self._transactions(head, doc, nodes), first_index=head.rows)

    def _transactions(self, head: _Head, doc: Doc, nodes: list[Node]) -> list[Transaction]:
        """The reference's reading of `nodes`, numbered on from the rows already read."""
        rows = list(enumerate(nodes, start=head.rows + 1))
        for index, node in rows:
            if node.get("FITID") is not None:
                head.with_fitid = True
            elif head.first_missing is None:
                head.first_missing = (index, doc.line(node))
        _check_fitids(self.path, head)
        check_printable_fitids(doc, rows)
        return [transaction_of(doc, head.account, head.currency, index, node) for index, node in rows]

    def _nodes(self, run: _Run, text: str, base: int, followed: bool) -> tuple[Doc, list[Node]]:
        """The STMTTRN nodes of `text` (blocks of a run), read by the tree under the run's aggregates;
        `followed`: another block comes next in the file."""
        doc = Doc(self.path, run.prefix + text, self.options, base)
        prefix, tranlist = _open_path(self._tree(doc.text, base), stop="BANKTRANLIST")
        nodes = tranlist.children
        # The last block may be open here: the next block or the list's end closes it in the file,
        # unless the next block would be read inside it.
        if followed and nodes and nodes[-1].open and self._blocks_in(doc.text + _BLOCK, base) != len(nodes) + 1:
            raise nested_block(doc, nodes[-1])
        if (
            prefix != run.prefix
            or tranlist.values
            or any(n.tag != "STMTTRN" for n in nodes)
            or len(nodes) != len(_FIRST_BLOCK.findall(text))
        ):
            if nesting := next((n for n in nodes if n.open or holds_a_block(n)), None):
                raise nested_block(doc, nesting)
            raise ParseError(
                self.path,
                "has something other than transactions inside its transaction list (BANKTRANLIST); the file is damaged. Download it again.",
                line=base + 1,
            )
        return doc, nodes

    def _blocks_in(self, text: str, base: int) -> int:
        """How many blocks the tree finds at the level of the list in `text` (a run's aggregates, then blocks)."""
        return len(_open_path(self._tree(text, base), stop="BANKTRANLIST")[1].children)

    def _end_run(self, moved: str) -> Iterator[Event]:
        run, self.run = self.run, None
        if run is None or run.index is None:
            return
        if run.head is None:
            yield from self._held(run, run.index, moved)

    def _held(self, run: _Run, index: int, moved: str = "") -> Iterator[Event]:
        """The run of a statement whose currency its transactions say: read whole, now it is complete.
        `moved`: the run's unclosed last block, which the skeleton reads (`_unclosed_last`); its
        CURRENCY says the statement's currency too, as in the reference."""
        assert run.stmt is not None  # a run with an index has its statement
        base = run.held[0][1] if run.held else self.lines
        doc, nodes = self._nodes(run, "".join(text for text, _ in run.held), base, bool(moved))
        listed = Node("BANKTRANLIST", 0)
        listed.children = nodes + self._moved_nodes(run, moved)
        head = self._head_of(run.doc, run.stmt, run.fid, listed)
        yield self._head(index, head)
        rows = self._transactions(head, doc, nodes)
        yield from (Rows(index, batch) for batch in batched(rows))
        head.rows = len(rows)

    def _moved_nodes(self, run: _Run, moved: str) -> list[Node]:
        """The unclosed last block of a run, as a node read under the run's aggregates (none when `moved` is empty)."""
        if not moved:
            return []
        return _open_path(self._tree(run.prefix + moved, self.lines), stop="BANKTRANLIST")[1].children

    def finish(self) -> Iterator[Event]:
        """The ends at the end of the file, after its last checks (cut off, XML form, statements)."""
        text = "".join(self.skeleton) + self.tail
        doc, root = Doc(self.path, text, self.options), self._tree(text)
        cut_in = unclosed(root)
        if cut_in:
            yield from self._partial(doc, root)
            raise cut_off(self.path, cut_in, self._last_complete(doc, root), self._rows_ended(), text.count("\n") + 1)
        if self.xml is not None:
            self.xml.raise_fault()
        found, fid = self._found(doc, root)
        if not found:
            raise InputError(self.path, why_empty(root.child("OFX") or root))
        yield from self._sync(doc, found, fid)

    def _partial(self, doc: Doc, root: Node) -> Iterator[Event]:
        """The ends of the statements a cut-off file completed, and of the one it was cut in when it
        has complete transactions: `collect` of the events is what --allow-partial imports."""
        ofx = root.child("OFX")
        found = list(ofx.find_all(STATEMENTS, PRUNE)) if ofx is not None else []
        fid = fid_of(ofx) if ofx is not None else None
        if self.run is not None and self.run.index is not None and self.run.head is None:
            yield from _quietly(self._held(self.run, self.run.index))
        for index, stmt in enumerate(found):
            if index in self.ended or (stmt.open and not (index in self.heads and self.heads[index].rows)):
                continue
            if index not in self.heads:
                yield from _quietly(self._whole(doc, index, stmt, fid))
            if index in self.heads:
                yield from _quietly(self._end(doc, index, stmt))

    def _rows_ended(self) -> int:
        return sum(self.heads[index].rows for index in self.ended)

    def _last_complete(self, doc: Doc, root: Node) -> str:
        if self.last_batch is None:
            return last_complete(doc, root)
        text, base = self.last_batch
        return last_complete(Doc(self.path, text, self.options, base), self._tree(text, base))


def _check_fitids(path: Path, head: _Head) -> None:
    """FITIDs on some transactions of the statement and not on others: refused as soon as that is
    known (the reference checks it before any value, so this comes first in a batch too)."""
    if head.first_missing is not None and head.with_fitid:
        raise missing_fitid(path, *head.first_missing)


def _quietly(events: Iterator[Event]) -> Iterator[Event]:
    """`events`, or none of them when reading them fails: a statement --allow-partial cannot keep."""
    try:
        read = list(events)
    except ImporterError:
        return
    yield from read


def _open_path(root: Node, stop: str = "") -> tuple[str, Node]:
    """The aggregates still open at the end of the tree's text, as start tags, and the innermost
    (or the first named `stop`)."""
    tags, node = [], root
    while node.tag != stop and node.children and node.children[-1].open:
        node = node.children[-1]
        tags.append(node.tag)
    return "".join(f"<{tag}>" for tag in tags), node
