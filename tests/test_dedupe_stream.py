"""The dedupe layers over batches (importer/dedupe/stream.py) decide every line as `classify`,
the whole-file reference, decides it: whatever the batch size, against a state holding lines
of other files (of this format and another), held and dropped lines, aliases and landed rows."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.core.batch import batched
from importer.core.models import Source, Transaction
from importer.dedupe.layers import Action, Decision, FileContext, MatchSettings, Reason, classify
from importer.dedupe.stream import StreamDedupe
from importer.ids.recipe import assign_ids
from importer.store.base import LEDGER_TARGET
from importer.store.sqlite import State

ACCOUNT = "checking"
NEW_FILE = "b" * 64
LINE = st.tuples(
    st.integers(1, 8),  # day of October
    st.sampled_from(["-3.10", "-12", "40"]),
    st.sampled_from(["COFFEE SHOP", "coffee  shop 12", "RENT OCTOBER", "GROCER"]),
)
# (line, the other file's format, its status, landed in the ledger, an alias of the line)
STORED = st.tuples(
    LINE, st.sampled_from(["csv", "ofx"]), st.sampled_from(["ok", "ok", "review", "dropped"]), st.booleans()
)

Outcome = tuple[Action, Reason | None, str | None]


def lines(rows: Sequence[tuple[int, str, str]], path: str) -> list[Transaction]:
    txns = [
        Transaction(
            date=dt.date(2026, 10, day),
            amount=Decimal(amount),
            currency="EUR",
            description=text,
            account=ACCOUNT,
            source=Source(path=path, line=n + 2),
        )
        for n, (day, amount, text) in enumerate(rows)
    ]
    return assign_ids(txns)


def store_other_files(state: State, stored: list[tuple[tuple[int, str, str], str, str, bool]]) -> None:
    """Each stored line as the one line of its own earlier file, with its format and status."""
    run = state.begin_run("test")
    for n, (line, fmt, status, landed) in enumerate(stored):
        sha = f"{n:064x}"
        txns = lines([line], f"earlier-{n}.{fmt}")
        state.record_file(sha, Path(f"earlier-{n}.{fmt}"), 1, run)
        state.store_transactions(txns, run, sha, status)
        state.record_run_file(run, sha, Path(f"earlier-{n}.{fmt}"), fmt, 1, 1)
        if landed and status == "ok":
            state.add_to_ledger(txns, run)


def outcome(decision: Decision) -> Outcome:
    return decision.action, decision.reason, decision.match.external_id if decision.match else None


def streamed(
    state: State, txns: list[Transaction], size: int, ranges: dict[str, tuple[dt.date, dt.date]]
) -> dict[str, Outcome]:
    dedupe = StreamDedupe(state, LEDGER_TARGET, NEW_FILE, "csv", MatchSettings())
    decided: dict[str, Outcome] = {}
    for batch in batched(txns, size):
        out = dedupe.batch(batch)
        ids = batch.column("external_id")
        decided.update({ids[i] or "": (Action.SEND, None, None) for i in out.new})
        decided.update({row["external_id"] or "": (Action.SKIP, Reason(row["reason"]), None) for row in out.listed})
        decided.update({d.txn.external_id or "": outcome(d) for d in out.decisions})
    decided.update({d.txn.external_id or "": outcome(d) for d in dedupe.finish(ranges)})
    return decided


@settings(max_examples=60, deadline=None)
@given(st.lists(STORED, max_size=8), st.lists(LINE, min_size=1, max_size=12), st.integers(1, 5), st.data())
def test_batches_of_any_size_decide_every_line_as_the_whole_file_does(
    stored: list[tuple[tuple[int, str, str], str, str, bool]],
    new: list[tuple[int, str, str]],
    size: int,
    data: st.DataObject,
) -> None:
    txns = lines(sorted(new), "new.csv")
    ranges = {ACCOUNT: (txns[0].date, txns[-1].date)}
    with tempfile.TemporaryDirectory() as tmp, State(Path(tmp) / "state.sqlite") as state:
        store_other_files(state, stored)
        stored_ids = [e for (e,) in state.db.execute("SELECT external_id FROM transactions")]
        if stored_ids and txns:  # a line of this file that an earlier run matched to a stored record
            alias = data.draw(st.sampled_from([t.external_id or "" for t in txns]))
            state.add_aliases([(alias, data.draw(st.sampled_from(stored_ids)), "other-format")], 1)
        whole = classify(state, LEDGER_TARGET, txns, FileContext(NEW_FILE, "csv", ranges), MatchSettings())
        expected = {d.txn.external_id or "": outcome(d) for d in whole}
        assert streamed(state, txns, size, ranges) == expected


def test_a_new_statement_is_all_new_and_a_second_import_all_already_imported() -> None:
    txns = lines([(day, "-3.10", f"SHOP {day}") for day in range(1, 9)], "new.csv")
    ranges = {ACCOUNT: (txns[0].date, txns[-1].date)}
    with tempfile.TemporaryDirectory() as tmp, State(Path(tmp) / "state.sqlite") as state:
        assert set(streamed(state, txns, 3, ranges).values()) == {(Action.SEND, None, None)}
        run = state.begin_run("test")
        state.store_transactions(txns, run, NEW_FILE)
        state.add_to_ledger(txns, run)
        again = streamed(state, txns, 3, {})
    assert again == {t.external_id: (Action.SKIP, Reason.ALREADY_IMPORTED, None) for t in txns}
