"""External ids over column batches (`IdAssigner.assign_batch`) equal the per-row recipe, also when
the assigner is bounded and lets days go (a statement out of date order gets its counters back
from what was stored)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from importer.core.accounts import Account
from importer.core.batch import TxBatch, batched
from importer.core.errors import ImporterError
from importer.core.models import Source, Transaction
from importer.ids.recipe import IdAssigner, assign_ids
from importer.parsers import ParseOptions, parse_file
from importer.run.pipeline import statement_files

ACCOUNT = Account(name="checking", key="iban:DE00123", recipe="v2")


def row(description: str, amount: str, day: int, bank_id: str | None, line: int) -> Transaction:
    return Transaction(date=dt.date(2026, 10, day), amount=Decimal(amount), currency="EUR", description=description,
                       account="checking", bank_id=bank_id, source=Source(path="x.csv", line=line))


def stored_recount(stored: list[TxBatch]):  # type: ignore[no-untyped-def]
    """`recount` over the batches already 'stored', as the pipeline's store query does."""
    def recount(day: dt.date) -> Iterable[tuple[Decimal, str, str | None]]:
        for batch in stored:
            for d, amount, text, bank in zip(batch.date, batch.amount, batch.description, batch.column("bank_id")):
                if d == day:
                    yield amount, text, bank
    return recount


def batch_ids(txns: list[Transaction], size: int, window: int | None) -> list[str | None]:
    stored: list[TxBatch] = []
    assigner = IdAssigner(ACCOUNT, window=window, recount=stored_recount(stored) if window else None)
    ids: list[str | None] = []
    for batch in batched(txns, size):
        done = assigner.assign_batch(batch)
        stored.append(done)  # stored before the next batch, as the pipeline does
        ids.extend(done.column("external_id"))
    return ids


ROWS = st.lists(st.tuples(st.sampled_from(["COFFEE 1", "coffee  1", "RENT"]), st.sampled_from(["-3", "-3.00", "12"]),
                          st.integers(1, 6), st.sampled_from([None, "F1", " F1 "])), max_size=40)


@given(ROWS, st.integers(1, 7), st.sampled_from([None, 1, 2]))
def test_batches_of_any_size_and_any_window_give_the_one_pass_ids(rows: list[tuple[str, str, int, str | None]],
                                                                 size: int, window: int | None) -> None:
    txns = [row(d, a, day, bank, n) for n, (d, a, day, bank) in enumerate(rows)]
    expected = [t.external_id for t in assign_ids(txns, ACCOUNT)]
    assert batch_ids(txns, size, window) == expected


def test_a_day_that_comes_back_is_recounted_from_the_stored_rows() -> None:
    txns = [row("COFFEE", "-3", 1, None, 1), row("TEA", "-2", 2, None, 2), row("TEA", "-2", 3, None, 3),
            row("COFFEE", "-3", 1, None, 4)]
    ids = batch_ids(txns, size=1, window=1)
    assert ids == [t.external_id for t in assign_ids(txns, ACCOUNT)]
    assert ids[0] != ids[3]  # the second coffee of day 1 is occurrence 1, though day 1 was let go


def test_a_bounded_assigner_must_be_able_to_recount() -> None:
    try:
        IdAssigner(ACCOUNT, window=3)
    except ValueError as exc:
        assert "recount" in str(exc)
    else:
        raise AssertionError("a bounded assigner without recount was accepted")


def test_batch_ids_equal_the_recipe_on_every_sample() -> None:
    checked = 0
    for path in statement_files([Path("samples")]):
        try:
            statements = parse_file(path, ParseOptions(default_currency="USD"))
        except ImporterError:
            continue  # samples of refusals
        for statement in statements:
            txns = list(statement.transactions)
            assert batch_ids(txns, 7, window=2) == [t.external_id for t in assign_ids(txns, ACCOUNT)], path
            checked += len(txns)
    assert checked > 250
