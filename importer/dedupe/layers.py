"""Layered dedupe: what to do with each transaction of a file, and why.

A transaction of the file being imported goes through these layers, first match wins:

1. **exact**: its external id was accepted by this target before → skip (`already-imported`);
   its id is a known alias of a stored record (an earlier run matched it) → skip (`known-alias`);
   it is stored but the target never confirmed it (a run died, a batch failed) → send it;
   the user dropped it (`importer held drop`) → skip (`dropped`), even with `force_duplicates`.
   (A row held for review earlier goes through the layers below again.)
2. **other format**: a stored record of the same account, currency and amount, dated within
   `window_days`, read from a file of another format (the CSV of a month, now its OFX), with a
   similar description → skip (`other-format`) and remember the alias.
3. **pending → posted**: a stored record from an export of the same format, whose date this file
   covers but which this file no longer holds, same amount, dated on or before this one, similar
   description → the stored record is updated to this one (`pending-posted`), not added twice.
4. **probable**: such a candidate exists but its description is not similar → held for review
   (`probable-duplicate`), stored but not sent, unless `force_duplicates`.  The state's `held`
   table numbers it and names the record it resembles, for `importer held list/release/drop`.

Everything else is new.  Candidates are matched one to one (a stored record absorbs at most one
line), best similarity and nearest date first, so two identical coffees stay two.  Lines of one
file are never compared with each other: the id's repeat counter keeps identical lines apart.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from enum import Enum

from importer.core.models import Statement, Transaction
from importer.ids.recipe import normalise_description
from importer.store.base import Store


class Action(str, Enum):
    SEND = "send"
    SKIP = "skip"
    REPLACE = "replace"
    HOLD = "hold"


class Reason(str, Enum):
    ALREADY_IMPORTED = "already-imported"
    KNOWN_ALIAS = "known-alias"
    OTHER_FORMAT = "other-format"
    PENDING_POSTED = "pending-posted"
    PROBABLE = "probable-duplicate"
    DROPPED = "dropped"


@dataclass(frozen=True)
class MatchSettings:
    """How close two lines must be to be one transaction."""

    window_days: int = 3
    similarity: float = 0.5
    force_duplicates: bool = False


@dataclass(frozen=True)
class Decision:
    txn: Transaction
    action: Action
    reason: Reason | None = None
    match: Transaction | None = None

    def as_row(self) -> dict[str, str | None]:
        """The report's line for a row that was not simply sent."""
        return {
            "source": str(self.txn.source),
            "external_id": self.txn.external_id,
            "reason": self.reason.value if self.reason else None,
            "action": self.action.value,
            "matched": self.match.external_id if self.match else None,
            "matched_source": str(self.match.source) if self.match else None,
        }


@dataclass(frozen=True)
class FileContext:
    """What the layers need to know about the file being imported."""

    sha256: str
    format: str
    ranges: dict[str, tuple[dt.date, dt.date]]  # account → dates the file covers

    @classmethod
    def of(cls, statements: Sequence[Statement], sha256: str, fmt: str) -> FileContext:
        ranges: dict[str, tuple[dt.date, dt.date]] = {}
        for st in statements:
            days = [t.date for t in st.transactions]
            start = st.start_date or (min(days) if days else None)
            end = st.end_date or (max(days) if days else None)
            if start is not None and end is not None:
                ranges[st.account] = (start, end)
        return cls(sha256, fmt, ranges)


@dataclass(frozen=True)
class Candidate:
    txn: Transaction
    format: str | None
    status: str


_WORDS = re.compile(r"[^\W_]+")


def similarity(a: str, b: str) -> float:
    """0..1: how alike two bank descriptions are, tolerant of one being a shortened other."""
    left, right = normalise_description(a), normalise_description(b)
    words_a, words_b = set(_WORDS.findall(left)), set(_WORDS.findall(right))
    shared = len(words_a & words_b) / min(len(words_a), len(words_b)) if words_a and words_b else 0.0
    return max(shared, SequenceMatcher(None, left, right).ratio())


def classify(
    state: Store, target: str, txns: Sequence[Transaction], context: FileContext, settings: MatchSettings
) -> list[Decision]:
    """One decision per transaction, in order (see the module doc for the layers)."""
    known = Known.of(state, target, [t.external_id or "" for t in txns])
    decisions: list[Decision | None] = [exact_decision(state, known, t, settings) for t in txns]
    unknown = [i for i, d in enumerate(decisions) if d is None]
    file_ids = {t.external_id for t in txns}
    for i, decision in _fuzzy(state, [txns[i] for i in unknown], file_ids, context, settings).items():
        decisions[unknown[i]] = decision
    return [d or Decision(t, Action.SEND) for d, t in zip(decisions, txns)]


@dataclass(frozen=True)
class Known:
    """What the state already says about a file's external ids, read in bulk (not one query per line)."""

    accepted: set[str]
    aliases: dict[str, str]  # external id -> canonical id
    statuses: dict[str, str]  # stored external id -> status

    @classmethod
    def of(cls, state: Store, target: str, ids: Sequence[str]) -> Known:
        return cls(*state.known(target, ids))


def exact_decision(state: Store, known: Known, txn: Transaction, settings: MatchSettings) -> Decision | None:
    ext = txn.external_id or ""
    if ext in known.accepted:
        return Decision(txn, Action.SKIP, Reason.ALREADY_IMPORTED)
    canonical = known.aliases.get(ext)
    if canonical is not None:
        return Decision(txn, Action.SKIP, Reason.KNOWN_ALIAS, state.stored_transaction(canonical))
    status = known.statuses.get(ext)
    if status == "dropped":  # the user said never to import it: no flag brings it back
        return Decision(txn, Action.SKIP, Reason.DROPPED)
    if status is None or (status == "review" and not settings.force_duplicates):
        return None  # new, or held before: the other layers decide (again), naming the match
    return Decision(txn, Action.SEND)


def _fuzzy(
    state: Store, txns: Sequence[Transaction], file_ids: set[str | None], context: FileContext, settings: MatchSettings
) -> dict[int, Decision]:
    """Layers 2-4 for the transactions no exact layer knew, matched one to one."""
    pool = _candidate_pool(state, txns, context, settings)
    pairs = []
    for i, txn in enumerate(txns):
        for cand in pool.get((txn.account, txn.currency, txn.amount), ()):
            kind = kind_of(txn, cand, context)
            near = abs((txn.date - cand.txn.date).days) <= settings.window_days
            if kind is not None and near and cand.txn.external_id not in file_ids:
                score = similarity(txn.description, cand.txn.description)
                pairs.append((score < settings.similarity, abs((txn.date - cand.txn.date).days), -score, i, cand, kind))
    decided: dict[int, Decision] = {}
    claimed: set[str | None] = set()
    for dissimilar, _, _, i, cand, kind in sorted(pairs, key=lambda p: p[:4]):
        if i in decided or (not dissimilar and cand.txn.external_id in claimed):
            continue
        decided[i] = decide_pair(txns[i], cand, kind, dissimilar, settings)
        if not dissimilar:
            claimed.add(cand.txn.external_id)
    return decided


def decide_pair(txn: Transaction, cand: Candidate, kind: Reason, dissimilar: bool, settings: MatchSettings) -> Decision:
    if dissimilar:
        action = Action.SEND if settings.force_duplicates else Action.HOLD
        return Decision(txn, action, Reason.PROBABLE, cand.txn)
    return Decision(txn, Action.REPLACE if kind is Reason.PENDING_POSTED else Action.SKIP, kind, cand.txn)


def kind_of(txn: Transaction, cand: Candidate, context: FileContext) -> Reason | None:
    """Which layer a candidate belongs to, or None when it cannot be this transaction."""
    if cand.format is not None and cand.format != context.format:
        return Reason.OTHER_FORMAT
    start, end = context.ranges.get(txn.account, (txn.date, txn.date))
    # The same kind of export covering the stored line's day but no longer holding it: it changed.
    if cand.format == context.format and start <= cand.txn.date <= end and cand.txn.date <= txn.date:
        return Reason.PENDING_POSTED
    return None


def _candidate_pool(
    state: Store, txns: Sequence[Transaction], context: FileContext, settings: MatchSettings
) -> dict[tuple[str, str, Decimal], list[Candidate]]:
    """Stored records of other files that could be some of `txns`, by (account, currency, amount):
    one query for the whole file, over its accounts and dates widened by the window."""
    if not txns:
        return {}
    accounts = sorted({t.account for t in txns})
    days = [t.date for t in txns]
    return pool_of(state, accounts, min(days), max(days), context.sha256, settings)


def pool_of(
    state: Store, accounts: Sequence[str], first: dt.date, last: dt.date, sha256: str, settings: MatchSettings
) -> dict[tuple[str, str, Decimal], list[Candidate]]:
    """Stored records of files other than `sha256` in `accounts`, dated from `first` to `last`
    widened by the window, by (account, currency, amount)."""
    window = dt.timedelta(days=settings.window_days)
    start, end = first - window, last + window
    pool: dict[tuple[str, str, Decimal], list[Candidate]] = {}
    for txn, fmt, status in state.candidates(accounts, start, end, sha256):
        pool.setdefault((txn.account, txn.currency, txn.amount), []).append(Candidate(txn, fmt, status))
    return pool


def record(
    state: Store, decisions: Sequence[Decision], run_id: int, file_sha256: str, target: str
) -> list[Transaction]:
    """Store what the decisions say; returns the transactions to send to `target`, in file order.

    Sent lines are stored `ok`, held ones `review` and numbered in `held` (`importer held
    release` or a later `--force-duplicates` run sends them), other-format duplicates become
    aliases, and pending lines are updated to their posted form.
    """
    send = [d.txn for d in decisions if d.action is Action.SEND]
    if state.store_transactions(send, run_id, file_sha256) < len(send):  # some were stored before, maybe held
        _release_forced(state, [t.external_id or "" for t in send], run_id)
    held = [d for d in decisions if d.action is Action.HOLD]
    state.store_transactions([d.txn for d in held], run_id, file_sha256, "review")
    state.hold([(d.txn.external_id or "", d.match.external_id if d.match else None) for d in held], run_id)
    state.add_aliases(
        [
            (d.txn.external_id or "", d.match.external_id or "", d.reason.value)
            for d in decisions
            if d.action is Action.SKIP and d.reason is Reason.OTHER_FORMAT and d.match
        ],
        run_id,
    )
    for d in decisions:
        if d.action is Action.REPLACE and d.match is not None:
            state.replace_transaction(d.match.external_id or "", d.txn, run_id)
    return send + _owed(state, decisions, target, send)


def _release_forced(state: Store, external_ids: Sequence[str], run_id: int) -> None:
    """Rows held earlier and sent now (forced, or no longer alike) count as released by this run,
    so undoing the run holds them again."""
    was_held = [e for e, status in state.statuses(external_ids).items() if status == "review"]
    state.set_status(external_ids, "ok")
    if was_held:
        state.decide_held(was_held, "released", run_id)


def _owed(state: Store, decisions: Sequence[Decision], target: str, send: Sequence[Transaction]) -> list[Transaction]:
    """Stored records this file's skipped lines stand for that `target` never got: the CSV went
    to another target before this OFX came, or a pending line was replaced before it was sent.
    Without this, such a transaction would be lost for `target`."""
    standing: dict[str, Transaction] = {}
    for d in decisions:
        if d.action is Action.REPLACE:
            standing[d.txn.external_id or ""] = d.txn
        elif d.action is Action.SKIP and d.reason in (Reason.OTHER_FORMAT, Reason.KNOWN_ALIAS) and d.match:
            standing[d.match.external_id or ""] = d.match
    have = state.accepted_ids(target, standing) | {t.external_id for t in send}
    return [t for ext, t in standing.items() if ext not in have]
