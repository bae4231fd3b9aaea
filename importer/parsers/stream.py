"""A file as a stream of events: each statement's head, its rows in batches, then its end.

    StatementHead(0) Rows(0) Rows(0) ... StatementEnd(0) StatementHead(1) Rows(1) ... StatementEnd(1)

The head comes before any row of its statement and carries what the pipeline needs to resolve
the account (name, currency, the bank's identifier for it), so ids and dedupe can start on the
first batch.  The end carries what is only known once every row is read (closing balance, dates,
notes) as a `Statement` without transactions; the parser has checked the balance by then.  Rows of
different statements may interleave (a CSV with an account column), each `Rows` naming its
statement; every statement's head precedes its rows and its end follows them.

A parser that cannot read to the end raises its `ParseError` (or `TruncatedError`) from inside
the stream: the events before it are the complete records, which `--allow-partial` keeps and
everything else throws away.  `events_of` and `collect` convert between this and the list of
`Statement`s, so a parser written either way serves both, and every fast streaming reader can be
checked against its reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from importer.core.batch import BATCH_ROWS, TxBatch, batched
from importer.core.models import Statement, Transaction


@dataclass(frozen=True, slots=True)
class StatementHead:
    """Statement `index` of a file, as known before its first row."""

    index: int
    path: str
    format: str
    account: str
    currency: str
    bank_account_id: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class Rows:
    """Consecutive rows of statement `index`."""

    index: int
    batch: TxBatch


@dataclass(frozen=True, slots=True)
class StatementEnd:
    """Statement `index` is complete: `statement` is its header with `transactions=()`."""

    index: int
    statement: Statement
    rows: int


Event = StatementHead | Rows | StatementEnd


def head_of(index: int, statement: Statement) -> StatementHead:
    return StatementHead(
        index=index,
        path=statement.path,
        format=statement.format,
        account=statement.account,
        currency=statement.currency,
        bank_account_id=statement.bank_account_id,
        profile=statement.profile,
    )


def events_of(statements: Iterable[Statement], size: int = BATCH_ROWS) -> Iterator[Event]:
    """The stream of already-parsed `statements` (for parsers that build whole statements)."""
    for index, statement in enumerate(statements):
        yield head_of(index, statement)
        for batch in batched(statement.transactions, size):
            yield Rows(index, batch)
        header = statement.model_copy(update={"transactions": ()})
        yield StatementEnd(index, header, len(statement.transactions))


def collect(events: Iterable[Event]) -> list[Statement]:
    """The statements of a stream, whole (for `parse`, tests and the reference paths)."""
    rows: dict[int, list[Transaction]] = {}
    done: dict[int, Statement] = {}
    for event in events:
        if isinstance(event, StatementHead):
            rows[event.index] = []
        elif isinstance(event, Rows):
            rows[event.index].extend(event.batch.transactions())
        else:
            done[event.index] = event.statement.model_copy(update={"transactions": tuple(rows[event.index])})
    return [done[index] for index in sorted(done)]
