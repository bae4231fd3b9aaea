"""importer: bank statements in, categorised transactions out, each exactly once.

The library API (importer/api.py) is re-exported here, imported on first use (PEP 562), so that
`import importer` stays cheap for the command line, which loads only the command it runs:

    import importer
    with importer.session(importer.open_config(), state_path) as s:
        report = s.run([statements_folder])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # also core/version.py, for the floors below (tests/test_layout.py pins both)

if TYPE_CHECKING:
    from importer.api import (
        Config,
        LockedError,
        Parsed,
        RoutineReport,
        RunReport,
        RunSettings,
        Session,
        migrate_state,
        open_config,
        open_rules,
        open_state,
        parse_file,
        parse_options,
        run_import,
        run_routine,
        run_settings,
        session,
        state_path,
        undo,
    )

__all__ = [
    "Config",
    "LockedError",
    "Parsed",
    "RoutineReport",
    "RunReport",
    "RunSettings",
    "Session",
    "migrate_state",
    "open_config",
    "open_rules",
    "open_state",
    "parse_file",
    "parse_options",
    "run_import",
    "run_routine",
    "run_settings",
    "session",
    "state_path",
    "undo",
]


def __getattr__(name: str) -> Any:
    """A name of the library API, importing importer/api.py the first time one is asked for."""
    if name in __all__:
        return getattr(importlib.import_module("importer.api"), name)
    raise AttributeError(f"module 'importer' has no attribute {name!r}")
