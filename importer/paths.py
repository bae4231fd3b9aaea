"""Where things live by default: the state database and the user's rule and profile folders."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "importer"


def default_state_path() -> Path:
    """`$IMPORTER_STATE`, else state.sqlite in the user data folder."""
    override = os.environ.get("IMPORTER_STATE")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP)) / "state.sqlite"


def default_rules_paths() -> list[Path]:
    """`./rules` when it exists, else the rules folder in the user config folder, else none."""
    for candidate in (Path("rules"), Path(platformdirs.user_config_dir(APP)) / "rules"):
        if candidate.is_dir():
            return [candidate]
    return []


def user_profile_dirs() -> tuple[Path, ...]:
    """The user's own bank profiles, which take precedence over the built-in ones."""
    folder = Path(platformdirs.user_config_dir(APP)) / "profiles"
    return (folder,) if folder.is_dir() else ()
