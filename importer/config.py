"""The configuration file `importer.yaml`: sources, rules, targets, state and inbox folders.

Found at `--config PATH`, else `./importer.yaml`, else `importer.yaml` in the user config folder.
Validated with pydantic where it enters: an error names the file, the line and the key, and says
what is allowed.  Secrets never live here: a target names the environment variable (or OS keyring
entry) that holds its token.

    state: ~/.local/share/importer/state.sqlite
    rules: [rules/]
    default_target: wallet
    targets:
      wallet:
        type: wallet
        base_url: https://rest.budgetbakers.com
        token_env: WALLET_TOKEN
        accounts: {Chase checking: 7f1c...}
    sources:
      - path: ~/Downloads/chase*.csv
        account: Chase checking
        profile: chase-checking
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from importer.errors import ConfigError
from importer.paths import APP


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KeyringRef(_Strict):
    """Where the OS keyring holds a secret."""

    service: str = APP
    username: str


class TargetSettings(_Strict):
    """One configured target.  `type` is a key of `importer.uploaders.REGISTRY`.

    Service-specific settings (user ids, dialects) go under `options`; each uploader validates
    its own options.
    """

    type: str
    base_url: str | None = None
    token_env: str | None = None
    keyring: KeyringRef | None = None
    batch_size: int | None = Field(default=None, ge=1)
    concurrency: int = Field(default=4, ge=1, le=64)
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=6, ge=1, le=20)
    backoff: float = Field(default=0.5, ge=0)
    create_missing: bool = False
    accounts: dict[str, str] = Field(default_factory=dict)
    categories: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)


class SourceSettings(_Strict):
    """A folder or glob of statement files and what they are."""

    path: str
    account: str | None = None
    profile: str | None = None
    currency: str | None = None
    date_format: str | None = None
    target: str | None = None

    @property
    def expanded(self) -> str:
        return os.path.expanduser(self.path)


class Config(_Strict):
    state: Path | None = None
    rules: tuple[Path, ...] = ()
    default_target: str = "local"
    targets: dict[str, TargetSettings] = Field(default_factory=dict)
    sources: tuple[SourceSettings, ...] = ()
    inbox: Path | None = None
    archive: Path | None = None
    failed: Path | None = None

    @field_validator("state", "inbox", "archive", "failed", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    def target(self, name: str) -> TargetSettings | None:
        """The settings of target `name` (None for `local` when not configured)."""
        if name in self.targets:
            return self.targets[name]
        if name == "local":
            return None
        known = ", ".join(sorted({"local", *self.targets})) or "local"
        raise ConfigError(f"no target named {name!r} is configured. Configured targets: {known}.")


def find_config(explicit: Path | None) -> Path | None:
    """`explicit`, else ./importer.yaml, else the user config folder's importer.yaml, else None."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError("the configuration file does not exist.", path=explicit)
        return explicit
    for candidate in (Path("importer.yaml"), Path(platformdirs.user_config_dir(APP)) / "importer.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: Path | None = None) -> Config:
    """The validated configuration, or the defaults when there is no file."""
    path = find_config(explicit)
    if path is None:
        return Config()
    return parse_config(path.read_text(encoding="utf-8"), path)


def parse_config(text: str, path: Path) -> Config:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"is not valid YAML: {getattr(exc, 'problem', exc)}", path=path,
                          line=mark.line + 1 if mark is not None else None) from None  # fmt: skip
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err["loc"])
        raise ConfigError(f"key {key}: {err['msg']}", path=path, line=yaml_line(root, err["loc"])) from None


def yaml_line(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == str(part)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
