"""The running-balance column as a witness: row order, sign convention, and lost rows.

Each balance is the previous one plus the row's amount.  Which row is "previous" depends on
whether the bank lists newest or oldest first, and a credit-card export may print charges as
positive numbers.  We try the readings and keep the one under which every link holds; when
none does, the first broken link is reported, because it means a row is missing or doubled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from operator import add, eq, neg
from pathlib import Path

from importer.core.errors import BalanceError

ORDERS = ("oldest first", "newest first")


@dataclass(frozen=True)
class Chain:
    """What the balances showed: the row order and whether amounts carry the opposite sign."""

    order: str
    inverted: bool
    links: int  # how many consecutive pairs were checked


def check_chain(
    path: Path,
    amounts: Sequence[Decimal],
    balances: Sequence[Decimal | None],
    lines: Sequence[int],
    *,
    sign_known: bool,
    newest_first: bool = False,
) -> Chain | None:
    """The reading under which the balances chain; None when there are too few balances to tell.

    Raises BalanceError at the first break when no reading makes every link hold.
    """
    rows = [i for i, b in enumerate(balances) if b is not None]
    if len(rows) < 2:
        return None
    signs = (False,) if sign_known else (False, True)
    # The dates say which order to believe first: with equal amounts both orders can chain.
    orders = ORDERS[::-1] if newest_first else ORDERS
    breaks: list[tuple[int, str, bool]] = []
    for order in orders:
        for inverted in signs:
            broken = _first_break(amounts, balances, rows, order, inverted)
            if broken is None:
                return Chain(order, inverted, len(rows) - 1)
            breaks.append((broken, order, inverted))
    raise _error(path, amounts, balances, lines, max(breaks))


def _first_break(
    amounts: Sequence[Decimal], balances: Sequence[Decimal | None], rows: Sequence[int], order: str, inverted: bool
) -> int | None:
    """Index (into `rows`) of the first link that fails; the latest failure is the most telling."""
    if len(rows) == len(amounts):
        return _first_break_every_row(amounts, balances, order, inverted)
    for k in range(1, len(rows)):
        before, after = (rows[k - 1], rows[k]) if order == ORDERS[0] else (rows[k], rows[k - 1])
        moved = sum((amounts[i] for i in _between(rows[k - 1], rows[k], after)), Decimal(0))
        expected = balances[before] + (-moved if inverted else moved)  # type: ignore[operator]
        if expected != balances[after]:
            return k
    return None


def _first_break_every_row(
    amounts: Sequence[Decimal], balances: Sequence[Decimal | None], order: str, inverted: bool
) -> int | None:
    """`_first_break` when every row has a balance, a column at a time: each link moves by one
    amount, summed from Decimal(0) as `sum` would, so each comparison is the loop's own."""
    moved = list(map(add, repeat(Decimal(0)), amounts))
    if inverted:
        moved = list(map(neg, moved))
    if order == ORDERS[0]:
        holds = list(map(eq, map(add, balances[:-1], moved[1:]), balances[1:]))
    else:
        holds = list(map(eq, map(add, balances[1:], moved[:-1]), balances[:-1]))
    return holds.index(False) + 1 if False in holds else None


def _all_given(balances: Sequence[Decimal | None]) -> bool:
    """Whether no balance is None, in one pass in C.  Not `None not in balances`: that compares each
    Decimal with None, and Decimal's == asks `numbers.Rational` (an ABC) each time, 0.6 s per 1M rows."""
    return type(None) not in set(map(type, balances))


def _between(first: int, second: int, later: int) -> range:
    # Rows without a balance (pending lines) move money too: sum every row up to the later one.
    return range(first + 1, second + 1) if later == second else range(first, second)


def _error(
    path: Path,
    amounts: Sequence[Decimal],
    balances: Sequence[Decimal | None],
    lines: Sequence[int],
    found: tuple[int, str, bool],
) -> BalanceError:
    k, order, _ = found
    rows = [i for i, b in enumerate(balances) if b is not None]
    row = rows[k]
    return BalanceError(
        path,
        "the running balance does not follow from the amounts: a row is missing or doubled, "
        "or the amounts are misread. Pass --no-balance-check to import it anyway.",
        line=lines[row],
        expected=f"balance {balances[rows[k - 1]]} plus the amounts in between ({order})",
        found=f"balance {balances[row]} after amount {amounts[row]}",
    )


class RunningChain:
    """The balance chain of a statement read batch by batch: each batch is checked with the link
    to the batch before it, under the reading the first batch showed (`chains`, per currency).

    A batch is checked together with the rows carried from the one before (the last row with a
    balance and any rows after it, which move money too), so a break between two batches is
    reported at its line exactly as in a whole-file check.  Amounts come with their sign
    already settled (the first batch decided it), so only the order is pinned here.
    """

    def __init__(self, path: Path, chains: dict[str, Chain]) -> None:
        self.path = path
        self.chains = dict(chains)
        self._carried: dict[str, tuple[list[Decimal], list[Decimal | None], list[int]]] = {}

    def check(
        self, code: str, amounts: Sequence[Decimal], balances: Sequence[Decimal | None], lines: Sequence[int]
    ) -> None:
        """Raises BalanceError at the first link of this batch (or to the last batch) that fails."""
        before = self._carried.get(code, ([], [], []))
        rows_a, rows_b, rows_l = before[0] + list(amounts), before[1] + list(balances), before[2] + list(lines)
        chain = self.chains.get(code)
        if chain is None:
            found = check_chain(self.path, rows_a, rows_b, rows_l, sign_known=True)
            if found is not None:
                self.chains[code] = found
        else:
            self._check_links(rows_a, rows_b, rows_l, chain.order)
        self._carry(code, rows_a, rows_b, rows_l)

    def _check_links(
        self, amounts: list[Decimal], balances: list[Decimal | None], lines: list[int], order: str
    ) -> None:
        rows = range(len(balances)) if _all_given(balances) else [i for i, b in enumerate(balances) if b is not None]
        broken = _first_break(amounts, balances, rows, order, False) if len(rows) >= 2 else None
        if broken is not None:
            raise _error(self.path, amounts, balances, lines, (broken, order, False))

    def _carry(self, code: str, amounts: list[Decimal], balances: list[Decimal | None], lines: list[int]) -> None:
        last = next((i for i in range(len(balances) - 1, -1, -1) if balances[i] is not None), None)
        if last is not None:  # rows before the first balance link to nothing: they need no carrying
            self._carried[code] = (amounts[last:], balances[last:], lines[last:])
