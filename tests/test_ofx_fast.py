"""The fast OFX path (ofx_fast, ofx_rows) reads every file exactly as the tree reader does, or declines.

Each test reads a text both ways: `reference_statements` (the tree reader alone) and the parser's
own way (the fast path, falling back to the reference).  Both must give the same statements, to
the Decimal exponent, key order and fields set of every model, or the same error, word for word.
The streaming reader (`OfxParser.stream`) reads the same text from a file, and must give the same
statements (compared as tests/streamed.py says) or the same error and partial statements.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.core.errors import ImporterError
from importer.core.models import Statement, with_updates
from importer.parsers import ParseOptions
from importer.parsers.ofx.reader import OfxParser, fast_statements, reference_statements
from importer.parsers.ofx.text import decode
from tests.corpus import CorpusFile, corpus_params
from tests.streamed import as_file, streamed
from tests.streamed import outcome as streamed_outcome

SAMPLES = sorted(p for p in Path("samples/ofx").rglob("*") if p.suffix.lower() in {".ofx", ".qfx", ".qbo"})
GENERATED = Path("generated.ofx")
NESTED = "has a transaction (STMTTRN) that is not closed, and the next transaction would be read inside it"


def outcome(read: object) -> object:
    """What a reader gave, in a form that compares everything: statements in full, or the error."""
    try:
        statements = read()  # type: ignore[operator]
    except (ImporterError, ValueError) as error:  # ValueError: pydantic's, for a currency that is no ISO code
        return (type(error).__name__, str(error))
    return [_exactly(statement) for statement in statements]


def _exactly(statement: Statement) -> object:
    rows = [
        (
            repr(t),
            list(t.__dict__),
            t.model_fields_set,
            repr(t.source),
            t.source.model_fields_set,
            t.source.__pydantic_extra__,
            t.__pydantic_extra__,
            t.__pydantic_private__,
            t.model_dump_json(),
        )
        for t in statement.transactions
    ]
    return repr(statement.model_copy(update={"transactions": ()})), rows


def same_reading(text: str, path: Path = GENERATED, options: ParseOptions | None = None) -> bool:
    """Both readings of `text` agree, and the streaming reader's with them; True when the fast path
    read it (rather than declining)."""
    options = options or ParseOptions()
    fast = fast_statements(path, text, options)
    assert outcome(lambda: reference_statements(path, text, options)) == outcome(
        lambda: fast if fast is not None else reference_statements(path, text, options)
    )
    same_streamed(text, path, options, exact=path != GENERATED)
    return fast is not None


def same_streamed(text: str, path: Path, options: ParseOptions, exact: bool) -> None:
    """`OfxParser.stream` over the file of `text` (`path` itself when it holds `text`) reads it as
    the reference: the same statements, or a refusal.  `exact`: the same refusal, word for word.
    Generated texts are not held to that: they pile faults up in one statement, and the stream
    names the first in file order where the reference, holding the whole file, ranks them
    (FITIDs missing on some rows before a bad value on an earlier row)."""
    if not (path.is_file() and decode(path.read_bytes()) == text):
        path = as_file(text, path.name)
    got, want = streamed(path, options), streamed_outcome(lambda: reference_statements(path, text, options))
    if exact or isinstance(want, list):
        assert got == want
    else:
        assert isinstance(got, tuple) and (got[0] == "TruncatedError") == (want[0] == "TruncatedError"), (got, want)


@pytest.mark.parametrize("entry", corpus_params("ofx"))
def test_corpus_file_reads_the_same_both_ways(entry: CorpusFile) -> None:
    same_reading(decode(entry.path.read_bytes()), entry.path)
    same_reading(decode(entry.path.read_bytes()), entry.path, ParseOptions(account="Savings", currency="EUR"))


@pytest.mark.parametrize("path", SAMPLES, ids=str)
def test_sample_reads_the_same_both_ways_and_fast(path: Path) -> None:
    assert same_reading(decode(path.read_bytes()), path)
    assert outcome(lambda: OfxParser().parse(path, ParseOptions())) == outcome(
        lambda: reference_statements(path, decode(path.read_bytes()), ParseOptions())
    )


# --- generated statements ------------------------------------------------------------------

SGML_HEADER = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE"?>\n'

_SPACE = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\x1c", "\x85"])
_WORD = st.sampled_from(
    ["SHOP", "AT&T", "M&amp;S", "caf\u00e9", "&#233;t\u00e9", "&lt;b&gt;", "A  B", "&bogus;", "x", "0"]
)
_TEXT = st.builds(lambda a, words, b: a + " ".join(words) + b, _SPACE, st.lists(_WORD, max_size=3), _SPACE)
_DATE = st.sampled_from(
    [
        "20261002",
        "20261002120000",
        "20261031230000.000[-5:EST]",
        "20260230",
        "2026",
        "x20261002",
        "",
        "20261002 ",
        "20261002x",
        "202610021200",
        "20261002250000",
    ]
)
_AMOUNT = st.sampled_from(
    [
        "-12.34",
        "12",
        "+5.50",
        "1.025,53",
        "-200,00",
        "1 025,53",
        "1e3",
        "NaN",
        "abc",
        "",
        ".5",
        "-0.00",
        "1_000",
        "-1x2.00",
        "\u0661\u0662",
    ]
)
_GOOD_FITID = st.sampled_from(["1", "2026100201", "A&amp;B", " 7 "])
_GOOD_DATE = st.sampled_from(["20261002", "20261002120000", "20261031230000.000[-5:EST]"])
_GOOD_AMOUNT = st.sampled_from(["-12.34", "12", "+5.50", "1025,53", "-200,00", ".5", "-0.00", "7."])
_TAG_VALUES = {
    "TRNTYPE": st.sampled_from(["DEBIT", "CREDIT", "POS", ""]),
    "DTPOSTED": _DATE,
    "DTUSER": _DATE,
    "DTAVAIL": _DATE,
    "TRNAMT": _AMOUNT,
    "FITID": st.sampled_from(["1", "2026100201", "A&amp;B", " 7 ", ""]),
    "NAME": _TEXT,
    "MEMO": _TEXT,
    "CHECKNUM": st.sampled_from(["1001", ""]),
    "SIC": st.sampled_from(["5411"]),
}
_USUAL = ["TRNTYPE", "DTPOSTED", "TRNAMT", "FITID", "NAME", "MEMO"]
# Quirks put before or after a block's leaves: aggregates, CDATA, comments, a leaf given twice
# (the first wins), an empty leaf closed later ("<MEMO>" … "</MEMO>").
_EXTRAS = [
    "<PAYEE><NAME>Payee{n}</PAYEE>",
    "<CURRENCY><CURRATE>1.1<CURSYM>EUR</CURRENCY>",
    "<![CDATA[<b>&]]>",
    "<!-- note -->",
    "<TRNAMT>-99.00{n}",
    "<NAME>Second{n}",
    "<DTPOSTED>20200101{n}",
    "<FITID>dup</FITID>{n}",
    "<MEMO>{n}",
    "<MEMO></MEMO>",
    "<MEMO>late</MEMO>{n}",
    "<NAME>{n}<MEMO>m</MEMO><NAME>n</NAME>",
    "<NAME>{n}<MEMO>m</NAME>",
    "<SIC>1</NAME>{n}",
    "<STMTTRN>",
    "<CHECKNUM a=1>5{n}",
    "<NAME/>",
    "<stmttrn>",
]


def _odd(draw: st.DrawFn, chaos: int, one_in: int) -> bool:
    """Whether to make this part unusual: never in a calm document, more often the higher `chaos`."""
    return chaos > 0 and draw(st.integers(0, one_in // chaos)) == 0


@st.composite
def _leaf(draw: st.DrawFn, tag: str, xml: bool, newline: str, chaos: int) -> str:
    calm = (
        {"DTPOSTED": _GOOD_DATE, "DTAVAIL": _GOOD_DATE, "TRNAMT": _GOOD_AMOUNT, "FITID": _GOOD_FITID}.get(tag)
        if not _odd(draw, chaos, 20)
        else None
    )
    value = draw(calm if calm is not None else _TAG_VALUES[tag])
    style = (
        draw(st.sampled_from(["closed", "open", "self", "lower"]))
        if _odd(draw, chaos, 30)
        else ("closed" if xml else "open")
    )
    if style == "self" and not value:
        return f"<{tag}/>{newline}"
    if style == "lower":
        return f"<{tag.lower()}>{value}</{tag.lower()}>{newline}"
    return f"<{tag}>{value}" + (f"</{tag}>" if style == "closed" else "") + newline


@st.composite
def _block(draw: st.DrawFn, xml: bool, newline: str, tags: list[str], chaos: int) -> str:
    if _odd(draw, chaos, 10):
        tags = draw(st.lists(st.sampled_from(sorted(_TAG_VALUES)), max_size=8))  # any order, repeats, gaps
    leaves = "".join(draw(_leaf(tag, xml, newline, chaos)) for tag in tags)
    if _odd(draw, chaos, 2):
        extra = draw(st.sampled_from(_EXTRAS)).format(n=newline)
        leaves = extra + leaves if draw(st.booleans()) else leaves + extra
    closing = "" if _odd(draw, chaos, 50) else "</STMTTRN>"
    return f"<STMTTRN>{draw(_SPACE)}{leaves}{closing}{newline}"


@st.composite
def _statement(draw: st.DrawFn, xml: bool, newline: str, chaos: int) -> str:
    tags = draw(
        st.sampled_from(
            [
                _USUAL,
                _USUAL[:5],
                ["TRNTYPE", "DTPOSTED", "DTUSER", "TRNAMT", "FITID", "CHECKNUM", "NAME", "MEMO", "DTAVAIL"],
            ]
        )
    )
    blocks = "".join(draw(st.lists(_block(xml, newline, tags, chaos), min_size=0 if chaos == 3 else 1, max_size=5)))

    def close(tag: str) -> str:
        return f"</{tag}>" if xml else newline

    curdef = draw(st.sampled_from(["USD", "EUR", "", "usd", "ABC"]) if _odd(draw, chaos, 4) else st.just("USD"))
    account = "<BANKACCTFROM><BANKID>111{c[BANKID]}<ACCTID>222{c[ACCTID]}<ACCTTYPE>CHECKING{c[ACCTTYPE]}</BANKACCTFROM>"
    if _odd(draw, chaos, 4):
        account = draw(st.sampled_from(["<CCACCTFROM><ACCTID>4111{c[ACCTID]}</CCACCTFROM>", ""]))
    closings = {tag: close(tag) for tag in ("BANKID", "ACCTID", "ACCTTYPE")}
    dtend = draw(st.sampled_from(["<DTEND>20261031{c}", "<DTEND>{n}" if not xml else "<DTEND/>", ""]))
    end = "" if _odd(draw, chaos, 8) else "</BANKTRANLIST>"
    return (
        f"<STMTTRNRS><TRNUID>1{close('TRNUID')}<STATUS><CODE>0{close('CODE')}<SEVERITY>INFO{close('SEVERITY')}</STATUS>"
        f"<STMTRS><CURDEF>{curdef}{close('CURDEF')}{account.format(c=closings)}"
        f"<BANKTRANLIST><DTSTART>20261001{close('DTSTART')}{dtend.format(c=close('DTEND'), n=newline)}{newline}{blocks}{end}"
        f"<LEDGERBAL><BALAMT>100.00{close('BALAMT')}<DTASOF>20261031{close('DTASOF')}</LEDGERBAL></STMTRS></STMTTRNRS>"
    )


@st.composite
def _document(draw: st.DrawFn, calm: bool = False) -> str:
    xml = draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n", ""]))
    chaos = 0 if calm else draw(st.sampled_from([0, 0, 1, 2, 3]))
    statements = "".join(draw(st.lists(_statement(xml, newline, chaos), min_size=1, max_size=2)))
    signon = "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><FI><ORG>B</ORG><FID>9</FID></FI></SONRS></SIGNONMSGSRSV1>"
    body = f"<OFX>{signon}<BANKMSGSRSV1>{statements}</BANKMSGSRSV1></OFX>{newline}"
    return (
        XML_HEADER + _well_formed(body) if xml else SGML_HEADER + body.replace("</CODE>", "").replace("</SEVERITY>", "")
    )


def _well_formed(body: str) -> str:
    """The XML body without the text quirks only SGML may have (a bare "&", an unknown entity, a
    control character), so that the fast path, not the well-formedness check, meets the rest."""
    return body.replace("AT&T", "AT&amp;T").replace("&bogus;", "&amp;bogus;").replace("\x1c", " ")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document())
def test_generated_statements_read_the_same_both_ways(text: str) -> None:
    same_reading(text)


@settings(max_examples=40, deadline=None)
@given(_document(calm=True))
def test_generated_statements_without_quirks_take_the_fast_path(text: str) -> None:
    """The test above would prove little if the fast path declined the generated files."""
    assert same_reading(text)


# --- unclosed STMTTRN blocks ----------------------------------------------------------------

_UNCLOSED_HEAD = (
    "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><FI><ORG>B</ORG><FID>9</FID></FI></SONRS>"
    "</SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1\n<STATUS><CODE>0\n<SEVERITY>INFO\n</STATUS>"
    "<STMTRS><CURDEF>{curdef}\n<CCACCTFROM><ACCTID>4111\n</CCACCTFROM><BANKTRANLIST><DTSTART>20261001\n"
    "<DTEND>20261031\n\n"
)
_UNCLOSED_TAIL = (
    "\n<LEDGERBAL><BALAMT>100.00\n<DTASOF>20261031\n</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
)
_OPEN_BLOCK = "<STMTTRN><TRNTYPE>DEBIT</TRNTYPE>\n<DTPOSTED>20261002\n<TRNAMT>-12.34\n<FITID>1\n<NAME>\n"


def _unclosed(curdef: str, blocks: str) -> str:
    """An SGML statement whose list holds `blocks` and no </BANKTRANLIST>: the balances follow the blocks."""
    return SGML_HEADER + _UNCLOSED_HEAD.format(curdef=curdef) + blocks + _UNCLOSED_TAIL


def test_unclosed_last_transaction_says_the_currency_when_curdef_is_empty() -> None:
    """The last block is left open before the balances (the tree nests them in it) and CURDEF is
    empty: its CURRENCY says the statement's currency, in the stream as in the reference."""
    text = _unclosed("", _OPEN_BLOCK + "<CURRENCY><CURRATE>1.1<CURSYM>EUR</CURRENCY>\n")
    path = as_file(text)
    same_streamed(text, path, ParseOptions(), exact=True)
    [statement] = reference_statements(path, text, ParseOptions())
    assert statement.currency == "EUR" and statement.closing_balance is None
    assert [(t.amount, t.currency, t.bank_id) for t in statement.transactions] == [(Decimal("-12.34"), "EUR", "1")]


_PAYEE = "<PAYEE><NAME>Payee\n</PAYEE>\n"
_CLOSED_BLOCK = _OPEN_BLOCK.replace("<FITID>1", "<FITID>2") + "</STMTTRN>\n"


@pytest.mark.parametrize(
    "blocks",
    [
        # The next block is left open too and the balances follow it: the run ends at the block before.
        _OPEN_BLOCK + _PAYEE + _OPEN_BLOCK.replace("<NAME>\n", "<NAME></NAME>\n"),
        # Closed blocks follow, then the list's end: the stream's batch holds them all.
        _OPEN_BLOCK + _PAYEE + _CLOSED_BLOCK + _CLOSED_BLOCK.replace("<FITID>2", "<FITID>3") + "</BANKTRANLIST>",
        # The next block closes, then a second </STMTTRN> closes the first around it.
        _OPEN_BLOCK + _PAYEE + _CLOSED_BLOCK + "</STMTTRN>\n</BANKTRANLIST>",
        # The empty leaf is inside the block's PAYEE: the next block lands there.
        _OPEN_BLOCK.replace("<NAME>\n", "<PAYEE><NAME>\n") + _CLOSED_BLOCK + "</PAYEE></STMTTRN>\n</BANKTRANLIST>",
    ],
    ids=["open-then-balances", "closed-then-list-end", "closed-around", "inside-payee"],
)
def test_a_transaction_read_inside_an_unclosed_one_is_refused_both_ways(blocks: str) -> None:
    """A block left open inside an empty leaf taken for an aggregate ("<NAME>" then "<PAYEE>"):
    the tree reads the next blocks inside it, where no reader looks for transactions.  The
    reference and the stream both refuse the file, word for word, naming the open block's line,
    rather than import one transaction of two."""
    text = _unclosed("USD", blocks)
    path = as_file(text)
    want = (
        "ParseError",
        f"{path}, line 19: {NESTED}, so a transaction could be lost. Download the file again, or close the "
        "transaction with </STMTTRN>. Expected </STMTTRN> before the next <STMTTRN>.",
    )
    assert outcome(lambda: reference_statements(path, text, ParseOptions())) == want
    assert outcome(lambda: OfxParser().parse(path, ParseOptions())) == want
    assert streamed(path, ParseOptions()) == want


def test_rows_share_a_fields_set_that_copies_leave_alone() -> None:
    path = SAMPLES[0]
    [statement, *_] = fast_statements(path, decode(path.read_bytes()), ParseOptions()) or []
    first, second = statement.transactions[:2]
    before = set(second.model_fields_set)
    changed = [first.model_copy(update={"category": "Food"}), with_updates(first, {"notes": "n"})]
    assert all("category" in t.model_fields_set or "notes" in t.model_fields_set for t in changed)
    assert second.model_fields_set == first.model_fields_set == before
