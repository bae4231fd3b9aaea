"""Targets.  REGISTRY holds one line per target; adding a service is one module plus one line.

Each entry is a `Target` class (importer/targets/base.py), called as `cls(state, run_id, settings)`;
what it can do beyond sending is its declared `abilities`, readable from the class without making one
(undo asks whether a target's records live in the state before it opens any).
"""

from __future__ import annotations

from importer.config.settings import TargetSettings
from importer.core.errors import ConfigError
from importer.store.base import Store
from importer.targets.base import Ability, Target
from importer.targets.duitmyself import Duitmyself
from importer.targets.local import LocalLedger
from importer.targets.pocketsmith import PocketSmith
from importer.targets.spendsense import SpendSense
from importer.targets.toshl import Toshl
from importer.targets.wallet import Wallet
from importer.targets.wallet_v1 import WalletV1

REGISTRY: dict[str, type[Target]] = {
    "local": LocalLedger,
    "wallet-v1": WalletV1,
    "wallet": Wallet,
    "duitmyself": Duitmyself,
    "pocketsmith": PocketSmith,
    "toshl": Toshl,
    "spendsense": SpendSense,
}

DEFAULT_TARGET = "local"


def make_target(name: str, state: Store, run_id: int, settings: TargetSettings | None = None) -> Target:
    """The target called `name` (configured by `settings`, whose `type` picks the uploader)."""
    kind = settings.type if settings is not None else name
    if kind not in REGISTRY:
        raise ConfigError(f"unknown target type {kind!r}. Known targets: {', '.join(sorted(REGISTRY))}.")
    return REGISTRY[kind](state, run_id, settings)


__all__ = ["DEFAULT_TARGET", "REGISTRY", "Ability", "Target", "make_target"]
