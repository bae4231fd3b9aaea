"""Accounts: one real account, one identity, whatever name it is shown under.

The rows of a statement belong to an account, and an account is known by its *identity*: the
identifier the bank writes into the file (OFX BANKID:ACCTID, an IBAN or other account id in camt,
MT940's `:25:`, a CSV account column or preamble line, QIF's `!Account` name), normalised so that
spaces, dashes and case do not matter.  A file that carries none belongs to the account the user
names (`--account`, a source's `account:`, a profile mapped in `accounts:`), and that name,
taken the first time, becomes the account's identity.  The identity, kept as the account's
`key`, is what external ids are computed from (importer/ids/recipe.py, recipe v2).  Display names
are aliases: renaming an account changes no id and re-imports nothing.

    statement ─ identity_of ─▶ identifier? ─┐
    --account / source account ─────────────┼─▶ AccountBook.resolve ─▶ Account(key, name, recipe)
    importer.yaml `accounts:` ──────────────┤         (or AccountError: the file needs an account)
    state: accounts, account_identifiers ───┘

Why not the name: the name depended on how the file was read (a profile name, the literal `csv`
for a detected layout, BANKID:ACCTID for OFX), so the same statement was stored again under each
new name, and two banks' detected CSVs shared one account.

Accounts of a state written before identities keep ids of recipe v1, computed from the name they
had then (kept as `basis`), so the upgrade re-imports nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from importer.core.errors import InputError
from importer.core.models import Statement

# Formats whose identifier is only a name the exporting program chose ("Checking"): it names the
# account when the user gave none, but never overrules the account the user named.
_WEAK = {"qif"}
_SEPARATORS = re.compile(r"[\s\-./]+")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


@dataclass(frozen=True)
class Account:
    """One real account: its identity (`key`), the name it is shown under, and its id recipe."""

    key: str
    name: str
    recipe: str = "v2"
    basis: str | None = None  # recipe v1: the name its ids were computed from
    currency: str | None = None
    identifiers: tuple[str, ...] = ()

    @property
    def id_basis(self) -> str:
        """The text external ids are computed from (importer/ids/recipe.py)."""
        return self.basis if self.recipe == "v1" and self.basis is not None else self.key


@dataclass(frozen=True)
class AccountSpec:
    """An account declared in importer.yaml: its display name and what identifies its files."""

    name: str
    identifiers: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    currency: str | None = None


class AccountError(InputError):
    """The file's account cannot be settled: it needs a name, or names two accounts at once."""


def normalise_identifier(text: str) -> str:
    """`de89 3704-0044 0532 0130 00` → `DE89370400440532013000`: spaces, dashes, dots, slashes
    and case are how an identifier is written, not part of it."""
    return _SEPARATORS.sub("", text).upper()


def is_iban(identifier: str) -> bool:
    """A normalised identifier that is an IBAN: country, check digits, and the mod-97 check."""
    if not _IBAN.match(identifier):
        return False
    moved = identifier[4:] + identifier[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def identity_of(statement: Statement) -> str | None:
    """The normalised identifier the file gives for `statement`'s account, or None."""
    raw = statement.bank_account_id
    if raw is None or not raw.strip():
        return None
    return normalise_identifier(raw) or None


def display_identifier(identifier: str) -> str:
    """An identifier as people write it: IBANs in groups of four."""
    if is_iban(identifier):
        return " ".join(identifier[i : i + 4] for i in range(0, len(identifier), 4))
    return identifier


def name_key(name: str) -> str:
    """The key of an account known only by the name it was first given."""
    return "name:" + " ".join(name.split()).casefold()


@dataclass
class AccountBook:
    """The accounts known to the state and declared in the config, and the ones this run adds.

    `resolve` never writes: new accounts and identifiers wait in `pending` until the caller
    stores the file's rows (`State.save_accounts`), so a dry run or a failed file leaves none.
    """

    known: list[Account] = field(default_factory=list)
    specs: Sequence[AccountSpec] = ()
    pending: dict[str, Account] = field(default_factory=dict)
    renames: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (old name, new name)

    def resolve(self, statement: Statement, explicit: str | None, profile: str | None) -> Account:
        """The account `statement` belongs to; `explicit` is the name the user gave, if any."""
        identifier = identity_of(statement)
        weak = statement.format in _WEAK
        if identifier is not None and not (weak and explicit):
            return self._by_identity(statement, identifier, explicit, profile)
        name = explicit or self._spec_for_profile(profile)
        if name is None:
            raise AccountError(statement.path, self._needs_account(statement))
        legacy = self._legacy_profile_account(profile) if self._find_name(name) is None else None
        return self._adopt(legacy, name) if legacy is not None else self.named(name, statement.currency)

    def named(self, name: str, currency: str | None = None) -> Account:
        """The account shown as `name` (or declared so in the config), a new one when none is."""
        found = self._find_name(name)
        if found is not None:
            return found
        spec = self._spec(name)
        key = self._fresh_key(name_key(name))
        return self._add(Account(key=key, name=name, currency=spec.currency if spec and spec.currency else currency))

    def all(self) -> list[Account]:
        return [*self.known, *self.pending.values()]

    def vouched(self, name: str) -> bool:
        """Whether the account `name` is known to be its own: a file gave it an identifier, or the
        user declared it under `accounts:`.  Two vouched accounts are never taken for one, however
        alike their rows (the bundled samples share their rows across banks)."""
        found = self._find_name(name)
        return bool(found is not None and found.identifiers) or self._spec(name) is not None

    def _by_identity(self, statement: Statement, identifier: str, explicit: str | None, profile: str | None) -> Account:
        owner = self._find_identifier(identifier)
        if owner is not None:
            if explicit and not self._same(owner, explicit):
                raise AccountError(statement.path, self._two_names(identifier, owner, explicit))
            return owner
        declared = self._spec_for_identifier(identifier)
        # An identifier seen for the first time belongs to the account the user named, declared
        # with it, or declared for the file's profile (which may have filed these rows before
        # the profile learnt to read the identifier): that account learns it, keeping its ids.
        name = explicit or (declared.name if declared else None) or self._spec_for_profile(profile)
        found = self._find_name(name) if name is not None else None
        if found is not None:
            return self._with_identifier(found, identifier)
        written = (statement.bank_account_id or "").strip()
        name = name or (display_identifier(identifier) if is_iban(identifier) else written)
        legacy = self._legacy_profile_account(profile)
        if legacy is not None:
            return self._with_identifier(self._adopt(legacy, name), identifier)
        return self._new(name, identifier, statement.currency)

    def _new(self, name: str, identifier: str, currency: str) -> Account:
        spec = self._spec(name)
        key = self._fresh_key(identifier)
        return self._add(
            Account(
                key=key,
                name=name,
                currency=spec.currency if spec and spec.currency else currency,
                identifiers=(identifier,),
            )
        )

    def _legacy_profile_account(self, profile: str | None) -> Account | None:
        """The account a state from before identities filed this profile's files under: it was
        named after the profile, a name nobody chose, so the name the user gives now replaces it."""
        return next((a for a in self.known if a.recipe == "v1" and profile and a.name == profile), None)

    def _adopt(self, legacy: Account, name: str) -> Account:
        self.known = [a for a in self.known if a.key != legacy.key]
        self.renames[legacy.key] = (legacy.name, name)
        return self._add(replace(legacy, name=name))

    def _fresh_key(self, key: str) -> str:
        """`key`, or `key#n` when a renamed account already holds it: two accounts never share
        a key, since they would share every external id."""
        taken = {a.key for a in self.all()}
        n = 2
        fresh = key
        while fresh in taken:
            fresh, n = f"{key}#{n}", n + 1
        return fresh

    def _with_identifier(self, account: Account, identifier: str) -> Account:
        if identifier in account.identifiers:
            return account
        return self._add(replace(account, identifiers=(*account.identifiers, identifier)))

    def _add(self, account: Account) -> Account:
        self.pending[account.key] = account
        return account

    def _find_name(self, name: str) -> Account | None:
        folded = " ".join(name.split()).casefold()
        return next((a for a in reversed(self.all()) if " ".join(a.name.split()).casefold() == folded), None)

    def _find_key(self, key: str) -> Account | None:
        return next((a for a in reversed(self.all()) if a.key == key), None)

    def _find_identifier(self, identifier: str) -> Account | None:
        found = next((a for a in reversed(self.all()) if identifier in a.identifiers), None)
        if found is None:
            declared = self._spec_for_identifier(identifier)
            found = self._find_name(declared.name) if declared else None
        return found

    def _same(self, account: Account, name: str) -> bool:
        return " ".join(account.name.split()).casefold() == " ".join(name.split()).casefold()

    def _spec(self, name: str) -> AccountSpec | None:
        folded = " ".join(name.split()).casefold()
        return next((s for s in self.specs if " ".join(s.name.split()).casefold() == folded), None)

    def _spec_for_identifier(self, identifier: str) -> AccountSpec | None:
        return next((s for s in self.specs if identifier in {normalise_identifier(i) for i in s.identifiers}), None)

    def _spec_for_profile(self, profile: str | None) -> str | None:
        if profile is None:
            return None
        return next((s.name for s in self.specs if profile in s.profiles), None)

    def _needs_account(self, statement: Statement) -> str:
        names = sorted({a.name for a in self.all()} | {s.name for s in self.specs})
        known = "Known accounts: " + ", ".join(names) + "." if names else "No accounts are known yet."
        return (
            "the file does not say which account it belongs to (it carries no account number or IBAN), "
            "so it needs one: pass --account NAME, or give its source an `account:` (or map its profile "
            f"under `accounts:`) in importer.yaml. {known}"
        )

    def _two_names(self, identifier: str, owner: Account, explicit: str) -> str:
        shown = display_identifier(identifier)
        return (
            f"the file's account {shown} is already known as {owner.name!r}, but --account names {explicit!r}. "
            f"Import it as {owner.name!r} (drop --account), or rename the account: "
            f"importer accounts rename {_quoted(owner.name)} {_quoted(explicit)}."
        )


def _quoted(name: str) -> str:
    return f"'{name}'" if any(c.isspace() for c in name) else name


# A statement whose rows are this share of rows already stored under another account is that
# account's statement read under a new name (a renamed source, another profile), not a new one.
OVERLAP_SHARE = 0.8
OVERLAP_MIN_ROWS = 2  # one shared fee on two accounts proves nothing


def fingerprint(day: str, amount: str, description: str) -> tuple[str, str, str]:
    """What makes two stored rows the same line of a statement, whatever account they are in."""
    return day, format(Decimal(amount).normalize(), "f"), " ".join(description.split()).casefold()


def overlapping_account(statement: Statement, stored: Iterable[tuple[str, str, str, str]]) -> tuple[str, int] | None:
    """The other account holding at least `OVERLAP_SHARE` of `statement`'s rows, with how many:
    `stored` gives (account, date, amount, description) of rows in the statement's dates."""
    rows = Counter(fingerprint(t.date.isoformat(), str(t.amount), t.description) for t in statement.transactions)
    by_account: dict[str, Counter[tuple[str, str, str]]] = {}
    for account, day, amount, description in stored:
        by_account.setdefault(account, Counter())[fingerprint(day, amount, description)] += 1
    best = max(
        ((name, sum((rows & seen).values())) for name, seen in by_account.items()), key=lambda p: p[1], default=None
    )
    total = sum(rows.values())
    if best is None or best[1] < OVERLAP_MIN_ROWS or best[1] < OVERLAP_SHARE * total:
        return None
    return best


def seen_elsewhere(
    path: str, account: Account, file_owners: set[str], overlap: tuple[str, int] | None, rows: int
) -> AccountError | None:
    """The error holding a file back when it was already stored under another account."""
    others = sorted(file_owners - {account.name})
    if others:
        why = f"this very file was imported before as {others[0]!r}"
        other = others[0]
    elif overlap is not None:
        other, shared = overlap
        why = f"{shared} of its {rows} rows are already stored under {other!r}"
    else:
        return None
    return AccountError(
        path,
        f"held: {why}, and now it would be stored as {account.name!r}. If they are one account, rename it "
        f"(importer accounts rename {_quoted(other)} {_quoted(account.name)}) or import the file as {other!r}; "
        "if they really are two accounts, import it again with --as-new-account.",
    )
