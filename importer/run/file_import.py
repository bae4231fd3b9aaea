"""Importing one file as a stream of batches, stored in one transaction.

    StatementFile ─ parser.stream ─(reader thread)─▶ head: resolve the account, start its ids
                                                      rows: name → categorise → exact layer →
                                                            store the new rows, hold the rest
                                                      end:  the statement's dates and balances
    end of file: the waiting lines matched one to one, the file recorded ─▶ COMMIT ─▶ upload

Memory is a few batches, the lines that resemble stored ones (dedupe/stream.py) and counters,
whatever the file's size: no stage holds the file (of the ids of lines found stored, which the
waiting lines ask about, dedupe/stream.py keeps a bounded number).  The file is all or nothing:
every batch is stored inside the one transaction the file opens (`State.transaction`; no
savepoint per batch) and it commits only when the stream has ended and every check passed; an error anywhere (a bad cell
on line 900,000, a balance that does not add up, a file that changed while it was read, a
Ctrl-C) rolls it all back.  Nothing is uploaded before the commit.

The bytes recorded are the bytes parsed: the file is hashed before it is read (so the dedupe
layers know the file from its first batch) and again as the parser reads it; a difference means
it changed in between, and the import is refused.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import compress, repeat
from operator import is_
from pathlib import Path

from importer.core.accounts import OVERLAP_MIN_ROWS, OVERLAP_SHARE, Account, AccountBook, fingerprint, seen_elsewhere
from importer.core.batch import TxBatch
from importer.core.errors import InputError, TruncatedError
from importer.core.models import Statement, Transaction
from importer.dedupe.layers import Decision, MatchSettings, record
from importer.dedupe.stream import StreamDedupe
from importer.dedupe.transfers import pair_stored, pair_transfers, with_pairs
from importer.ids.recipe import IdAssigner
from importer.internals.crash import crash_point
from importer.parsers import ParseOptions, Parser
from importer.parsers.base import StatementFile
from importer.parsers.stream import Event, Rows, StatementEnd, StatementHead, events_of
from importer.reports.summary import FileReport
from importer.rules import RuleSet
from importer.rules.normalise import PayeeKeys
from importer.run.lock import LockedError, account_locked
from importer.run.readahead import read_ahead
from importer.store.base import Store
from importer.store.sql_workers import AccountBusy

# Days of repeat counters an id assigner keeps (importer/ids/recipe.py): more than a year of
# statement in memory; only a file spanning more days and not in date order is read twice.
ID_WINDOW_DAYS = 400
_CHAIN_LIMIT = 20_000  # lines whose balances are followed for the statement's closing balance (a month has fewer)
_COLLECT_EVERY = 16  # batches between two collections of the small cycles they leave (`_rows`)
_PAYEES_KEPT = 20_000  # distinct uncategorised payees counted exactly; past that only the frequent ones
# Rows a first import stores before it drops the index on the ids' keys for its remaining rows
# (`_defer_keys`): below that the index is small enough that storing into it costs little, and
# small imports are stored exactly as every other import is.
DEFER_KEYS_AFTER = 100_000


@dataclass
class FileSettings:
    """What one file's import needs to know of the run."""

    run_id: int
    target: str
    match: MatchSettings
    options: ParseOptions
    explicit_account: str | None
    as_new_account: bool = False
    id_window: int | None = ID_WINDOW_DAYS
    in_state: bool = False  # the target is the local ledger: new rows are stored landed in it
    defer_keys_after: int | None = DEFER_KEYS_AFTER  # None: the key index kept throughout (`_defer_keys`)


@dataclass
class _Open:
    """A statement of the file being read: its account, ids, and what its end will be checked with."""

    head: StatementHead
    account: Account
    ids: IdAssigner
    rows: int = 0
    total: Decimal = Decimal(0)
    chain: _Chain = field(default_factory=lambda: _Chain())
    pending: defaultdict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    overlaps: Counter[str] = field(default_factory=Counter)  # other account -> lines of it seen here


@dataclass
class Imported:
    """What storing a file gave: its statements (headers), and the rows to upload."""

    statements: list[Statement]
    sha256: str
    extra: list[Transaction]  # rows to send that are not this file's new rows (held ones released, owed)
    fresh: int  # this file's new rows stored `ok`
    after: int  # the store's mark before them (`State.new_rows`)
    warnings: list[str] = field(default_factory=list)
    landed: int = 0  # of `fresh`, those stored already landed in the ledger (`FileSettings.in_state`)


def file_sha256(path: Path, options: ParseOptions) -> str:
    """The file's digest, read in large pieces (hashlib works without the GIL on them)."""
    digest = hashlib.sha256()
    with StatementFile(path, options) as source:
        for piece in source.chunks(4 << 20):
            digest.update(piece)
    return digest.hexdigest()


class FileImport:
    """One file's import into the open transaction of `state` (see the module doc)."""

    def __init__(
        self,
        path: Path,
        parser: Parser,
        rules: RuleSet,
        state: Store,
        book: AccountBook,
        settings: FileSettings,
        report: FileReport,
    ) -> None:
        self.path, self.parser, self.rules, self.state, self.book = path, parser, rules, state, book
        self._warnings_before = len(report.warnings)
        self.settings, self.report = settings, report
        self.sha256 = file_sha256(path, settings.options)
        self.size = path.stat().st_size
        self.payee_keys = PayeeKeys()  # the report's payee keys, worked out once per text of the file
        self._batches = 0  # batches taken, for `_rows`'s collections
        self.restart(settings.id_window)

    def restart(self, id_window: int | None) -> None:
        """Begin a reading of the file with repeat counters kept for `id_window` days (None: all)."""
        self.settings = replace(self.settings, id_window=id_window)
        self.dedupe = StreamDedupe(
            self.state, self.settings.target, self.sha256, self.parser.name, self.settings.match, id_window is not None
        )
        self.open: dict[int, _Open] = {}
        self.ended: list[Statement] = []
        self.extra: list[Transaction] = []
        self.fresh = 0
        self.after = self.state.last_row()
        self.keys_deferred = False
        self.payees: Counter[str] = Counter()
        self.partial: str | None = None
        self.report.parsed = self.report.skipped = self.report.duplicate = self.report.transfers = 0
        self.report.duplicates.clear()
        del self.report.warnings[self._warnings_before :]

    def accounts(self) -> list[Account]:
        """The accounts of the file's statements, as resolved."""
        return [statement.account for statement in self.open.values()]

    def run(self, told: Callable[[int], None]) -> Imported:
        """Read, categorise and store the whole file; `told(rows)` after each batch."""
        try:
            return self._run(told)
        except AccountBusy as busy:  # the account of a transfer's other leg (importer/dedupe/transfers.py)
            raise LockedError(account_locked(busy.name, self.state.path, self.path)) from None

    def _run(self, told: Callable[[int], None]) -> Imported:
        with StatementFile(self.path, self.settings.options) as source:
            try:
                for event in read_ahead(_events(self.parser, source, self.settings.options)):
                    self._take(event)
                    if isinstance(event, Rows):
                        told(self.report.parsed)
            except TruncatedError as exc:
                self._keep_partial(exc)
            self._check_unchanged(source)
        self._restore_keys()  # what follows may ask for stored rows by id
        for statement in self.open.values():
            self._check_seen_elsewhere(statement)
        self._finish()
        landed = self.fresh if self.settings.in_state else 0
        return Imported(self.ended, self.sha256, self.extra, self.fresh, self.after, landed=landed)

    # events --------------------------------------------------------------------------------

    def _take(self, event: Event) -> None:
        if isinstance(event, StatementHead):
            self._open_statement(event)
        elif isinstance(event, Rows):
            self._rows(self.open[event.index], event.batch)
        else:
            self._end(event)

    def _open_statement(self, head: StatementHead) -> None:
        header = Statement(
            path=head.path,
            format=head.format,
            account=head.account,
            currency=head.currency,
            transactions=(),
            bank_account_id=head.bank_account_id,
            profile=head.profile,
        )
        self._restore_keys()  # a second statement: its ids are not kept distinct from the first's
        explicit = self.settings.explicit_account if head.index == 0 else None
        account = self.book.resolve(header, explicit, head.profile or self.settings.options.profile)
        self._lock(account)
        self.open[head.index] = _Open(head, account, IdAssigner(account, window=self.settings.id_window))

    def _lock(self, account: Account) -> None:
        """Hold the account until the file's transaction ends: its dedupe is decided by one worker."""
        try:
            self.state.lock_account(account.key)
        except AccountBusy:
            raise LockedError(account_locked(account.name, self.state.path, self.path)) from None

    def _rows(self, statement: _Open, batch: TxBatch) -> None:
        batch = replace(batch, account=statement.account.name)
        self._remember(statement, batch)
        named = statement.ids.assign_batch(batch)
        kept = self._categorise(named)
        others = self._others_exist(statement)
        if others:  # pairing transfers asks for the batch's rows by id
            self._restore_keys()
        if kept is not None:  # inside the file's transaction, no savepoint: an error fails the file
            self._defer_keys(others)  # before the batch: a file that ends at the mark never defers
            self._store(kept, others)
            if self.keys_deferred:
                crash_point("keys.deferred")  # a batch stored while the key index is away
        # The cycle collector is paused while a file is imported (internals/gcpause.py), and a
        # batch leaves a few small cycles behind (the rules' row class, importer/rules/rows.py,
        # once it has let go of the batch's columns): collected every _COLLECT_EVERY batches, so
        # memory stays constant in the file's length.  A collection walks every young object
        # still alive, the batches in flight among them (about 5 ms at 20,000 rows), however
        # many batches came since the last.
        self._batches += 1
        if self._batches % _COLLECT_EVERY == 0:
            gc.collect(0)

    def _end(self, event: StatementEnd) -> None:
        statement = self.open[event.index]
        header = event.statement.model_copy(update={"account": statement.account.name})
        self.ended.append(_with_balances(header, statement.total, statement.chain.end()))
        self._compare_days(statement, list(statement.pending))
        self.report.warnings += [f"{self.path}: {note}" for note in header.notes]

    # stages --------------------------------------------------------------------------------

    def _remember(self, statement: _Open, batch: TxBatch) -> None:
        """What the end of the statement checks: its rows, and those seen under another account."""
        statement.rows += len(batch)
        statement.total += sum(batch.amount, Decimal(0))
        statement.chain.add(batch.amount, batch.column("balance"))
        self.report.parsed += len(batch)
        if not self.settings.as_new_account and self._others_exist(statement):
            self._overlap(statement, batch)

    def _categorise(self, batch: TxBatch) -> TxBatch | None:
        """`batch` categorised, without the rows a `skip` rule dropped (None if none is left)."""
        applied, skipped = self.rules.apply_batch(batch)
        kept = [i for i, skip in enumerate(skipped) if not skip]
        self.report.skipped += len(batch) - len(kept)
        self._count_uncategorised(applied, kept)
        if not kept:
            return None
        return applied if len(kept) == len(batch) else applied.take(kept)

    def _count_uncategorised(self, batch: TxBatch, kept: list[int]) -> None:
        """The payees of the kept rows no rule categorised (normalised once per distinct text)."""
        categories, payees = batch.column("category"), batch.column("payee")
        if len(kept) == len(batch) and batch.payee is None:  # the common case, counted in C
            texts = Counter(compress(batch.description, map(is_, categories, repeat(None))))
        else:
            texts = Counter(payees[i] or batch.description[i] for i in kept if categories[i] is None)
        for key, count in zip(self.payee_keys.of(texts), texts.values()):
            self.payees[key] += count
        if len(self.payees) > _PAYEES_KEPT:  # the report names the most frequent ones only
            self.payees = Counter(dict(self.payees.most_common(_PAYEES_KEPT // 2)))

    def _store(self, batch: TxBatch, others: bool) -> None:
        """Decide and store `batch`; pair its new rows with stored transfer legs when `others`
        (another account is known: a leg's other leg is in another account, so with none there
        is nothing to pair, and the span's stored amounts need not be read)."""
        decided = self.dedupe.batch(batch)
        self.report.duplicates.extend(decided.listed)
        self.report.duplicate += sum(decided.skipped.values())
        stored = self.state.store_batch(
            batch, decided.new, self.settings.run_id, self.sha256, landed=self.settings.in_state
        )
        self.fresh += stored
        self._record(decided.decisions)
        if decided.new and others:
            ids = batch.column("external_id")
            pair_stored(
                self.state,
                [ids[i] or "" for i in decided.new],
                min(batch.date),
                max(batch.date),
                self.settings.match.window_days,
            )

    def _record(self, decisions: list[Decision]) -> None:
        """Store the decided rows that are not simply new, as `classify`'s decisions are stored."""
        if not decisions:
            return
        self._restore_keys()  # recording asks for stored rows by id
        self.report.add_decisions(decisions)
        sending = record(self.state, decisions, self.settings.run_id, self.sha256, self.settings.target)
        self.extra += pair_transfers(self.state, sending, self.settings.match.window_days)

    def _finish(self) -> None:
        ranges = {
            s.account: (s.start_date, s.end_date)
            for s in self.ended
            if s.start_date is not None and s.end_date is not None
        }
        self._record(self.dedupe.finish(ranges))
        self.extra = with_pairs(self.state, self.extra)  # legs the file's later rows paired
        new_transfers = self.state.transfers_stored(self.settings.run_id, self.sha256, self.after)
        self.report.transfers = new_transfers + sum(1 for t in self.extra if t.transfer_to)
        self.report.uncategorised = sum(self.payees.values())
        self.report.uncategorised_payees = dict(self.payees.most_common())

    # the key index ---------------------------------------------------------------------------

    def _defer_keys(self, others: bool) -> None:
        """Once a first import has stored `defer_keys_after` rows and another batch comes, have
        the state drop its index on the ids' keys for the rest of the file and make it again,
        sorted, before the commit (sqlite_stream.py `defer_key_index`: at ten million rows,
        storing into it was a third of the import's CPU).  Only while what it rests on holds:
        one statement (whose id assigner keeps its ids distinct: the store skips no row while
        the index is away), no other account (no transfer to pair by id) and no decision to
        record; `_restore_keys` ends it where one fails.  If two rows share a key after all, the
        state says so (SharedKeys) and the pipeline reads the file again with the index kept."""
        after = self.settings.defer_keys_after
        if self.keys_deferred or after is None or self.fresh < after or others or len(self.open) != 1:
            return
        self.keys_deferred = self.state.defer_key_index(self.after)

    def _restore_keys(self) -> None:
        if self.keys_deferred:
            self.state.restore_key_index()
            self.keys_deferred = False

    # checks --------------------------------------------------------------------------------

    def _overlap(self, statement: _Open, batch: TxBatch) -> None:
        """Count the batch's lines stored under another account (the seen-elsewhere check).

        Per day, as a multiset: a day's lines are compared once all of them have been read, so the
        last day of a batch waits for the next batch (statements are in date order; in a file that
        is not, a day met again is compared again, and its lines may count twice)."""
        for day, amount, text in zip(batch.date, batch.amount, batch.description):
            statement.pending[day.isoformat()].append(fingerprint(day.isoformat(), str(amount), text))
        done = [day for day in statement.pending if day != batch.date[-1].isoformat()]
        self._compare_days(statement, done)

    def _others_exist(self, statement: _Open) -> bool:
        """Whether any other account is known: with none, no line can be stored under another."""
        return any(account.key != statement.account.key for account in self.book.all())

    def _compare_days(self, statement: _Open, days: list[str]) -> None:
        if not days:
            return
        stored = self.state.fingerprints(
            dt.date.fromisoformat(min(days)),
            dt.date.fromisoformat(max(days)),
            statement.account.name,
            not_from=self.sha256,
        )
        if self.book.vouched(statement.account.name):  # then only unvouched accounts can be this one
            stored = (row for row in stored if not self.book.vouched(row[0]))
        rows = Counter(fp for day in days for fp in statement.pending.pop(day))
        by_account: dict[str, Counter[tuple[str, str, str]]] = {}
        for account, day, amount, text in stored:
            by_account.setdefault(account, Counter())[fingerprint(day, amount, text)] += 1
        for account, seen in by_account.items():
            statement.overlaps[account] += sum((rows & seen).values())

    def _check_seen_elsewhere(self, statement: _Open) -> None:
        """Hold a statement whose rows are stored under another account (importer/core/accounts.py)."""
        if self.settings.as_new_account:
            return
        names = self._names()
        owners = self.state.file_accounts(self.sha256, before_run=self.settings.run_id)
        overlaps = Counter({name: n for name, n in statement.overlaps.items() if name not in names})
        error = seen_elsewhere(
            str(self.path), statement.account, owners - names, shared_enough(overlaps, statement.rows), statement.rows
        )
        if error is not None:
            raise error

    def _names(self) -> set[str]:
        """The file's accounts, under their names and the names they had before this run."""
        accounts = self.accounts()
        return {a.name for a in accounts} | {
            self.book.renames[a.key][0] for a in accounts if a.key in self.book.renames
        }

    def _keep_partial(self, exc: TruncatedError) -> None:
        """With `allow_partial`, keep the complete records of a cut file (streamed before the cut,
        or handed over with the error by a parser that reads its file whole) and say so."""
        if not self.settings.options.allow_partial:
            raise exc
        if not self.report.parsed and exc.partial:
            self.open.clear()
            for event in events_of(exc.partial):
                self._take(event)
        if not self.report.parsed:
            raise exc
        self.partial = (
            f"{exc} Imported only the {self.report.parsed} transaction(s) before the cut (allow partial); "
            "the rest of the file was not imported: download it again to get it."
        )
        self.report.warnings.append(self.partial)

    def _check_unchanged(self, source: StatementFile) -> None:
        if self.partial is None and source.sha256() != self.sha256:
            raise InputError(self.path, "changed while it was read; import it again once it is complete.")


class _Chain:
    """`reports.gaps.chain_end` of a statement read in batches: the running balance after its last
    line, the one balance no other line starts from.  It needs every balance at once, so past
    `_CHAIN_LIMIT` lines it gives up (None: "not one chain", which the gap check already allows)."""

    def __init__(self) -> None:
        self.after: set[Decimal] | None = set()
        self.before: set[Decimal] = set()

    def add(self, amounts: Sequence[Decimal], balances: Sequence[Decimal | None]) -> None:
        if self.after is None:
            return
        if any(b is None for b in balances) or len(self.after) + len(amounts) > _CHAIN_LIMIT:
            self.after = None
            return
        known = [b for b in balances if b is not None]
        self.after.update(known)
        self.before.update(b - a for a, b in zip(amounts, known))

    def end(self) -> Decimal | None:
        if not self.after:
            return None
        ends = self.after - self.before
        return ends.pop() if len(ends) == 1 else None


def _with_balances(statement: Statement, total: Decimal, chain_end: Decimal | None) -> Statement:
    """`statement` with the opening and closing balances its lines imply (as `reports.gaps.balances`
    derives them from the lines), for the gap checks that see the statement without its lines."""
    opening, closing = statement.opening_balance, statement.closing_balance
    if opening is None and closing is None:
        closing = chain_end
    if opening is None and closing is not None:
        opening = closing - total
    if closing is None and opening is not None:
        closing = opening + total
    return statement.model_copy(update={"opening_balance": opening, "closing_balance": closing})


def shared_enough(overlaps: Counter[str], rows: int) -> tuple[str, int] | None:
    """The other account holding enough of a statement's `rows` to be its account (`overlapping_account`)."""
    best = max(overlaps.items(), key=lambda p: p[1], default=None)
    if best is None or best[1] < OVERLAP_MIN_ROWS or best[1] < OVERLAP_SHARE * rows:
        return None
    return best


def _events(parser: Parser, source: StatementFile, options: ParseOptions) -> Iterator[Event]:
    """The parser's events for `source` (one place, so tests can cut them into other batches)."""
    return parser.stream(source, options)
