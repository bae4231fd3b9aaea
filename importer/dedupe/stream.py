"""The dedupe layers (importer/dedupe/layers.py) over a file handed over in batches.

The layers decide a line by what is stored and by the whole file: which dates each account of the
file covers (pending → posted), which stored records are lines of this same file (never another
line's match), and one-to-one matching over all its lines.  A streaming import cannot hold a whole
file, so the work is split by how much of the file a decision needs:

- **exact** (already imported, a known alias, dropped, stored but unconfirmed) needs one line and
  the state: decided batch by batch;
- a line with **no candidate** (no stored record of another file with its account, currency and
  amount within the window) can only be new: stored at once, from the batch's columns, without
  building a `Transaction` — nearly every line of a new statement;
- a line **with candidates** waits, with its candidate pairs, until the file has ended: then the
  file's ranges and its ids are known and the pairs are matched one to one exactly as `classify`
  matches them.  Only such lines are held in memory: the overlap with what is stored, not the file.

The ids of the lines the exact layer found stored are what `finish` asks of "lines of this same
file", for the waiting lines' candidates.  A file imported again is all such lines, so they are
kept by day, at most `HITS_KEPT` ids beyond the days some waiting line's candidates fall on
(those are kept to the end): a candidate's date is its id's (the id recipe hashes the date), so a
candidate on a day let go is the one case that would need a day no longer kept, and it raises
`DayLetGo`, as the id assigner does, for the file to be read again keeping every day.

`tests/test_dedupe_stream.py` checks that the decisions equal `classify` over the whole file, for
any batch size and any number of ids kept.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from importer.core.batch import TxBatch
from importer.core.models import Transaction
from importer.dedupe.layers import (
    Action,
    Candidate,
    Decision,
    FileContext,
    Known,
    MatchSettings,
    Reason,
    decide_pair,
    exact_decision,
    kind_of,
    pool_of,
    similarity,
)
from importer.ids.recipe import DayLetGo
from importer.store.base import Store

DUPLICATES_LISTED = 1_000  # rows not sent that a report lists one by one; the rest are counted
# Ids of lines found stored kept beyond the days waiting lines need (see the module doc): a
# million-line file imported again held 80 MB of them, read only for the waiting lines' candidates.
HITS_KEPT = 100_000


@dataclass
class BatchDecisions:
    """What the layers made of one batch: rows to store as new (by index), and the rest."""

    new: list[int]
    decisions: list[Decision]  # decided rows that are not simply new (exact layer, held ones sent)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows skipped without a Decision
    listed: list[dict[str, str | None]] = field(default_factory=list)


@dataclass
class _Waiting:
    """A line with candidates, waiting for the end of the file."""

    order: int  # its place in the file: ties in matching go to the earlier line, as in `classify`
    txn: Transaction
    candidates: list[Candidate]


class StreamDedupe:
    """`classify` for one file, fed batch by batch (see the module doc)."""

    def __init__(
        self, state: Store, target: str, sha256: str, fmt: str, settings: MatchSettings, bounded: bool = True
    ) -> None:
        self.state, self.target, self.sha256, self.fmt, self.settings = state, target, sha256, fmt, settings
        self.waiting: list[_Waiting] = []
        # ids of this file's lines found stored (exact layer), by their day, the last seen last;
        # `bounded`: only HITS_KEPT of them beyond the `wanted` days (the module doc)
        self.hits: dict[dt.date, set[str]] = {}
        self.bounded = bounded
        self.kept = 0  # ids in `hits`
        self.wanted: set[dt.date] = set()  # days of the waiting lines' candidates: kept to the end
        self.let_go: set[dt.date] = set()  # days whose ids were let go
        self.ranges: dict[str, tuple[dt.date, dt.date]] = {}  # account -> the dates the file covers
        self.seen = 0
        self.listed = 0  # rows listed one by one so far (DUPLICATES_LISTED at most)

    def batch(self, batch: TxBatch) -> BatchDecisions:
        """The decisions for `batch`, except those of lines with candidates (see `finish`)."""
        ids = [ext or "" for ext in batch.column("external_id")]
        # Asked in id order: the store's lookups then walk its id index from one end to the other,
        # each near the last, instead of a random page per id (a fifth less at a million rows).
        known = Known.of(self.state, self.target, sorted(ids))
        self._cover(batch)
        out = BatchDecisions(new=[], decisions=[])
        stored = known.accepted.union(known.aliases, known.statuses)
        # A new statement's rows are known nowhere: then every row is undecided, with no pass over them.
        exact = [i for i, ext in enumerate(ids) if ext in stored] if stored else []
        undecided = [i for i, ext in enumerate(ids) if ext not in stored] if exact else list(range(len(ids)))
        held: list[int] = []  # exact rows held before: the fuzzy layers decide them again
        self._remember_hits(batch, ids, exact)
        for i in exact:
            self._exact(batch, i, known, out, held)
        self._candidates(batch, sorted(undecided + held) if held else undecided, known.statuses, out)
        self.seen += len(batch)
        return out

    def finish(self, ranges: dict[str, tuple[dt.date, dt.date]]) -> list[Decision]:
        """The decisions of the waiting lines, now that the file's `ranges` (statement dates, where
        the file states them) and its ids are known; matched one to one as `classify` does."""
        self.ranges.update(ranges)
        context = FileContext(self.sha256, self.fmt, self.ranges)
        pairs = []
        for wait in self.waiting:
            for cand in wait.candidates:
                if cand.txn.external_id in self.hits.get(cand.txn.date, ()):
                    continue  # a line of this very file: never another line's match
                kind = kind_of(wait.txn, cand, context)
                if kind is not None:
                    score = similarity(wait.txn.description, cand.txn.description)
                    days = abs((wait.txn.date - cand.txn.date).days)
                    pairs.append((score < self.settings.similarity, days, -score, wait.order, cand, kind, wait))
        return self._matched(pairs)

    def _matched(self, pairs: list[tuple[bool, int, float, int, Candidate, Reason, _Waiting]]) -> list[Decision]:
        decided: dict[int, Decision] = {}
        claimed: set[str | None] = set()
        for dissimilar, _, _, order, cand, kind, wait in sorted(pairs, key=lambda p: p[:4]):
            if order in decided or (not dissimilar and cand.txn.external_id in claimed):
                continue
            decided[order] = decide_pair(wait.txn, cand, kind, dissimilar, self.settings)
            if not dissimilar:
                claimed.add(cand.txn.external_id)
        return [decided.get(w.order) or Decision(w.txn, Action.SEND) for w in self.waiting]

    def _remember_hits(self, batch: TxBatch, ids: list[str], exact: list[int]) -> None:
        """Keep the ids of the rows `exact` by day (their days now the last seen), then let the
        oldest days go, but for the wanted ones and the batch's own, while more than HITS_KEPT."""
        if not exact:
            return
        by_day: dict[dt.date, list[str]] = {}
        for i in exact:
            by_day.setdefault(batch.date[i], []).append(ids[i])
        for day, day_ids in by_day.items():
            kept = self.hits.pop(day, set())
            self.kept -= len(kept)
            kept.update(day_ids)
            self.kept += len(kept)
            self.hits[day] = kept
        if not self.bounded or self.kept <= HITS_KEPT:
            return
        for day in [d for d in self.hits if d not in self.wanted and d not in by_day]:
            self.kept -= len(self.hits.pop(day))
            self.let_go.add(day)
            if self.kept <= HITS_KEPT:
                return

    def _exact(self, batch: TxBatch, i: int, known: Known, out: BatchDecisions, undecided: list[int]) -> None:
        ext = batch.column("external_id")[i] or ""
        reason = _cheap_skip(ext, known)
        if reason is not None:  # the common case of a re-import: counted, listed while few
            out.skipped[reason.value] += 1
            self._list(out, batch, i, reason)
            return
        decision = exact_decision(self.state, known, batch.row(i), self.settings)
        if decision is None:
            undecided.append(i)  # held before: the fuzzy layers decide again
        else:
            out.decisions.append(decision)

    def _candidates(self, batch: TxBatch, rows: list[int], statuses: dict[str, str], out: BatchDecisions) -> None:
        """Rows no exact layer knew: new at once without candidates, else waiting."""
        if not rows:
            return
        pool = pool_of(self.state, [batch.account], min(batch.date), max(batch.date), self.sha256, self.settings)
        if not pool and not statuses:  # nothing stored alike and nothing held before: all new
            out.new += rows
            return
        window = self.settings.window_days
        for i in rows:
            near = [
                c
                for c in pool.get((batch.account, batch.currency[i], batch.amount[i]), ())
                if abs((batch.date[i] - c.txn.date).days) <= window
            ]
            if near:
                self._want(near)
                self.waiting.append(_Waiting(self.seen + i, batch.row(i), near))
            elif batch.column("external_id")[i] in statuses:  # held before, alike nothing now: sent
                out.decisions.append(Decision(batch.row(i), Action.SEND))
            else:
                out.new.append(i)

    def _want(self, candidates: list[Candidate]) -> None:
        """Keep the ids of the candidates' days to the end; DayLetGo if one was let go already."""
        for cand in candidates:
            if cand.txn.date in self.let_go:
                raise DayLetGo(cand.txn.date)
            self.wanted.add(cand.txn.date)

    def _cover(self, batch: TxBatch) -> None:
        start, end = self.ranges.get(batch.account, (batch.date[0], batch.date[0]))
        self.ranges[batch.account] = (min(start, min(batch.date)), max(end, max(batch.date)))

    def _list(self, out: BatchDecisions, batch: TxBatch, i: int, reason: Reason) -> None:
        if self.listed >= DUPLICATES_LISTED:
            return
        self.listed += 1
        out.listed.append(
            {
                "source": str(batch.source(i)),
                "external_id": batch.column("external_id")[i],
                "reason": reason.value,
                "action": Action.SKIP.value,
                "matched": None,
                "matched_source": None,
            }
        )


def _cheap_skip(ext: str, known: Known) -> Reason | None:
    """The exact-layer skips that need no `Transaction` (as `exact_decision` decides them)."""
    if ext in known.accepted:
        return Reason.ALREADY_IMPORTED
    if ext not in known.aliases and known.statuses.get(ext) == "dropped":
        return Reason.DROPPED
    return None
