"""Heavy libraries imported on first use, not when the command line starts.

pandas (with numpy) and httpx took about two thirds of every `importer` start-up, yet an OFX
import, `importer history` or `importer --help` never touches pandas, and the local target never
touches httpx.  Modules write

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_module("pandas")

and use `pd.` as before: the first attribute looked up imports the module.  A registry whose
entries name their modules (`imported("package.module:Name")`) loads only the entry a file needs:
a CSV import never imports the OFX, camt, MT940 or QIF readers.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def lazy_module(name: str) -> Any:
    """A stand-in for module `name` that imports it when first asked for an attribute."""
    return _LazyModule(name)


def imported(path: str) -> Any:
    """The object at `path`, "package.module:name", importing its module now if not yet imported.

    For registries that name their entries' modules (importer/parsers/__init__.py), so that a
    command imports the one entry it uses, when it uses it."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
