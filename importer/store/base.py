"""The `Store` interface: everything the importer keeps between runs, asked for by intention.

Every module outside importer/store/ talks to the state through these methods and never sees SQL,
a connection or a cursor (tests/test_store_owns_sql.py keeps it so).  The reason is the next
backend: SQLite (sqlite.py) is the embedded default, and a PostgreSQL store can take its place
behind the same methods without touching the pipeline, the journal, history, dedupe or reports.

Contract for every implementation:
- each method is atomic on its own; `transaction()` makes several calls one atomic unit, and a
  unit opened inside another joins it (the journal lands a ledger batch, records the batch and
  marks it accepted together);
- money crosses as `Decimal` or exact decimal text, dates as `datetime.date` or ISO text, never floats;
- every table is created by the store's numbered migrations, none by a caller.

Rows the run floor turns into its own records (history listings) come back as tuples in the
column order the method's docstring names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from importer.config.state_location import Location
from importer.core.accounts import Account
from importer.core.batch import TxBatch
from importer.core.models import Transaction, UploadResult
from importer.store.sql_budget import SharedRates
from importer.store.sql_workers import Claim

Balance = tuple[str, str, str, str, str]  # a recorded statement: path, start, end, closing, opening

# The target whose records live in the state database itself (importer/targets/local.py): what
# it holds is the stored rows it marks (`ledger_run`), so the store answers for it by that mark.
LEDGER_TARGET = "local"


class SharedKeys(Exception):
    """The ids' key index could not be made again (`Store.restore_key_index`): two rows stored
    while it was deferred share a key.  The file is read again with the index kept, which
    decides such rows as it always does (a duplicate skipped, a collision refused)."""


class Store(Protocol):
    """The state database, whatever holds it."""

    @property
    def path(self) -> Location:
        """Where it lives, for messages: a file, or a URL that shows itself without its password."""

    # lifetime ---------------------------------------------------------------------------------

    def __enter__(self) -> Store:
        """The store itself: `with open_store(...) as state:` closes it after."""

    def __exit__(self, *exc: object) -> None:
        """Close the store."""

    def close(self) -> None:
        """Release the database; the store is not used after."""

    def shared_rates(self) -> SharedRates | None:
        """The API rate budget every worker on this state spends from (sql_budget.py); None for a
        state one process holds at a time, whose limiter's own count is the whole truth."""

    def scratch(self) -> AbstractContextManager[None]:
        """A unit whose work is visible inside it and undone at its end (a dry run)."""

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit: everything inside commits together or not at all."""

    def durable(self) -> None:
        """Make every committed transaction survive a power cut, not only a crash."""

    def copy_to(self, path: Path) -> Store:
        """A new store at `path` holding what this one holds now (a dry run's scratch copy)."""

    # runs and files ---------------------------------------------------------------------------

    def begin_run(self, command: str) -> int:
        """Number a new run of kind `command`; a run still marked running was killed: interrupted."""

    def finish_run(self, run_id: int, status: str) -> None:
        """Record how a run ended; a dry run or one that changed nothing becomes a quiet run."""

    def record_file(self, sha256: str, path: Path, size: int, run_id: int) -> None:
        """Remember a statement file by content, and the run that last read it."""

    def record_run_file(self, run_id: int, sha256: str, path: Path, fmt: str | None, parsed: int, stored: int) -> None:
        """Remember that run `run_id` read a file, as what format, and how many rows it parsed and stored."""

    def file_accounts(self, sha256: str, before_run: int | None = None) -> set[str]:
        """The accounts the rows stored from the file `sha256` belong to (by runs before `before_run`)."""

    # stored transactions ----------------------------------------------------------------------

    def store_batch(
        self, batch: TxBatch, rows: Sequence[int], run_id: int, file_sha256: str, landed: bool = False
    ) -> int:
        """Store rows `rows` of `batch` as new `ok` records from its columns, landed in the ledger
        by `run_id` when `landed`; how many were new.  Atomic alone; inside a unit it adds no
        savepoint (a file's batches: one per batch cost SQLite a copy of every index page each
        changed), so when it fails the error must go through the unit, which undoes it."""

    def last_row(self) -> int:
        """A mark before the rows stored next (`new_rows` and its kin read what follows it)."""

    def defer_key_index(self, after: int) -> bool:
        """Stop keeping the index on the ids' keys for the rest of the open unit, if every stored
        row is one stored after the mark `after` (this file's: a first import) and nothing
        else names an id (no alias, no accepted record); whether it did.  While it is deferred,
        `store_batch` skips no row and `known` reports no stored status: the caller vouches that
        the ids it stores are distinct and asks for no stored row by id, and
        `restore_key_index` checks it.  An engine that gains nothing answers False."""

    def restore_key_index(self) -> None:
        """Make the index `defer_key_index` dropped again, from every stored row at once (a sort,
        where storing a row into it was a random page each); SharedKeys if two rows share a key,
        with the unit then to be undone."""

    def new_rows(self, run_id: int, sha256: str, after: int, size: int) -> Iterator[list[Transaction]]:
        """The rows run `run_id` stored `ok` from file `sha256` after the mark `after`, `size` at a time."""

    def land_in_state(self, target: str, run_id: int, sha256: str, after: int, landed: int = 0) -> int:
        """Land `new_rows` in the in-state target with one statement (and journal it as one done
        batch), inside the caller's transaction; returns how many landed, with the `landed` ones
        `store_batch` stored landed."""

    def representatives(self, run_id: int, sha256: str, after: int) -> list[Transaction]:
        """One row of each (account, currency, category, target account, transfer) of `new_rows`."""

    def transfers_stored(self, run_id: int, sha256: str, after: int) -> int:
        """How many of `new_rows` are one leg of a transfer."""

    def store_transactions(
        self, txns: Sequence[Transaction], run_id: int, file_sha256: str | None, status: str = "ok"
    ) -> int:
        """Store categorised transactions not stored before; returns how many were new."""

    def set_status(self, external_ids: Sequence[str], status: str) -> None:
        """`ok` for a stored record to be sent, `review` for one held as a probable duplicate."""

    def statuses(self, external_ids: Iterable[str]) -> dict[str, str]:
        """The stored status of each of `external_ids` that is stored."""

    def replace_transaction(self, old_id: str, new: Transaction, run_id: int) -> None:
        """A pending line became `new`: update it everywhere and keep the old id as an alias."""

    def stored_transactions(self, table: str = "transactions") -> list[Transaction]:
        """Every stored record (`transactions`) or every ledger record (`ledger`), by date then id."""

    def stored_transaction(self, external_id: str) -> Transaction | None:
        """The stored record `external_id`, None when there is none."""

    def transactions_by_id(self, external_ids: Iterable[str]) -> dict[str, Transaction]:
        """The stored transactions among `external_ids`, by external id."""

    # aliases and dedupe ---------------------------------------------------------------------

    def add_aliases(self, aliases: Sequence[tuple[str, str, str]], run_id: int) -> None:
        """Remember (external id, canonical id, reason): that id is the stored record `canonical`."""

    def known(self, target: str, external_ids: Sequence[str]) -> tuple[set[str], dict[str, str], dict[str, str]]:
        """(`accepted_ids`, `aliases_of`, `statuses`) of `external_ids`, read at once."""

    def aliases_of(self, external_ids: Iterable[str]) -> dict[str, str]:
        """external id → the stored record it was found to be, for those that are aliases."""

    def candidates(
        self, accounts: Sequence[str], start: dt.date, end: dt.date, other_than_file: str
    ) -> Iterator[tuple[Transaction, str | None, str]]:
        """(record, its file's format, status) of stored lines that could be duplicates of a file's lines."""

    def fingerprints(
        self, start: dt.date, end: dt.date, other_than: str, not_from: str | None = None
    ) -> Iterator[tuple[str, str, str, str]]:
        """(account, date, amount, description) of rows stored in a span under another account
        (and from another file than `not_from`)."""

    # transfers --------------------------------------------------------------------------------

    def amounts_between(self, start: dt.date, end: dt.date) -> list[tuple[str, str, Decimal]]:
        """(external id, currency, amount) of every sent line dated from `start` to `end`."""

    def transfer_legs(self, external_ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """(external id, account, date, amount, currency, description, transfer_to, target_account, pair_id)."""

    def pair_legs(self, pair: str, legs: Sequence[tuple[str, str]]) -> None:
        """Join (external id, other leg's account) legs under one pair id, stored and in the ledger."""

    def paired_transfer_to(self, external_ids: Iterable[str]) -> dict[str, str]:
        """external id → `transfer_to` of those of `external_ids` that are a paired transfer leg."""

    # held rows --------------------------------------------------------------------------------

    def hold(self, held: Sequence[tuple[str, str | None]], run_id: int) -> None:
        """Number (external id, id of the stored record it resembles) rows held for review."""

    def held_rows(self, status: str = "review") -> list[tuple[Any, ...]]:
        """(number, run id, file sha256, *the held row's columns, *its match's) of held or dropped rows."""

    def decide_held(self, external_ids: Sequence[str], decision: str, run_id: int | None) -> None:
        """`released` (sent by run `run_id`) or `dropped` (never imported, never held again)."""

    # accounts ---------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """Every account, with its identifiers, in the order they were created."""

    def save_accounts(self, accounts: Iterable[Account]) -> None:
        """Store new accounts and new identifiers of known ones."""

    def rename_account(self, old: str, new: str) -> int:
        """Show account `old` as `new` everywhere; returns how many stored transactions moved."""

    def account_activity(self) -> dict[str, tuple[str | None, str | None, int]]:
        """Per account name: its first and last transaction date and how many are stored."""

    # what targets accepted, the journal and the local ledger --------------------------------

    def accepted_ids(self, target: str, external_ids: Iterable[str]) -> set[str]:
        """The subset of `external_ids` that `target` has already confirmed."""

    def mark_accepted(self, target: str, results: Iterable[UploadResult], run_id: int) -> None:
        """Record confirmed records; a duplicate the target already held counts as confirmed too."""

    def begin_batch(self, target: str, key: str, run_id: int, external_ids: Sequence[str], done: bool = False) -> int:
        """Journal a batch as pending (or as done, remote ids = external ids); returns its id."""

    def finish_batch(
        self, target: str, batch_id: int, results: Sequence[UploadResult], run_id: int, status: str
    ) -> None:
        """Close a batch as `status` with the remote ids and the accepted records, atomically."""

    def fail_batch(self, batch_id: int, status: str, error: str) -> None:
        """Close a batch as `failed` (nothing landed), or leave it `pending` with the error."""

    def pending_batches(self, target: str) -> list[tuple[int, str, tuple[str, ...]]]:
        """(id, key, external ids in order) of `target`'s batches still pending, oldest first."""

    def ledger_ids(self, external_ids: Iterable[str]) -> set[str]:
        """The subset of `external_ids` already in the local ledger."""

    def add_to_ledger(self, txns: Sequence[Transaction], run_id: int) -> None:
        """Land `txns` in the local ledger: their stored records, marked (one already there stays)."""

    def update_in_ledger(self, txns: Sequence[Transaction]) -> None:
        """Replace the ledger's records of `txns` (held there) with these values."""

    def delete_from_ledger(self, external_ids: Sequence[str]) -> None:
        """Remove these records from the local ledger (their stored records stay, unmarked)."""

    # history and undo -------------------------------------------------------------------------

    def run_rows(self) -> list[tuple[Any, ...]]:
        """(id, started, finished, command, status, files, stored, sent) of numbered runs, newest first."""

    def quiet_run_rows(self) -> list[tuple[Any, ...]]:
        """(follows, row id, None, started, finished, command, status, files, 0, 0) of quiet runs."""

    def run_row(self, run_id: int) -> tuple[Any, ...] | None:
        """`run_rows`' row of run `run_id`, None when there is no such numbered run."""

    def batch_counts(self, run_id: int) -> dict[str, int]:
        """How many of the run's journalled batches are in each status."""

    def run_files(self, run_id: int) -> list[tuple[Any, ...]]:
        """(path, format, sha256, parsed, stored) of every file the run read, by path."""

    def run_batches(self, run_id: int) -> list[tuple[Any, ...]]:
        """(id, target, key, status, size, confirmed, error) of every batch the run journalled."""

    def run_transactions(self, run_id: int) -> list[Transaction]:
        """The transactions run `run_id` stored, by date then external id."""

    def landed_records(self, run_id: int) -> list[tuple[str, Transaction]]:
        """(target, record) of what the run landed or stored that a target holds, by target and date."""

    def landed_remote_ids(self, run_id: int) -> dict[str, list[str]]:
        """target → the remote ids of what `landed_records` lists."""

    def released_count(self, run_id: int) -> int:
        """How many held rows run `run_id` released."""

    def mark_undoing(self, run_id: int) -> None:
        """Mark run `run_id` as being undone, before any target forgets what it landed."""

    def forget_run(self, run_id: int) -> int:
        """Everything the run added forgotten at once, the run marked `undone`; returns transactions removed."""

    # reports ----------------------------------------------------------------------------------

    def record_balances(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Remember (account, file sha256, path, currency, start, end, opening, closing, at) per statement."""

    def balance_neighbour(self, account: str, digest: str, day: dt.date, before: bool) -> Balance | None:
        """The nearest other statement of `account` with both balances, ending by / starting from `day`."""

    def statement_spans(self, account: str, day: dt.date) -> bool:
        """Whether a recorded statement of `account` runs over `day`."""

    def has_transaction_between(self, account: str, first: dt.date, last: dt.date) -> bool:
        """Whether a transaction of `account` dated from `first` to `last` is stored."""

    def statement_accounts(self, paths: Sequence[str]) -> set[str]:
        """The accounts of the statements recorded from files at `paths`."""

    def spending_rows(self) -> Iterator[tuple[str, str, str | None, str]]:
        """(currency, month YYYY-MM, category, amount text) of every stored line that is spending."""

    # many workers (sql_workers.py) ------------------------------------------------------------

    def claim_file(self, key: str, name: str, worker: str, lease: float) -> Claim:
        """Take the claim on the inbox file of content hash `key` for `lease` seconds, if free."""

    def renew_claims(self, keys: Sequence[str], worker: str, lease: float) -> None:
        """The heartbeat: `worker`'s claims on `keys` last `lease` seconds from now."""

    def end_claim(self, key: str, worker: str, filed: bool) -> None:
        """Done with a claim: the file was filed away (`filed`), or it is given back."""

    def orphan_batches(self, target: str, run_id: int) -> list[tuple[int, str, tuple[str, ...], str]]:
        """`pending_batches(target)` that no live run other than `run_id` owns, oldest first,
        each with the time it was journalled (ISO 8601, UTC)."""

    def claim_batch(self, batch_id: int) -> bool:
        """Take a pending batch to reconcile it; False when another worker has it or settled it."""

    def release_batch(self, batch_id: int) -> None:
        """Give back a batch `claim_batch` took."""

    def lock_account(self, key: str, wait: float | None = None) -> None:
        """Hold account `key` until the transaction ends (waiting up to `wait` s), else `AccountBusy`."""
