"""Targets.  REGISTRY holds one line per target; adding a service is one module plus one line."""

from __future__ import annotations

from collections.abc import Callable

from importer.errors import ConfigError
from importer.state import State
from importer.uploaders.base import Target
from importer.uploaders.local import LocalLedger

TargetFactory = Callable[[State, int], Target]

REGISTRY: dict[str, TargetFactory] = {
    "local": LocalLedger,
}

DEFAULT_TARGET = "local"


def make_target(name: str, state: State, run_id: int) -> Target:
    """The target called `name`, ready to send."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown target {name!r}. Known targets: {', '.join(sorted(REGISTRY))}.")
    return REGISTRY[name](state, run_id)


__all__ = ["DEFAULT_TARGET", "REGISTRY", "Target", "make_target"]
