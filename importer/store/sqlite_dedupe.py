"""What the dedupe layers and transfer pairing ask of the stored records, in SQLite.

importer/dedupe/layers.py and importer/dedupe/transfers.py decide; these queries only fetch and
record.  Each asks for a whole file at once (ids in chunks, a date span), never one row per line:
a file of a million lines makes a few queries, not a million.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from importer.core.models import Transaction
from importer.store.base import LEDGER_TARGET
from importer.store.idkey import id_keys
from importer.store.rows import TXN_COLUMNS, transaction_from_row
from importer.store.sqlbase import BY_ID, SqlBase, by_id, marks

# Stored lines of other files that are neither held nor already the record of another format.
_CANDIDATES = (
    "SELECT {columns}, f.format, t.status FROM transaction_rows t LEFT JOIN files f ON f.id = t.file_id "
    "WHERE t.account IN ({accounts}) AND t.date BETWEEN ? AND ? "
    "AND (t.file_sha256 IS NULL OR t.file_sha256 <> ?) AND t.status = 'ok' AND NOT EXISTS "
    "(SELECT 1 FROM aliases a WHERE a.canonical_id = t.external_id AND a.reason = 'other-format')"
)
# What the exact layer asks of a batch's ids, in one statement: (id, status, in the ledger, None)
# of the stored ones, (id, None, None, canonical id) of the aliases, and for a target other than the
# ledger (id, None, TRUE, None) of those it confirmed.  Three `IN` queries cost a third more.  The
# stored rows are found by `IN` on their key (its index is large: probed in key order), the
# aliases and confirmations by joining the ids (`_JSON_TABLE`: their tables are small).
# While the key index is deferred (sqlite_stream.py `defer_key_index`) the stored rows are the
# file's own, whose ids its caller keeps distinct: only the aliases and confirmations are asked.
_STORED = (
    "SELECT external_id, status, {landed}, NULL FROM transactions WHERE id_key IN ({keys}) AND external_id IN ({ids}) "
)
_ALIASED = "SELECT a.external_id, NULL, NULL, a.canonical_id FROM {wanted} JOIN aliases a ON a.external_id = w.value"
_KNOWN = _STORED + "UNION ALL " + _ALIASED
_CONFIRMED = (
    " UNION ALL SELECT c.external_id, NULL, TRUE, NULL FROM {wanted} "
    "JOIN accepted c ON c.target = ? AND c.external_id = w.value"
)
_LEGS = (
    "SELECT external_id, account, date, amount, currency, description, transfer_to, target_account, pair_id "
    "FROM transactions WHERE {}"
)


class DedupeSql(SqlBase):
    """Aliases, candidates for the fuzzy layers, and transfer legs."""

    def aliases_of(self, external_ids: Iterable[str]) -> dict[str, str]:
        """external id → the stored record it was found to be, for those of `external_ids` that are aliases."""
        query = "SELECT external_id, canonical_id FROM aliases WHERE external_id IN ({})"
        return dict(self.rows_for(query, external_ids))

    def known(self, target: str, external_ids: Sequence[str]) -> tuple[set[str], dict[str, str], dict[str, str]]:
        """(`accepted_ids`, `aliases_of`, `statuses`) of `external_ids`, read in one statement."""
        ids = json.dumps(list(external_ids))
        stored = () if self._keys_deferred else (json.dumps(id_keys(external_ids)), ids)
        query = _ALIASED if self._keys_deferred else _KNOWN
        if target == LEDGER_TARGET:
            query = query.format(landed="ledger_run IS NOT NULL", **self._known_lists())
            rows = self.db.execute(query, (*stored, ids))
        else:
            query = (query + _CONFIRMED).format(landed="FALSE", **self._known_lists())
            rows = self.db.execute(query, (*stored, ids, ids, target))
        accepted: set[str] = set()
        aliases: dict[str, str] = {}
        statuses: dict[str, str] = {}
        for external_id, status, landed, canonical in rows:
            if landed:
                accepted.add(external_id)
            if status is not None:
                statuses[external_id] = status
            if canonical is not None:
                aliases[external_id] = canonical
        return accepted, aliases, statuses

    def _known_lists(self) -> dict[str, str]:
        wanted = self._JSON_TABLE.format(name="w")
        return {"keys": self._JSON_KEYS, "ids": self._JSON_LIST, "wanted": wanted}

    def stored_transaction(self, external_id: str) -> Transaction | None:
        """The stored record `external_id`, None when there is none."""
        query = f"SELECT {TXN_COLUMNS} FROM transaction_rows WHERE {BY_ID}"
        row = self.db.execute(query, by_id(external_id)).fetchone()
        return transaction_from_row(row) if row else None

    def candidates(
        self, accounts: Sequence[str], start: dt.date, end: dt.date, other_than_file: str
    ) -> Iterator[tuple[Transaction, str | None, str]]:
        """(record, its file's format, its status) of every stored line of `accounts` dated from
        `start` to `end` that came from another file than `other_than_file` and could still be a
        duplicate: sent (`ok`) and not already the record another format's line stands for."""
        columns = ", ".join("t." + c for c in TXN_COLUMNS.split(", "))
        query = _CANDIDATES.format(columns=columns, accounts=marks(len(accounts)))
        for row in self.db.execute(query, (*accounts, start.isoformat(), end.isoformat(), other_than_file)):
            yield transaction_from_row(row[:-2]), row[-2], row[-1]

    # transfers ----------------------------------------------------------------------------------

    def amounts_between(self, start: dt.date, end: dt.date) -> list[tuple[str, str, Decimal]]:
        """(external id, currency, amount) of every sent line dated from `start` to `end`."""
        query = "SELECT external_id, currency, amount FROM transactions WHERE date BETWEEN ? AND ? AND status = 'ok'"
        rows = self.db.execute(query, (start.isoformat(), end.isoformat()))
        return [(ext, currency, Decimal(amount)) for ext, currency, amount in rows]

    def transfer_legs(self, external_ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """(external id, account, date, amount, currency, description, transfer_to, target_account,
        pair_id) of the stored lines among `external_ids`, as stored (dates and amounts as text)."""
        return self.stored_for(_LEGS, external_ids)

    def pair_legs(self, pair: str, legs: Sequence[tuple[str, str]]) -> None:
        """Give each (external id, other leg's account) the pair id `pair`, and the other account
        as `transfer_to` unless a rule named one, in the stored records (the ledger's too), atomically."""
        rows = [(pair, other, *by_id(ext)) for ext, other in legs]
        query = f"UPDATE transactions SET pair_id = ?, transfer_to = coalesce(transfer_to, ?) WHERE {BY_ID}"
        with self.transaction():
            self.db.executemany(query, rows)

    def paired_transfer_to(self, external_ids: Iterable[str]) -> dict[str, str]:
        """external id → `transfer_to` of those of `external_ids` that are a paired transfer leg."""
        query = "SELECT external_id, transfer_to FROM transactions WHERE pair_id IS NOT NULL AND {}"
        return dict(self.stored_for(query, external_ids))
