"""The dedupe layers over batches (importer/dedupe/stream.py) decide every line as `classify`,
the whole-file reference, decides it: whatever the batch size, against a state holding lines
of other files (of this format and another), held and dropped lines, aliases and landed rows."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.core.batch import batched
from importer.core.models import Source, Transaction
from importer.dedupe import stream
from importer.dedupe.layers import Action, Decision, FileContext, MatchSettings, Reason, classify
from importer.dedupe.stream import StreamDedupe
from importer.ids.recipe import DayLetGo, assign_ids
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
    state: State,
    txns: list[Transaction],
    size: int,
    ranges: dict[str, tuple[dt.date, dt.date]],
    kept: int = stream.HITS_KEPT,
    readings: list[bool] | None = None,
    settings: MatchSettings | None = None,
) -> dict[str, Outcome]:
    """The decisions of a file fed `size` lines a batch, keeping `kept` ids of lines found stored;
    read again keeping all of them when that raises DayLetGo, as the pipeline does (`readings`:
    whether each reading was bounded)."""
    match = settings or MatchSettings()
    with patch.object(stream, "HITS_KEPT", kept):
        try:
            bounded = StreamDedupe(state, LEDGER_TARGET, NEW_FILE, "csv", match)
            return _streamed(bounded, txns, size, ranges, readings)
        except DayLetGo:
            unbounded = StreamDedupe(state, LEDGER_TARGET, NEW_FILE, "csv", match, bounded=False)
            return _streamed(unbounded, txns, size, ranges, readings)


def _streamed(
    dedupe: StreamDedupe,
    txns: list[Transaction],
    size: int,
    ranges: dict[str, tuple[dt.date, dt.date]],
    readings: list[bool] | None,
) -> dict[str, Outcome]:
    if readings is not None:
        readings.append(dedupe.bounded)
    decided: dict[str, Outcome] = {}
    for batch in batched(txns, size):
        out = dedupe.batch(batch)
        if dedupe.bounded:  # the ids kept: HITS_KEPT beyond the wanted days and the batch's own
            beyond = sum(len(ids) for day, ids in dedupe.hits.items() if day not in dedupe.wanted)
            assert beyond <= max(stream.HITS_KEPT, len(batch))
        ids = batch.column("external_id")
        decided.update({ids[i] or "": (Action.SEND, None, None) for i in out.new})
        decided.update({row["external_id"] or "": (Action.SKIP, Reason(row["reason"]), None) for row in out.listed})
        decided.update({d.txn.external_id or "": outcome(d) for d in out.decisions})
    decided.update({d.txn.external_id or "": outcome(d) for d in dedupe.finish(ranges)})
    return decided


@settings(max_examples=60, deadline=None)
@given(
    st.lists(STORED, max_size=8),
    st.lists(LINE, min_size=1, max_size=12),
    st.integers(1, 5),
    st.sampled_from([0, 1, 3, stream.HITS_KEPT]),
    st.data(),
)
def test_batches_of_any_size_decide_every_line_as_the_whole_file_does(
    stored: list[tuple[tuple[int, str, str], str, str, bool]],
    new: list[tuple[int, str, str]],
    size: int,
    kept: int,
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
        assert streamed(state, txns, size, ranges, kept) == expected


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


def test_a_file_imported_again_keeps_a_bounded_number_of_its_ids_and_reads_again_for_a_day_let_go() -> None:
    # Day 1's coffee is stored from another file and is a line of this one too (found stored);
    # day 9's coffee, same amount, has it as a candidate within the window only if the window is
    # 8 days.  Fed a line a batch with 2 ids kept, day 1 is let go before day 9 comes: the file is
    # read again keeping every id, and decides as the whole file does (a line of this very file
    # is never another line's match).
    days = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    rows = [(day, "-3.10", "COFFEE SHOP" if day in (1, 9) else f"SHOP {day}") for day in days]
    txns = lines(rows, "new.csv")
    ranges = {ACCOUNT: (txns[0].date, txns[-1].date)}
    settings = MatchSettings(window_days=8)
    with tempfile.TemporaryDirectory() as tmp, State(Path(tmp) / "state.sqlite") as state:
        run = state.begin_run("test")
        earlier = txns[:8]  # days 1-8 stored from an earlier file: found stored again
        state.store_transactions(earlier, run, "e" * 64)
        state.add_to_ledger(earlier, run)
        whole = classify(state, LEDGER_TARGET, txns, FileContext(NEW_FILE, "csv", ranges), settings)
        readings: list[bool] = []
        decided = streamed(state, txns, 1, ranges, kept=2, readings=readings, settings=settings)
    assert decided == {d.txn.external_id or "": outcome(d) for d in whole}
    assert readings == [True, False]
    assert decided[txns[8].external_id or ""] == (Action.SEND, None, None)
