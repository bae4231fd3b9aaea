"""Opening balance + transactions = closing balance, or the file is refused.

A mismatch means a transaction was lost or doubled, in the bank's file or by our reading of it;
importing such a file would put a wrong balance in the books without anyone noticing.  Parsers
call `check_balance` per statement when the file states both balances; `--no-balance-check`
(ParseOptions.check_balances) imports anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from importer.core.errors import BalanceError
from importer.parsers.base import ParseOptions


def check_balance(
    path: Path,
    statement: str,
    opening: Decimal | None,
    movements: Iterable[Decimal],
    closing: Decimal | None,
    options: ParseOptions,
) -> None:
    """Raise BalanceError naming `statement` when opening + movements differs from closing."""
    if not options.check_balances or opening is None or closing is None:
        return
    total = sum(movements, Decimal(0))
    if opening + total == closing:
        return
    raise BalanceError(
        path,
        f"{statement} does not add up: opening balance {opening} + transactions {total} "
        f"= {opening + total}, but the closing balance is {closing} (a difference of {closing - opening - total}). "
        "A transaction is missing or doubled; check the file, or pass --no-balance-check to import it anyway.",
        expected=f"closing balance {opening + total}",
        found=str(closing),
    )
