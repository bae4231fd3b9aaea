"""OfxParser.stream on a statement too large for one batch: rows come out while the file is still
being read, each batch numbered on from the last, and a fault half way names its line after the
complete batches before it (what --allow-partial keeps of a cut-off file is those rows).

The statement is samples/ofx/checking-2026-10.ofx with its first transaction repeated (a new
FITID and amount each time) ROWS times: about 1.2 MB, which the stream cuts into about ten
batches once it reads 64 KB at a time and cuts a batch at 128 KB (it reads 1 MB and cuts at
2 MB: showing the same would take a file of several MB and much of this machine's time).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from importer.core.batch import BATCH_ROWS
from importer.core.errors import ParseError, TruncatedError
from importer.parsers import ParseOptions
from importer.parsers.base import StatementFile
from importer.parsers.ofx import streaming
from importer.parsers.ofx.reader import OfxParser
from importer.parsers.stream import Event, Rows, StatementEnd, StatementHead, collect
from tests.streamed import said

SAMPLE = Path("samples/ofx/checking-2026-10.ofx")
ROWS = 8_000


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "BATCH_BYTES", 128 * 1024)
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 64 * 1024)


def large_statement(tmp_path: Path, edit: dict[int, tuple[str, str]] | None = None, cut_in: int | None = None) -> Path:
    """The sample with ROWS transactions; `edit` replaces a text in transaction n (1-based);
    `cut_in` ends the file half way into transaction n."""
    text = SAMPLE.read_text(encoding="ascii")
    start, end = text.index("<STMTTRN>"), text.index("</BANKTRANLIST>")
    block = text[start : text.index("</STMTTRN>", start) + len("</STMTTRN>\n")]
    blocks = []
    for n in range(1, ROWS + 1):
        one = re.sub(r"<FITID>[^\n]*", f"<FITID>F{n:06d}", block)
        one = re.sub(r"<TRNAMT>[^\n]*", f"<TRNAMT>-{n // 100}.{n % 100:02d}", one)
        if edit and n in edit:
            one = one.replace(*edit[n])
        blocks.append(one[: len(one) // 2] if n == cut_in else one)
        if n == cut_in:
            break
    path = tmp_path / "large.ofx"
    path.write_text(text[:start] + "".join(blocks) + ("" if cut_in else text[end:]), encoding="ascii")
    return path


def read(path: Path) -> tuple[list[Event], list[int], Exception | None]:
    """The events of the stream, how much of the file was read at each, and the error it ended with."""
    events: list[Event] = []
    read_at: list[int] = []
    with StatementFile(path, ParseOptions()) as source:
        try:
            for event in OfxParser().stream(source, ParseOptions()):
                events.append(event)
                read_at.append(source.bytes_read)
        except ParseError as error:
            return events, read_at, error
    return events, read_at, None


def line_of_transaction(path: Path, n: int) -> int:
    text = path.read_text(encoding="ascii")
    at = -1
    for _ in range(n):
        at = text.index("<STMTTRN>", at + 1)
    return text.count("\n", 0, at) + 1


def test_rows_come_out_in_batches_before_the_file_is_read(tmp_path: Path) -> None:
    path = large_statement(tmp_path)
    events, read_at, error = read(path)
    assert error is None
    rows = [(event, at) for event, at in zip(events, read_at) if isinstance(event, Rows)]
    assert len(rows) >= 5 and rows[0][1] < path.stat().st_size / 2
    assert all(len(event.batch) <= BATCH_ROWS for event, _ in rows)
    assert [event.batch.first_index for event, _ in rows] == [
        0,
        *(sum(len(e.batch) for e, _ in rows[:i]) for i in range(1, len(rows))),
    ]
    assert (
        isinstance(events[0], StatementHead)
        and events[0].account == "021000021:000123456789"
        and events[0].currency == "USD"
    )
    assert isinstance(events[-1], StatementEnd) and events[-1].rows == ROWS
    [statement] = collect(events)
    assert statement.transactions[5_999].bank_id == "F006000" and statement.transactions[5_999].amount == Decimal(
        "-60.00"
    )
    assert statement.transactions[-1].source.record == ROWS
    assert said([statement]) == said(OfxParser().parse(path, ParseOptions()))


def test_a_bad_amount_in_a_late_batch_names_its_line_after_the_complete_batches(tmp_path: Path) -> None:
    path = large_statement(tmp_path, edit={6_001: ("<TRNAMT>-", "<TRNAMT>-1x")})
    events, _, error = read(path)
    assert isinstance(error, ParseError) and not isinstance(error, TruncatedError)
    assert error.line == line_of_transaction(path, 6_001)
    assert "TRNAMT of transaction 6001 (FITID F006001) is not an amount" in str(error) and "-1x60.01" in str(error)
    yielded = [t for event in events if isinstance(event, Rows) for t in event.batch.transactions()]
    assert 0 < len(yielded) < 6_001 and [t.bank_id for t in yielded] == [
        f"F{n:06d}" for n in range(1, len(yielded) + 1)
    ]


def test_a_fitid_missing_in_a_late_batch_is_refused_with_its_line(tmp_path: Path) -> None:
    path = large_statement(tmp_path, edit={6_001: ("<FITID>F006001\n", "")})
    _, _, error = read(path)
    assert isinstance(error, ParseError)
    assert "transaction 6001 has no FITID while the others of its statement have one" in str(error)
    assert error.line == line_of_transaction(path, 6_001)


def test_a_file_cut_in_a_late_batch_keeps_the_complete_transactions(tmp_path: Path) -> None:
    path = large_statement(tmp_path, cut_in=7_000)
    events, _, error = read(path)
    assert isinstance(error, TruncatedError)
    [statement] = collect(events)
    assert len(statement.transactions) == 6_999 and statement.transactions[-1].bank_id == "F006999"
    assert "The last complete transaction (FITID F006999, DTPOSTED" in str(error)
    assert f"is at line {line_of_transaction(path, 6_999)}." in str(error)
    assert "pass --allow-partial to import the 6999 complete transactions" in str(error)


@pytest.mark.parametrize("options", [ParseOptions(), ParseOptions(account="Checking")], ids=["own", "--account"])
def test_the_sample_streams_as_it_parses(options: ParseOptions) -> None:
    events: list[Event] = []
    with StatementFile(SAMPLE, options) as source:
        events.extend(OfxParser().stream(source, options))
        assert source.bytes_read == SAMPLE.stat().st_size
    assert said(collect(events)) == said(OfxParser().parse(SAMPLE, options))
