"""The camt reader: hostile XML refused, batches expanded only when they add up, balances checked."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.errors import BalanceError, ParseError
from importer.core.models import Statement
from importer.parsers import ParseOptions, parse_file

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"


def entry(amount: str, indicator: str = "DBIT", details: str = "", status: str = "<Sts>BOOK</Sts>") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{status}'
        f"<BookgDt><Dt>2026-10-05</Dt></BookgDt><ValDt><Dt>2026-10-06</Dt></ValDt><AcctSvcrRef>REF-{amount}</AcctSvcrRef>"
        f"<NtryDtls>{details}</NtryDtls></Ntry>"
    )


def detail(amount: str, name: str, reference: str) -> str:
    return (
        f'<TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        f"<RltdPties><Cdtr><Nm>{name}</Nm></Cdtr><CdtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></CdtrAcct></RltdPties>"
        f"<RmtInf><Ustrd>Invoice {reference}</Ustrd></RmtInf></TxDtls>"
    )


def balance(code: str, amount: str) -> str:
    return f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>'


def document(
    entries: str, opening: str = "100.00", closing: str = "70.00", version: str = "02", prolog: str = ""
) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<Document xmlns="{NS.format(version=version)}"><BkToCstmrStmt><Stmt><Id>S1</Id>'
        f"<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>{balance('OPBD', opening)}{balance('CLBD', closing)}"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    )


def read(tmp_path: Path, text: str, **options: object) -> list[Statement]:
    path = tmp_path / "camt.xml"
    path.write_text(text, encoding="utf-8")
    return parse_file(path, ParseOptions(**options))  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["01", "02", "04", "08"])
def test_every_version_reads_alike(tmp_path: Path, version: str) -> None:
    [statement] = read(
        tmp_path, document(entry("30.00", details=detail("30.00", "Stadtwerke", "E2E-1")), version=version)
    )
    [txn] = statement.transactions
    assert (txn.amount, txn.payee, txn.memo, txn.bank_id) == (
        Decimal("-30.00"),
        "Stadtwerke",
        "Invoice E2E-1",
        "REF-30.00",
    )
    assert (str(txn.date), str(txn.value_date), txn.raw["counterparty_iban"]) == (
        "2026-10-05",
        "2026-10-06",
        "DE02120300000000202051",
    )


def test_a_batch_whose_details_add_up_is_expanded(tmp_path: Path) -> None:
    batch = entry("30.00", details=detail("10.00", "A GmbH", "E2E-A") + detail("20.00", "B AG", "E2E-B"))
    [statement] = read(tmp_path, document(batch))
    assert [(t.amount, t.payee, t.bank_id) for t in statement.transactions] == [
        (Decimal("-10.00"), "A GmbH", "E2E-A"),
        (Decimal("-20.00"), "B AG", "E2E-B"),
    ]


def test_a_batch_whose_details_do_not_add_up_stays_one_transaction(tmp_path: Path) -> None:
    batch = entry("30.00", details=detail("10.00", "A GmbH", "E2E-A") + detail("5.00", "B AG", "E2E-B"))
    [statement] = read(tmp_path, document(batch))
    [txn] = statement.transactions
    assert (txn.amount, txn.notes) == (
        Decimal("-30.00"),
        "batch of 2 transactions whose amounts do not add up to the entry; imported as one",
    )


def test_balances_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    text = document(entry("30.00"), closing="75.00")
    with pytest.raises(BalanceError) as caught:
        read(tmp_path, text)
    assert str(caught.value).endswith(
        "camt.xml: Stmt 1 (S1) does not add up: opening balance 100.00 + transactions -30.00 = 70.00, but the closing balance "
        "is 75.00 (a difference of 5.00). A transaction is missing or doubled; check the file, or pass --no-balance-check "
        "to import it anyway. Expected closing balance 70.00, found '75.00'."
    )
    assert len(read(tmp_path, text, check_balances=False)[0].transactions) == 1


def test_pending_entries_are_imported_but_not_counted_in_the_balance(tmp_path: Path) -> None:
    text = document(entry("30.00") + entry("5.00", status="<Sts><Cd>PDNG</Cd></Sts>"))
    [statement] = read(tmp_path, text)
    assert [t.raw["status"] for t in statement.transactions] == ["BOOK", "PDNG"]


def test_an_entity_expansion_bomb_is_refused(tmp_path: Path) -> None:
    bomb = '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    with pytest.raises(ParseError) as caught:
        read(tmp_path, document(entry("30.00", details="<TxDtls><AddtlTxInf>&c;</AddtlTxInf></TxDtls>"), prolog=bomb))
    assert "camt.xml: declares a DTD or entities (DTDForbidden); bank statements never do" in str(caught.value)


def test_an_external_entity_is_refused(tmp_path: Path) -> None:
    xxe = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(ParseError, match=r"declares a DTD or entities \(DTDForbidden\)"):
        read(tmp_path, document(entry("30.00", details="<TxDtls><AddtlTxInf>&x;</AddtlTxInf></TxDtls>"), prolog=xxe))


def test_broken_xml_names_the_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(
        ParseError,
        match=r"camt.xml, line 2: is not well-formed XML \(mismatched tag at column 3\): the file is damaged or was cut off; download it again\.$",
    ):
        read(tmp_path, document(entry("30.00")).replace("</Stmt>", "\n</Stmnt>"))
