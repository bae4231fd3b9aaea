"""The OFX reader on the quirks banks produce, one small file each, and its error messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import InputError, ParseError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file

HEADER = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
SIGNON = "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261101<LANGUAGE>ENG<FI><ORG>Bank<FID>1234</FI></SONRS></SIGNONMSGSRSV1>"


def statement(
    transactions: str,
    account: str = "<BANKACCTFROM><BANKID>111<ACCTID>222<ACCTTYPE>CHECKING</BANKACCTFROM>",
    curdef: str = "USD",
) -> str:
    return (
        f"<STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>{curdef}{account}"
        f"<BANKTRANLIST><DTSTART>20261001<DTEND>20261031{transactions}</BANKTRANLIST>"
        "<LEDGERBAL><BALAMT>100.00<DTASOF>20261031</LEDGERBAL><AVAILBAL><BALAMT>90.00<DTASOF>20261031</AVAILBAL></STMTRS></STMTTRNRS>"
    )


def txn(name: str = "SHOP", amount: str = "-1.00", posted: str = "20261002", fitid: str = "1", extra: str = "") -> str:
    return f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{posted}<TRNAMT>{amount}<FITID>{fitid}<NAME>{name}{extra}</STMTTRN>"


def write(tmp_path: Path, body: str, header: str = HEADER, encoding: str = "ascii") -> Path:
    path = tmp_path / "statement.ofx"
    path.write_bytes((header + body).encode(encoding))
    return path


def read(path: Path, **options: object) -> list[Statement]:
    return parse_file(path, ParseOptions(**options))  # type: ignore[arg-type]


def test_whole_file_on_one_line_with_unescaped_ampersand_and_cdata(tmp_path: Path) -> None:
    body = f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(txn('AT&T') + txn('<![CDATA[M&S <FOOD>]]>', fitid='2'))}</BANKMSGSRSV1></OFX>"
    [result] = read(write(tmp_path, body.replace("\n", "")))
    assert [t.payee for t in result.transactions] == ["AT&T", "M&S <FOOD>"]
    assert (result.closing_balance, result.available_balance) == (Decimal("100.00"), Decimal("90.00"))


def test_empty_leaf_tags_do_not_swallow_their_neighbours(tmp_path: Path) -> None:
    account = "<BANKACCTFROM><BANKID>111<BRANCHID><ACCTID>222<ACCTTYPE></BANKACCTFROM>"
    body = f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(txn(extra='<MEMO><CHECKNUM>77'), account)}</BANKMSGSRSV1></OFX>"
    [result] = read(write(tmp_path, body))
    assert result.account == "111:222"
    assert (result.transactions[0].memo, result.transactions[0].raw["checknum"]) == (None, "77")


def test_xml_with_closing_and_self_closing_tags_and_no_header(tmp_path: Path) -> None:
    body = (
        "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR</CURDEF><BANKACCTFROM><BANKID>9</BANKID><ACCTID>8</ACCTID>"
        "</BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20261005</DTPOSTED><TRNAMT>1025,50</TRNAMT>"
        "<FITID>x</FITID><NAME>Pay</NAME><MEMO/></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    [result] = read(write(tmp_path, body, header=""))
    assert (result.currency, result.transactions[0].amount, result.transactions[0].memo) == (
        "EUR",
        Decimal("1025.50"),
        None,
    )


def test_the_date_is_the_day_the_bank_wrote_not_utc(tmp_path: Path) -> None:
    body = f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(txn(posted='20261009233000.000[-5:EST]'))}</BANKMSGSRSV1></OFX>"
    [result] = read(write(tmp_path, body))
    assert result.transactions[0].date == dt.date(2026, 10, 9)


def test_cp1252_text_is_decoded_by_the_charset_header(tmp_path: Path) -> None:
    name = "Caf\u00e9 \u20ac"
    body = f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(txn(name))}</BANKMSGSRSV1></OFX>"
    [result] = read(write(tmp_path, body, encoding="cp1252"))
    assert result.transactions[0].payee == "Caf\u00e9 \u20ac"


def test_several_accounts_are_each_a_statement_and_ignore_a_single_account_name(tmp_path: Path) -> None:
    card = "<CCACCTFROM><ACCTID>4111</CCACCTFROM>"
    cards = statement(txn(), card).replace("STMTTRNRS>", "CCSTMTTRNRS>").replace("STMTRS>", "CCSTMTRS>")
    body = f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(txn())}</BANKMSGSRSV1><CREDITCARDMSGSRSV1>{cards}</CREDITCARDMSGSRSV1></OFX>"
    results = read(write(tmp_path, body), account="Mine")
    assert [s.account for s in results] == ["111:222", "1234:4111"]


def test_a_single_account_takes_the_name_the_user_gives(tmp_path: Path) -> None:
    [result] = read(
        write(tmp_path, f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(txn())}</BANKMSGSRSV1></OFX>"), account="Checking"
    )
    assert (result.account, result.bank_account_id, result.transactions[0].account) == (
        "Checking",
        "111:222",
        "Checking",
    )


def test_a_failed_sign_on_is_reported_as_such(tmp_path: Path) -> None:
    signon = SIGNON.replace("<CODE>0<SEVERITY>INFO", "<CODE>15500<SEVERITY>ERROR<MESSAGE>Wrong password")
    with pytest.raises(InputError) as caught:
        read(write(tmp_path, f"<OFX>{signon}</OFX>"))
    assert str(caught.value).endswith(
        "statement.ofx: the bank refused the sign-on (code 15500: Wrong password). Sign in again and download a new file."
    )


def test_an_investment_statement_is_refused_as_unsupported(tmp_path: Path) -> None:
    body = f"<OFX>{SIGNON}<INVSTMTMSGSRSV1><INVSTMTTRNRS><INVSTMTRS><CURDEF>USD</INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>"
    with pytest.raises(
        InputError,
        match=r"holds an investment statement \(INVSTMTRS\); only bank and credit-card statements are supported\.$",
    ):
        read(write(tmp_path, body))


def test_a_bad_amount_names_the_line_and_the_value(tmp_path: Path) -> None:
    body = f"<OFX>{SIGNON}\n<BANKMSGSRSV1>\n{statement(txn(amount='$12'))}</BANKMSGSRSV1></OFX>"
    with pytest.raises(ParseError) as caught:
        read(write(tmp_path, body))
    assert str(caught.value).endswith(
        "statement.ofx, line 13: TRNAMT of transaction 1 (FITID 1) is not an amount. "
        "Expected an amount such as -12.34 or -12,34 (sign, digits, one decimal mark), found '$12'."
    )


def test_a_statement_without_currency_asks_for_one(tmp_path: Path) -> None:
    path = write(tmp_path, f"<OFX>{SIGNON}<BANKMSGSRSV1>{statement(txn(), curdef='')}</BANKMSGSRSV1></OFX>")
    with pytest.raises(
        ParseError, match=r"the statement does not say its currency \(CURDEF is empty\); pass --currency\.$"
    ):
        read(path)
    assert read(path, currency="CAD")[0].currency == "CAD"


def test_a_sign_on_warning_still_reads_the_statement(tmp_path: Path) -> None:
    signon = SIGNON.replace("<CODE>0<SEVERITY>INFO", "<CODE>15000<SEVERITY>WARN<MESSAGE>Change your password soon")
    [result] = read(write(tmp_path, f"<OFX>{signon}<BANKMSGSRSV1>{statement(txn())}</BANKMSGSRSV1></OFX>"))
    assert len(result.transactions) == 1
