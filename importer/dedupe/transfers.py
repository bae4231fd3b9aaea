"""Own-account transfers: the two legs of money moved between two of the user's accounts.

Imported on their own, a transfer from checking to savings looks like an expense in one account
and an income in the other.  When both legs are stored (from one file, two files, or two runs),
they are paired: both get `transfer_to` (the other leg's account) and one `pair_id`, in the
stored records and in the local ledger, whose `ledger_book` view shows the pair as one transfer.

Two stored lines are legs of one transfer when they are in different accounts (both known to the
importer, hence the user's), in the same currency, for opposite amounts, dated within
`window_days`, neither already paired, and something says "transfer": a rule pointed one at the
other's account (`transfer_to` / `target_account`), or a description uses a transfer word.
The nearest date wins.

Pairing writes the other leg, in another account.  With many workers on one state (PostgreSQL)
each file holds its own account's lock (importer/store/sql_workers.py) while another worker may
be deciding on that other account's rows: so the other legs' accounts are locked too before any
is written, in the order of their keys (every worker takes them in that one order), and the legs
are read again under the locks; a leg another worker changed meanwhile means the pairs are
decided again on what is stored now.  An account another worker holds for the whole wait stops
the file as its own account would (`AccountBusy`, then `LockedError`: the file is left for later).
On SQLite the run lock already makes one writer: the locks cost nothing there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from importer.core.models import Transaction, with_updates
from importer.store.base import Store
from importer.store.sql_workers import AccountBusy

TRANSFER_WORDS = re.compile(
    r"transfer|\bxfer\b|\btrf\b|umbuchung|übertrag|virement|overboeking|to savings|from savings|to checking|from checking",
    re.IGNORECASE,
)


def pair_id(a: str, b: str) -> str:
    """The same two legs always give the same pair id."""
    return "t:" + hashlib.sha256("|".join(sorted((a, b))).encode()).hexdigest()[:16]


class _Leg(NamedTuple):
    """What pairing needs of a stored line (read in bulk, without building Transactions)."""

    external_id: str
    account: str
    date: dt.date
    amount: Decimal
    currency: str
    description: str
    transfer_to: str | None
    target_account: str | None
    pair_id: str | None


Pairing = tuple[_Leg, _Leg]  # a new leg, and the stored one in another account it pairs with


def looks_like_transfer(txn: _Leg | Transaction, other: _Leg | Transaction) -> bool:
    hinted = {txn.transfer_to, txn.target_account} & {other.account} or {other.transfer_to, other.target_account} & {
        txn.account
    }
    return bool(hinted) or any(TRANSFER_WORDS.search(t.description) for t in (txn, other))


def pair_transfers(state: Store, txns: Sequence[Transaction], window_days: int = 3) -> list[Transaction]:
    """Pair each of `txns` (just stored) with its other leg where one is stored; returns `txns`
    with `transfer_to` set on the paired ones (paired now or by an earlier run)."""
    if txns:
        pair_stored(
            state,
            [t.external_id or "" for t in txns],
            min(t.date for t in txns),
            max(t.date for t in txns),
            window_days,
        )
    return with_pairs(state, txns)


def pair_stored(state: Store, ids: Sequence[str], first: dt.date, last: dt.date, window_days: int = 3) -> int:
    """`pair_transfers` for the stored rows `ids`, dated `first` to `last`, without building a
    `Transaction` of each (the streaming import stores rows from columns); how many were paired now."""
    window = dt.timedelta(days=window_days)
    locked: set[str] = set()
    while True:
        pool = _pool(state, first, last, window)
        pairs = _matches(ids, pool, window)
        wanted = {other.account for _, other in pairs} - locked
        if not wanted:
            break
        _lock_accounts(state, wanted)
        locked |= wanted
        if _as_stored(state, pairs):
            break  # nobody changed a leg before the locks were ours: the pairs stand
    for leg, other in pairs:
        _pair(state, leg, other)
    return len(pairs)


def _matches(ids: Sequence[str], pool: dict[tuple[str, Decimal], list[_Leg]], window: dt.timedelta) -> list[Pairing]:
    """The pairs of `ids` with their other legs in `pool`, in the order of `ids` (a leg paired
    here is no longer free for the later ones); `pool` is changed to say so."""
    legs = {leg.external_id: leg for group in pool.values() for leg in group}
    pairs: list[Pairing] = []
    for ext in ids:
        leg = legs.get(ext)
        if leg is None or leg.pair_id is not None or not leg.amount:
            continue
        other = _other_leg(leg, pool.get((leg.currency, -leg.amount), []), window)
        if other is not None:
            pairs.append((leg, other))
            pid = pair_id(leg.external_id, other.external_id)
            for leg_paired in (leg, other):
                legs[leg_paired.external_id] = leg_paired._replace(pair_id=pid)
                group = pool[(leg_paired.currency, leg_paired.amount)]
                group[group.index(leg_paired)] = legs[leg_paired.external_id]
    return pairs


def _lock_accounts(state: Store, names: set[str]) -> None:
    """Hold the accounts `names` until the file's transaction ends, in the order of their keys
    (one order for every worker, so two never wait for each other in turn)."""
    keys = {account.name: account.key for account in state.accounts()}
    for key, name in sorted((keys.get(name, name), name) for name in names):
        try:
            state.lock_account(key)
        except AccountBusy:
            raise AccountBusy(key, name) from None


def _as_stored(state: Store, pairs: list[Pairing]) -> bool:
    """Whether every leg of `pairs` is stored as it was read (unpaired, and the same)."""
    read = {leg.external_id: leg for pair in pairs for leg in pair}
    now = {row[0]: _leg(row) for row in state.transfer_legs(read)}
    return now == read


def _pool(state: Store, first: dt.date, last: dt.date, window: dt.timedelta) -> dict[tuple[str, Decimal], list[_Leg]]:
    """Stored lines dated from `first` to `last` (widened by `window`) that have an opposite
    amount among them, by (currency, amount).  Two queries for the whole span: amounts first,
    since most lines have no opposite and building a leg for each cost more than the pairing."""
    amounts = state.amounts_between(first - window, last + window)
    keys = {(currency, amount) for _, currency, amount in amounts}
    wanted = [ext for ext, currency, amount in amounts if amount and (currency, -amount) in keys]
    pool: dict[tuple[str, Decimal], list[_Leg]] = {}
    for row in state.transfer_legs(wanted):
        leg = _leg(row)
        pool.setdefault((leg.currency, leg.amount), []).append(leg)
    return pool


def _leg(row: tuple[Any, ...]) -> _Leg:
    """A leg from `Store.transfer_legs`'s row (dates and amounts as stored: text)."""
    ext, account, day, amount, currency, description, transfer_to, target_account, pid = row
    return _Leg(
        ext,
        account,
        dt.date.fromisoformat(day),
        Decimal(amount),
        currency,
        description,
        transfer_to,
        target_account,
        pid,
    )


def _other_leg(leg: _Leg, opposite: list[_Leg], window: dt.timedelta) -> _Leg | None:
    fits = [
        o
        for o in opposite
        if o.account != leg.account
        and o.pair_id is None
        and abs(o.date - leg.date) <= window
        and looks_like_transfer(leg, o)
    ]
    return min(fits, key=lambda o: (abs((o.date - leg.date).days), o.external_id), default=None)


def _pair(state: Store, a: _Leg, b: _Leg) -> str:
    """Both legs, stored and in the ledger, name each other (one transaction); returns the pair id."""
    pid = pair_id(a.external_id, b.external_id)
    state.pair_legs(pid, [(a.external_id, b.account), (b.external_id, a.account)])
    return pid


def with_pairs(state: Store, txns: Sequence[Transaction]) -> list[Transaction]:
    """`txns` with the `transfer_to` of those paired now or by an earlier run."""
    paired = state.paired_transfer_to([t.external_id or "" for t in txns])
    return [
        with_updates(t, {"transfer_to": paired[t.external_id or ""]}) if t.external_id in paired else t for t in txns
    ]
