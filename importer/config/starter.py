"""The starter importer.yaml that `importer init` writes (every key, commented), and the example
rules it points at.

The example rules are the repository's rules/ folder, shipped inside the package as
`importer/example_rules` (a symlink in the source tree, real files in the wheel; see
pyproject.toml) and read with importlib.resources, so an installed `importer` has them too.
`init` copies them into a folder the user owns and edits, never over a file already there:
without rules, every transaction would land uncategorised and nobody would notice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from importer.config.paths import private_folder
from importer.core.errors import ConfigError


@dataclass(frozen=True)
class StarterAnswers:
    inbox: str | None = None
    archive: str | None = None
    failed: str | None = None
    state: str | None = None
    source: str | None = None
    account: str | None = None
    profile: str | None = None
    currency: str | None = None  # of the source's files
    default_currency: str | None = None  # top-level `currency:`, for any file that names none
    rules: str | None = None  # the rules folder (init fills it with the example rules)


def _q(value: str) -> str:
    # A JSON string is a valid YAML scalar: quotes and backslashes in paths stay safe.
    return json.dumps(value, ensure_ascii=False)


def _key(name: str, value: str | None, example: str) -> str:
    return f"{name}: {_q(value)}" if value else f"# {name}: {example}"


def starter_config(answers: StarterAnswers) -> str:
    """A commented importer.yaml holding `answers` (keys left unanswered are commented out)."""
    inbox = answers.inbox or "~/Statements/inbox"
    return "\n".join(
        [
            "# importer configuration. Relative paths are relative to this file's folder.",
            "# Check it with `importer run --dry-run`; every key is optional.",
            "",
            "# The state database: what was imported and sent (default: the user data folder).",
            _key("state", answers.state, "~/.local/share/importer/store/sqlite.sqlite"),
            "",
            "# Rule files or folders that categorise transactions, applied in file-name order",
            "# (default: ./rules, else the rules folder in the user config folder).",
            f"rules: [{_q(answers.rules)}]" if answers.rules else "# rules: [rules/]",
            "",
            "# `importer watch` imports files dropped into the inbox, then moves them to",
            "# archive/YYYY-MM/, or to failed/ with a .error.txt saying what to fix.",
            f"inbox: {_q(inbox)}",
            _key("archive", answers.archive, "~/Statements/archive"),
            _key("failed", answers.failed, "~/Statements/failed"),
            "# Seconds a dropped file must stay unchanged before it is read (downloads in progress).",
            "# settle: 2",
            "",
            "# `importer run` with no paths imports these (the monthly routine). Each is a folder or",
            "# a glob; account, profile, currency and target apply to its files. A file dropped into",
            "# the inbox whose name matches a glob's file-name pattern gets that source's settings.",
            *_sources(answers),
            "",
            "# The currency of statements that do not say theirs (QIF, some CSVs) when neither",
            "# --currency nor their source names one; $IMPORTER_CURRENCY overrides it. Unset, such",
            "# files are refused: a currency is never guessed.",
            _key("currency", answers.default_currency, "USD"),
            "",
            "# Where transactions go: `local` (the embedded ledger) unless a target is configured.",
            "default_target: local",
            "# targets:",
            "#   wallet:",
            "#     type: wallet",
            "#     token_env: WALLET_TOKEN   # the token is read from this environment variable, never stored here",
            "",
            "# Seconds `importer run` waits for another run on the same state before exiting with code 3.",
            "lock_wait: 0",
            "",
            "# Log file of unattended runs, rotated by size (default: importer.log beside the state).",
            "# log: {file: ~/.local/state/importer/importer.log, level: INFO, max_bytes: 1000000, backups: 5}",
            "",
        ]
    )


def _sources(answers: StarterAnswers) -> list[str]:
    if not answers.source:
        return [
            "sources: []",
            "# sources:",
            "#   - path: ~/Downloads/chase*.csv",
            "#     account: Chase checking",
            "#     profile: chase-checking",
        ]
    lines = ["sources:", f"  - path: {_q(answers.source)}"]
    for name in ("account", "profile", "currency"):
        value = getattr(answers, name)
        lines.append(f"    {name}: {_q(value)}" if value else f"    # {name}: ")
    return lines


@dataclass(frozen=True)
class RulesCopy:
    """What `copy_example_rules` did: the files it wrote and the ones already there, left alone."""

    copied: tuple[Path, ...]
    kept: tuple[Path, ...]


def example_rules() -> Iterator[tuple[PurePosixPath, Traversable]]:
    """Every shipped example rule file, by its path relative to the rules folder, in name order."""
    root = resources.files("importer") / "example_rules"
    if not root.is_dir():
        raise ConfigError("the example rules are missing from this installation of importer; reinstall it.")
    yield from _yaml_files(root, PurePosixPath())


def _yaml_files(folder: Traversable, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _yaml_files(entry, prefix / entry.name)
        elif entry.name.endswith(".yaml"):
            yield prefix / entry.name, entry


def copy_example_rules(folder: Path) -> RulesCopy:
    """Copy the example rules into `folder`; a file already there is the user's and is kept."""
    copied: list[Path] = []
    kept: list[Path] = []
    for relative, source in example_rules():
        target = folder.joinpath(*relative.parts)
        private_folder(target.parent)
        try:
            with target.open("x", encoding="utf-8") as handle:  # "x": never over an existing file
                handle.write(source.read_text(encoding="utf-8"))
        except FileExistsError:
            kept.append(target)
            continue
        copied.append(target)
    return RulesCopy(tuple(copied), tuple(kept))
