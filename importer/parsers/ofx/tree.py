"""OFX text to a tree of aggregates, for SGML (1.x) and XML (2.x) alike, in one linear pass.

OFX 1.x is SGML: leaf elements ("<TRNAMT>-12.50") need no closing tag, aggregates ("<STMTTRN>")
do.  Banks add their own twists: closing tags on some leaves and not others, empty leaves
("<BALAMT>" followed directly by the next tag), the whole file on one line, CDATA sections, a
bare "&" in a memo.  One rule covers all of them:

* a tag followed by text is a leaf holding that text (a matching closing tag, if any, is ignored);
* a tag followed by another tag opens an aggregate;
* a closing tag closes the innermost open aggregate of that name.  Aggregates opened after it and
  never closed were in fact empty leaves: their contents move up to the parent.

What is still open at the end of the text is marked `open`: for a known aggregate (OFX, STMTRS,
STMTTRN...) that means the file was cut off, since aggregates must close even in SGML; the
statement reader refuses it (TruncatedError) and builds the partial statements from the nodes
that closed.  Nesting deeper than MAX_DEPTH raises TooDeep: no statement nests more than a dozen
aggregates, and the readers recurse over the tree.  Two more signs of a damaged file raise
Damaged, since reading on would lose a record without a word: a tag name running into other
characters ("<FIT\u00c9D>", a flipped byte), and the end tag of a known aggregate with none open
("</STMTTRN>" after its start tag was garbled).

The tree keeps leaves as a dict per aggregate (first value wins) and child aggregates as a list,
which is all a statement reader needs, and is several times faster than a DOM (issue 9 wants
100,000 transactions a second).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A start or end tag, then the text up to the next "<".  Tag names are letters, digits, "." and "_".
_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_.]*)([^<>]*)>([^<]*)")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Only well-formed references are decoded; a bare "&" (AT&T) is text as the bank meant it.
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]+|#[xX][0-9a-fA-F]+);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# The aggregates a statement reader uses.  These stay aggregates even when a bank forgets to close
# them (Nubank's </BANKTRANLIST>) or puts text in them ("<STMTTRN>*snipped*"); any other unclosed
# tag is taken for an empty leaf.
AGGREGATES = frozenset(
    "OFX SIGNONMSGSRSV1 SONRS STATUS FI BANKMSGSRSV1 CREDITCARDMSGSRSV1 INVSTMTMSGSRSV1 STMTTRNRS "
    "CCSTMTTRNRS INVSTMTTRNRS STMTRS CCSTMTRS INVSTMTRS BANKACCTFROM CCACCTFROM INVACCTFROM BANKTRANLIST "
    "STMTTRN PAYEE CURRENCY ORIGCURRENCY BANKACCTTO CCACCTTO LEDGERBAL AVAILBAL INVTRANLIST".split()
)

# Real statements nest about ten deep, plus one level per run of empty SGML leaves
# ("<BRANCHID><ACCTID>1"); far below where recursion over the tree would fail.
MAX_DEPTH = 200

# Aggregates some banks never close: an opening tag listed here ends the open aggregate first.
_ENDED_BY = {
    "BANKTRANLIST": frozenset({"LEDGERBAL", "AVAILBAL", "BALLIST", "MKTGINFO", "CASHADVBALAMT", "INTRATE"}),
    "STMTTRN": frozenset({"STMTTRN"}),
}


class Damaged(Exception):
    """The text breaks the structure no bank's file breaks; `offset` is the token number where."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


class TooDeep(Damaged):
    """Aggregates nest deeper than MAX_DEPTH."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset, f"nests elements more than {MAX_DEPTH} deep; no OFX statement does")


class Node:
    """One aggregate: its leaves by tag (upper case) and its child aggregates in file order."""

    __slots__ = ("children", "offset", "open", "tag", "values")

    def __init__(self, tag: str, offset: int) -> None:
        self.tag = tag
        self.values: dict[str, str] = {}
        self.children: list[Node] = []
        self.offset = offset  # the aggregate's token number, for line numbers in errors (`line_of`)
        self.open = False  # still open where the text ended: the file was cut inside it

    def walk(self) -> Iterator[Node]:
        """Every descendant aggregate, in file order."""
        for child in self.children:
            yield child
            yield from child.walk()

    def get(self, tag: str) -> str | None:
        """The leaf `tag` (stripped when read), or None when absent or empty."""
        return self.values.get(tag) or None

    def child(self, tag: str) -> Node | None:
        """The first child aggregate named `tag`."""
        return next((c for c in self.children if c.tag == tag), None)

    def find_all(self, tags: frozenset[str], prune: frozenset[str] = frozenset()) -> Iterator[Node]:
        """Descendant aggregates named in `tags` (not looking inside them or inside `prune`)."""
        for child in self.children:
            if child.tag in tags:
                yield child
            elif child.tag not in prune:
                yield from child.find_all(tags, prune)


def parse_tree(text: str) -> Node:
    """The document (as returned by `prepare`) as a tree under a synthetic root named "#ROOT"."""
    root = Node("#ROOT", 0)
    stack = [root]
    last_leaf = ""
    # findall (no match objects) is the hot loop; an aggregate remembers its token number instead
    # of its offset, and `line_of` finds the line again when an error needs it.
    for index, (closing, tag, rest, content) in enumerate(_TOKEN.findall(text)):
        tag = tag.upper()
        top = stack[-1]
        if rest and not rest[0].isspace() and rest[0] != "/":
            raise Damaged(index, f"has a damaged tag <{tag}{rest}>")
        if closing:
            if tag == top.tag or (tag != last_leaf and any(node.tag == tag for node in stack)):
                _close(stack, tag)
            elif tag in AGGREGATES:
                raise Damaged(index, f"has </{tag}> where no <{tag}> is open; a transaction or statement may be lost")
        elif rest.endswith("/"):
            top.values.setdefault(tag, "")
        elif (value := content.strip()) and tag not in AGGREGATES:
            top.values.setdefault(tag, unescape(value) if "&" in value else value)
            last_leaf = tag
        else:
            ended = _ENDED_BY.get(top.tag)
            if ended is not None and tag in ended:
                stack.pop()
            node = Node(tag, index)
            stack[-1].children.append(node)
            stack.append(node)
            if len(stack) > MAX_DEPTH:
                raise TooDeep(index)
    for node in stack[1:]:
        node.open = True
    while len(stack) > 1:
        _fold(stack)
    return root


def unclosed(root: Node) -> list[str]:
    """The known aggregates still open at the end of the text, outermost first."""
    return [node.tag for node in root.walk() if node.open and node.tag in AGGREGATES]


def line_of(text: str, node: Node) -> int:
    """The line of `text` where `node` starts."""
    return line_at(text, node.offset)


def line_at(text: str, offset: int) -> int:
    """The line of `text` where token number `offset` starts."""
    for index, match in enumerate(_TOKEN.finditer(text)):
        if index == offset:
            return text.count("\n", 0, match.start()) + 1
    return 1


def prepare(text: str) -> str:
    """The text without comments and with CDATA sections as escaped text; node offsets refer to it."""
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    if "<![CDATA[" in text:
        text = _CDATA.sub(lambda m: _escape(m.group(1)), text)
    return text


def _close(stack: list[Node], tag: str) -> None:
    """Close the innermost open aggregate named `tag` (the caller knows there is one).

    A closing tag for a leaf already taken ("</NAME>") matches no open aggregate; the caller
    skips it.
    """
    while stack[-1].tag != tag:
        _fold(stack)
    node = stack.pop()
    if not node.children and not node.values and tag not in AGGREGATES:
        # "<NAME></NAME>": an empty leaf written with both tags.
        parent = stack[-1]
        parent.children.pop()
        parent.values.setdefault(tag, "")


def _fold(stack: list[Node]) -> None:
    """Close the innermost aggregate that was never closed: a known one stays, others were empty leaves."""
    node = stack.pop()
    parent = stack[-1]
    if node.tag in AGGREGATES:
        return
    if parent.children and parent.children[-1] is node:
        parent.children.pop()
    parent.values.setdefault(node.tag, "")
    for key, value in node.values.items():
        parent.values.setdefault(key, value)
    parent.children.extend(node.children)


def unescape(text: str) -> str:
    """The text with its well-formed entity references decoded."""
    return _ENTITY.sub(_entity, text)


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith("#"):
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
    return _NAMED[name]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
