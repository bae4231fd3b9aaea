"""Targets.  TARGETS holds one line per target; adding a service is one module plus one line.

Each entry is a `Target` class (importer/targets/base.py), called as `cls(state, run_id, settings)`;
what it can do beyond sending is its declared `abilities`, readable from the class without making one
(undo asks whether a target's records live in the state before it opens any).

Each line names its class's module rather than importing it (importer/internals/lazy.py): a run into
the local ledger imports importer/targets/local.py and none of the six services' modules (their HTTP
client, rate limits and payload code), which tests/test_startup_imports.py pins.  REGISTRY is the
same table as classes, each imported on its first lookup; tests may add or patch entries in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping

from importer.config.settings import TargetSettings
from importer.core.errors import ConfigError
from importer.internals.lazy import imported
from importer.store.base import Store
from importer.targets.base import Ability, Target

TARGETS: dict[str, str] = {
    "local": "importer.targets.local:LocalLedger",
    "wallet-v1": "importer.targets.wallet_v1:WalletV1",
    "wallet": "importer.targets.wallet:Wallet",
    "duitmyself": "importer.targets.duitmyself:Duitmyself",
    "pocketsmith": "importer.targets.pocketsmith:PocketSmith",
    "toshl": "importer.targets.toshl:Toshl",
    "spendsense": "importer.targets.spendsense:SpendSense",
}

DEFAULT_TARGET = "local"


class _Targets(MutableMapping[str, type[Target]]):
    """TARGETS as classes: an entry's module is imported on its first lookup, then the class is kept;
    an entry set or deleted (a test's stand-in target) replaces the named one."""

    def __init__(self, paths: Mapping[str, str]) -> None:
        self._entries: dict[str, str | type[Target]] = dict(paths)

    def __getitem__(self, name: str) -> type[Target]:
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = self._entries[name] = imported(entry)
        return entry

    def __setitem__(self, name: str, target: type[Target]) -> None:
        self._entries[name] = target

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


REGISTRY: MutableMapping[str, type[Target]] = _Targets(TARGETS)


def make_target(name: str, state: Store, run_id: int, settings: TargetSettings | None = None) -> Target:
    """The target called `name` (configured by `settings`, whose `type` picks the uploader)."""
    kind = settings.type if settings is not None else name
    if kind not in REGISTRY:
        raise ConfigError(f"unknown target type {kind!r}. Known targets: {', '.join(sorted(REGISTRY))}.")
    target = REGISTRY[kind](state, run_id, settings)
    if settings is not None:
        target.in_flight_grace = settings.timeout if settings.in_flight_grace is None else settings.in_flight_grace
    return target


__all__ = ["DEFAULT_TARGET", "REGISTRY", "TARGETS", "Ability", "Target", "make_target"]
