"""The OFX reader on damaged files: cut-off downloads, garbled values, hostile XML; each message pinned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import ParseError, TruncatedError
from importer.core.models import Statement
from importer.parsers import ParseOptions
from importer.parsers.ofx.reader import OfxParser
from importer.parsers.ofx.values import amount, date_value
from tests.test_ofx_reader import HEADER, SIGNON, statement, txn

LAKESIDE = Path("samples/ofx/lakeside-cu-2026-10.qfx")
CHECKING = Path("samples/ofx/checking-2026-10.ofx")
XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE"?>\n'
XML_BODY = (
    "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR</CURDEF><BANKACCTFROM><BANKID>9</BANKID><ACCTID>8</ACCTID>"
    "</BANKACCTFROM><BANKTRANLIST>\n<STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20261005</DTPOSTED><TRNAMT>{amount}</TRNAMT>"
    "<FITID>x</FITID><NAME>{name}</NAME></STMTTRN>\n</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
)


def parse(path: Path) -> list[Statement]:
    return OfxParser().parse(path, ParseOptions())


def write(tmp_path: Path, data: bytes | str, name: str = "statement.ofx") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def sgml(tmp_path: Path, transactions: str, curdef: str = "USD") -> Path:
    return write(
        tmp_path, HEADER + f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(transactions, curdef=curdef)}</BANKMSGSRSV1></OFX>"
    )


def refusal(path: Path, kind: type[ParseError] = ParseError) -> str:
    with pytest.raises(kind) as caught:
        parse(path)
    return str(caught.value)


# --- truncation --------------------------------------------------------------------------------


def test_a_cut_qfx_names_the_last_complete_transaction_and_keeps_the_complete_part(tmp_path: Path) -> None:
    """`head -c 992` of the Lakeside file: the savings statement is whole, the card statement lost."""
    path = write(tmp_path, LAKESIDE.read_bytes()[:992], LAKESIDE.name)
    with pytest.raises(TruncatedError) as caught:
        parse(path)
    assert str(caught.value).endswith(
        "lakeside-cu-2026-10.qfx, line 13: the file ends before its statement does (</CCSTMTTRNRS>, </CREDITCARDMSGSRSV1>, "
        "</OFX> never come): the download was most likely cut off. The last complete transaction (FITID S20261031-1, "
        "DTPOSTED 20261031, TRNAMT 3.12) is at line 12. Download the statement again, or pass --allow-partial to import "
        "the 2 complete transactions."
    )
    [savings] = caught.value.partial
    assert (savings.account, savings.closing_balance) == ("271974521:8812-S", Decimal("5203.12"))
    assert [(t.bank_id, t.amount) for t in savings.transactions] == [
        ("S20261020-1", Decimal("200.00")),
        ("S20261031-1", Decimal("3.12")),
    ]


def test_a_cut_inside_the_first_transaction_keeps_nothing(tmp_path: Path) -> None:
    data = CHECKING.read_bytes()
    path = write(tmp_path, data[: data.index(b"<TRNAMT>") + 10], CHECKING.name)
    with pytest.raises(TruncatedError) as caught:
        parse(path)
    assert "(</STMTTRN>, </BANKTRANLIST>, </STMTRS>, </STMTTRNRS>, </BANKMSGSRSV1>, </OFX> never come)" in str(
        caught.value
    )
    assert str(caught.value).endswith("No transaction in it is complete. Download the statement again.")
    assert caught.value.partial == ()


def test_a_cut_after_a_transaction_keeps_it_without_the_balance_it_never_reached(tmp_path: Path) -> None:
    data = CHECKING.read_bytes()
    path = write(tmp_path, data[: data.index(b"</STMTTRN>") + len(b"</STMTTRN>")], CHECKING.name)
    with pytest.raises(TruncatedError) as caught:
        parse(path)
    [kept] = caught.value.partial
    assert [(t.date, t.amount, t.bank_id) for t in kept.transactions] == [
        (dt.date(2026, 10, 1), Decimal("3250.00"), "202610010001")
    ]
    assert kept.closing_balance is None


def test_a_cut_xml_file_is_truncated_not_just_ill_formed(tmp_path: Path) -> None:
    text = XML_HEADER + XML_BODY.format(amount="1.00", name="Pay")
    path = write(tmp_path, text[: text.index("</BANKTRANLIST>")])
    with pytest.raises(TruncatedError) as caught:
        parse(path)
    assert "The last complete transaction (FITID x, DTPOSTED 20261005, TRNAMT 1.00) is at line 4." in str(caught.value)
    assert [t.amount for s in caught.value.partial for t in s.transactions] == [Decimal("1.00")]


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["-12.3x4", "12.00 13.00", "1.025,53", "1 025,53", "1e3", "NaN", "1_000", "$12", "--1", "\u0661\u0662", ""]
)
def test_anything_but_an_ofx_amount_is_refused(text: str) -> None:
    assert amount(text) is None


@pytest.mark.parametrize(
    ("text", "value"), [("-12.34", "-12.34"), ("+5.50", "5.50"), ("-200,00", "-200.00"), (".5", "0.5"), ("7.", "7")]
)
def test_ofx_amounts_read_exactly(text: str, value: str) -> None:
    assert str(amount(text)) == value


@pytest.mark.parametrize(
    "text",
    [
        "2026100",
        "20261002x",
        "202610021200",
        "20261002250000",
        "20261002120000.5",
        "20261002[-5:EST",
        "20261332",
        "2026-10-02",
    ],
)
def test_anything_but_an_ofx_date_is_refused(text: str) -> None:
    assert date_value(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "20261002",
        "20261002235960",
        "20261002120000.000",
        "20261002120000[-5:EST]",
        "20261002120000.000[+5.30:IST]",
        "20261002[0]",
    ],
)
def test_ofx_dates_read_as_the_day_written(text: str) -> None:
    assert date_value(text) == dt.date(2026, 10, 2)


def test_a_letter_inside_an_amount_names_the_transaction_and_the_text(tmp_path: Path) -> None:
    message = refusal(sgml(tmp_path, txn() + txn(amount="-1x2.00", fitid="F2")))
    assert message.endswith(
        "statement.ofx, line 11: TRNAMT of transaction 2 (FITID F2) is not an amount. "
        "Expected an amount such as -12.34 or -12,34 (sign, digits, one decimal mark), found '-1x2.00'."
    )


def test_a_garbled_value_date_is_an_error_not_a_missing_date(tmp_path: Path) -> None:
    message = refusal(sgml(tmp_path, txn(extra="<DTAVAIL>2026100x")))
    assert message.endswith(
        "DTAVAIL of transaction 1 (FITID 1) is not a date. Expected YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]], found '2026100x'."
    )


@pytest.mark.parametrize("curdef", ["ZZQ", "US\u00c4"])
def test_a_currency_that_is_no_iso_code_is_a_parse_error(tmp_path: Path, curdef: str) -> None:
    message = refusal(sgml(tmp_path, txn(), curdef=curdef))
    assert message.endswith(
        "statement.ofx, line 11: the STMTRS statement's currency is not an ISO 4217 code; the file may be damaged: "
        f"download it again. Expected a currency code such as USD or EUR, found '{curdef}'."
    )


def test_a_transaction_without_fitid_among_others_with_one_is_refused(tmp_path: Path) -> None:
    message = refusal(sgml(tmp_path, txn() + txn(fitid="")))
    assert message.endswith(
        "line 11: transaction 2 has no FITID while the others of its statement have one; the file is likely damaged. Download it again."
    )


def test_a_fitid_with_a_flipped_byte_is_refused(tmp_path: Path) -> None:
    data = CHECKING.read_bytes()
    at = data.index(b"<FITID>") + 9
    path = write(tmp_path, data[:at] + bytes([data[at] ^ 0x80]) + data[at + 1 :], CHECKING.name)
    assert (
        "the FITID of transaction 1 holds characters no bank's transaction id has; the file is likely damaged."
        in refusal(path)
    )


# --- structure ---------------------------------------------------------------------------------


def test_a_garbled_tag_name_is_refused(tmp_path: Path) -> None:
    message = refusal(sgml(tmp_path, txn().replace("<FITID>", "<FIT\u00c9D>")))
    assert message.endswith(
        "line 11: has a damaged tag <FIT\u00c9D>, so the file is damaged or not an OFX statement. Download it again."
    )


def test_an_end_tag_with_its_start_tag_garbled_is_refused(tmp_path: Path) -> None:
    message = refusal(sgml(tmp_path, txn() + txn(fitid="2").replace("<STMTTRN>", "<\u00d3TMTTRN>")))
    assert "has </STMTTRN> where no <STMTTRN> is open; a transaction or statement may be lost" in message


@pytest.mark.parametrize("xml", [False, True])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path, xml: bool) -> None:
    deep = "<A>" * 3000 + "</A>" * 3000
    text = (
        XML_HEADER + XML_BODY.replace("<OFX>", "<OFX>" + deep).format(amount="1.00", name="Pay")
        if xml
        else HEADER + "<OFX>" + deep + "</OFX>"
    )
    message = refusal(write(tmp_path, text))
    assert (
        "nests elements more than 200 deep; no OFX statement does, so the file is damaged or not an OFX statement."
        in message
    )


def test_xml_that_is_not_well_formed_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, XML_HEADER + XML_BODY.format(amount="1.00", name="Pay</MEMO>"))
    assert refusal(path).endswith(
        "statement.ofx, line 4: is not well-formed XML (mismatched tag at column 112); an OFX 2.x file must be. Download it again."
    )


@pytest.mark.parametrize(
    "dtd",
    [
        '<!DOCTYPE OFX [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>\n',
        '<!DOCTYPE OFX [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n',
    ],
)
def test_entities_and_dtds_are_refused(tmp_path: Path, dtd: str) -> None:
    body = XML_BODY.format(amount="1.00", name="&c;" if "&b;" in dtd else "&e;")
    path = write(tmp_path, XML_HEADER.replace("\n", "\n" + dtd, 1) + body)
    assert refusal(path).endswith(
        "statement.ofx: declares a DTD; OFX files never do, and its entities could make a reader fetch files or expand "
        "without end, so the file is refused."
    )


def test_a_well_formed_xml_file_reads(tmp_path: Path) -> None:
    [result] = parse(write(tmp_path, XML_HEADER + XML_BODY.format(amount="1025,50", name="M&amp;S")))
    assert [(t.amount, t.payee, t.date) for t in result.transactions] == [
        (Decimal("1025.50"), "M&S", dt.date(2026, 10, 5))
    ]


def test_a_character_reference_past_unicode_is_a_parse_error_naming_the_file(tmp_path: Path) -> None:
    message = refusal(sgml(tmp_path, txn(name="&#99999999999;")))
    assert "statement.ofx: could not be read as OFX (" in message and message.endswith(
        "the file looks damaged. Download it again."
    )
