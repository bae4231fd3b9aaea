"""Where things live by default: the state database and the user's rule and profile folders."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from importer.config.state_location import Location, PgUrl, parse_location
from importer.internals.private import PRIVATE_FILE as PRIVATE_FILE  # re-exported: where most callers look
from importer.internals.private import PRIVATE_FOLDER as PRIVATE_FOLDER
from importer.internals.private import private_folder as private_folder

APP = "importer"


def default_state_path() -> Location:
    """`$IMPORTER_STATE` (a path or a postgresql:// URL), else state.sqlite in the user data folder."""
    override = os.environ.get("IMPORTER_STATE")
    return parse_location(override) if override else user_state_file()


def user_state_file() -> Path:
    """state.sqlite in the user data folder."""
    return Path(platformdirs.user_data_dir(APP)) / "state.sqlite"


def log_anchor(location: Location) -> Path:
    """What the default log file (importer.log) sits beside: the SQLite state file, or for a
    PostgreSQL state, which has no folder, the user data folder's state file."""
    return user_state_file() if isinstance(location, PgUrl) else location


def rules_candidates() -> tuple[Path, Path]:
    """Where rules are looked for when neither --rules nor the config's `rules:` names any."""
    return Path("rules"), Path(platformdirs.user_config_dir(APP)) / "rules"


def default_rules_paths() -> list[Path]:
    """`./rules` when it exists, else the rules folder in the user config folder, else none."""
    for candidate in rules_candidates():
        if candidate.is_dir():
            return [candidate]
    return []


def rules_looked_in(explicit: Sequence[Path], configured: Sequence[Path]) -> list[Path]:
    """Where a command took its rules from: --rules, else the config's `rules:`, else the default
    folder found (when none is found: both places looked in)."""
    return list(explicit) or list(configured) or default_rules_paths() or list(rules_candidates())


def no_rules_warning(looked_in: Sequence[Path]) -> str:
    """The stderr line of a run that loaded no rule: without it, everything lands uncategorised unnoticed."""
    places = ", ".join(str(p.absolute()) for p in looked_in)
    return (
        f"warning: no rules loaded (looked in {places}); every transaction stays uncategorised. "
        "Run `importer init --user` for the example rules, or set `rules:` in importer.yaml."
    )


def user_profile_dirs() -> tuple[Path, ...]:
    """The user's own bank profiles, which take precedence over the built-in ones."""
    folder = Path(platformdirs.user_config_dir(APP)) / "profiles"
    return (folder,) if folder.is_dir() else ()


def create_private(path: Path) -> None:
    """Create the empty file `path` as 0600 unless it exists, before anything is written to it."""
    private_folder(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, a file readable by the user only (created 0600, never wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
