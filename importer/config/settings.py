"""The configuration file `importer.yaml`: sources, rules, targets, state and inbox folders.

Found at `--config PATH`, else `./importer.yaml`, else `importer.yaml` in the user config folder.
Validated with pydantic where it enters: an error names the file, the line and the key, and says
what is allowed.  Secrets never live here: a target names the environment variable (or OS keyring
entry) that holds its token.

    state: ~/.local/share/importer/store/sqlite.sqlite
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
        allow_partial: false           # true: import the complete part of a cut-off file, warned
    inbox: ~/Statements/inbox          # `importer watch` imports what lands here,
    archive: ~/Statements/archive      # then moves it to archive/YYYY-MM/,
    failed: ~/Statements/failed        # or to failed/ with a .error.txt saying what to fix
    log: {file: ~/.local/state/importer/importer.log, max_bytes: 1000000, backups: 5}
    currency: USD                      # for files that do not say (QIF); $IMPORTER_CURRENCY wins
    max_statement_bytes: 1073741824    # a larger statement file is refused before it is read

Relative paths are relative to the folder holding the configuration file, so a cron job run from
any working directory reads the same files.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from importer.config.paths import APP, user_profile_dirs
from importer.config.state_location import StateLocation, located
from importer.core.accounts import AccountSpec
from importer.core.currencies import is_currency
from importer.core.errors import ConfigError
from importer.internals.lazy import lazy_module
from importer.internals.parsed_cache import ParsedCache
from importer.parsers.base import MAX_STATEMENT_BYTES
from importer.parsers.csv.profiles import all_profiles

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy_module("yaml")  # a run whose YAML files are all in the parsed cache never imports it


def _iso_currency(value: str) -> str:
    if not is_currency(value.upper()):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD, EUR)")
    return value.upper()


def iso_currency(value: str | None) -> str | None:
    """`value` upper-cased; a ValueError (a pydantic message) unless it is an ISO 4217 code."""
    return None if value is None else _iso_currency(value)


# A currency code as written in importer.yaml: any case, checked against ISO 4217, kept upper-case.
IsoCurrency = Annotated[str, AfterValidator(_iso_currency)]


class _Strict(BaseModel):
    # defer_build: built when a configuration is first validated, and then only `Config`'s own
    # validator (the nested models' schemas are part of it); built at import, each nested model
    # built a validator of its own as well, which a run never uses.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class KeyringRef(_Strict):
    """Where the OS keyring holds a secret."""

    service: str = APP
    username: str


class TargetSettings(_Strict):
    """One configured target.  `type` is a key of `importer.targets.REGISTRY`.

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
    # Seconds the service may still be working on a request after the run that sent it was
    # killed (default: `timeout`); see Target.in_flight_grace.
    in_flight_grace: float | None = Field(default=None, ge=0)
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
    currency: IsoCurrency | None = None
    date_format: str | None = None
    target: str | None = None
    allow_partial: bool = False  # import the complete part of a cut-off file, with a warning

    @property
    def expanded(self) -> str:
        return os.path.expanduser(self.path)

    @property
    def is_glob(self) -> bool:
        return glob.has_magic(self.expanded)

    def files(self) -> list[Path]:
        """The files this source names now: the glob's matches, or the folder's statement files."""
        if self.is_glob:
            # Not `is_file()`: a FIFO or device the glob names is reported by the run, not skipped unseen.
            return sorted(Path(p) for p in glob.glob(self.expanded, recursive=True) if not Path(p).is_dir())
        return [Path(self.expanded)]

    def matches(self, file: Path) -> bool:
        """Whether `file` (e.g. one dropped in the inbox) is one of this source's statements.

        A glob matches on its file-name pattern, so `~/Downloads/chase*.csv` also claims a
        `chase-2026-10.csv` dropped into the inbox; a folder claims the files inside it.
        """
        if self.is_glob:
            return fnmatch.fnmatch(file.name, os.path.basename(self.expanded))
        folder = Path(self.expanded)
        return file == folder or folder in file.parents


class AccountSettings(_Strict):
    """One account under `accounts:`: what identifies its files (importer/core/accounts.py).

    accounts:
      Joint checking:
        identifiers: [DE89 3704 0044 0532 0130 00]   # IBAN, number, BANKID:ACCTID as the bank writes it
        profiles: [dkb]                              # CSV files read with these profiles belong here
        currency: EUR
    """

    identifiers: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    currency: IsoCurrency | None = None

    @field_validator("identifiers", "profiles", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class LogSettings(_Strict):
    """The log file of unattended runs (`run` with configured sources, `watch`), rotated by size."""

    file: Path | None = None  # default: importer.log in the user log folder
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_bytes: int = Field(default=1_000_000, ge=10_000)
    backups: int = Field(default=5, ge=0, le=100)

    @field_validator("file", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


class Config(_Strict):
    state: StateLocation | None = None  # a file path or a postgresql:// URL (config/state_location.py)
    rules: tuple[Path, ...] = ()
    default_target: str = "local"
    targets: dict[str, TargetSettings] = Field(default_factory=dict)
    sources: tuple[SourceSettings, ...] = ()
    accounts: dict[str, AccountSettings] = Field(default_factory=dict)
    inbox: Path | None = None
    archive: Path | None = None
    failed: Path | None = None
    log: LogSettings = Field(default_factory=LogSettings)
    lock_wait: float = Field(default=0, ge=0)  # seconds a run waits for another run to finish
    settle: float = Field(default=2.0, ge=0)  # seconds an inbox file must stay unchanged before import
    lease: float = Field(default=60.0, gt=0)  # seconds a watcher's claim on a file outlives its last heartbeat
    currency: IsoCurrency | None = None  # for files that do not say theirs (QIF, some CSVs); see default_currency
    max_statement_bytes: int = Field(default=MAX_STATEMENT_BYTES, ge=1)  # a larger file is refused unread

    @field_validator("inbox", "archive", "failed", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    def folders(self) -> tuple[Path, Path, Path]:
        """The inbox, archive and failed folders (archive and failed default to siblings of the inbox)."""
        if self.inbox is None:
            raise ConfigError("no inbox folder is configured. Add `inbox: PATH` to importer.yaml or pass INBOX.")
        return self.inbox, self.archive or self.inbox.parent / "archive", self.failed or self.inbox.parent / "failed"

    def relative_to(self, base: Path) -> Config:
        """This configuration with its relative paths taken from `base` (the config file's folder)."""

        def absolute(path: Path | None) -> Path | None:
            return path if path is None or path.is_absolute() else base / path

        sources = tuple(
            s if os.path.isabs(s.expanded) else s.model_copy(update={"path": str(base / s.expanded)})
            for s in self.sources
        )
        return self.model_copy(
            update={
                "state": None if self.state is None else located(self.state, base),
                "inbox": absolute(self.inbox),
                "archive": absolute(self.archive),
                "failed": absolute(self.failed),
                "rules": tuple(absolute(r) or r for r in self.rules),
                "sources": sources,
                "log": self.log.model_copy(update={"file": absolute(self.log.file)}),
            }
        )

    def account_specs(self) -> tuple[AccountSpec, ...]:
        """The accounts declared under `accounts:`, as the account book takes them."""
        return tuple(AccountSpec(name, a.identifiers, a.profiles, a.currency) for name, a in self.accounts.items())

    def target(self, name: str) -> TargetSettings | None:
        """The settings of target `name` (None for `local` when not configured)."""
        if name in self.targets:
            return self.targets[name]
        if name == "local":
            return None
        known = ", ".join(sorted({"local", *self.targets})) or "local"
        raise ConfigError(f"no target named {name!r} is configured. Configured targets: {known}.")


CURRENCY_ENV = "IMPORTER_CURRENCY"


def default_currency(config: Config) -> str | None:
    """The currency of files that name none when neither --currency nor their source does.

    Precedence, most specific first: --currency, the source's `currency:`, $IMPORTER_CURRENCY,
    the top-level `currency:`.  The environment beats the file, as in pydantic-settings: one
    shell can override a shared configuration without editing it.  None: nothing says, and a
    parser that needs a currency refuses the file rather than invent one.
    """
    value = os.environ.get(CURRENCY_ENV, "").strip()
    if not value:
        return config.currency
    try:
        return iso_currency(value)
    except ValueError as exc:
        raise ConfigError(f"${CURRENCY_ENV}: {exc}.") from None


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
    cache, tree = ParsedCache("config"), _Tree(text)
    try:
        data = cache.get(text.encode("utf-8"), lambda: read_yaml(text)[1] or {})
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"is not valid YAML: {getattr(exc, 'problem', exc)}",
            path=path,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    cache.save()
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err["loc"])
        raise ConfigError(f"key {key}: {_explain(err)}", path=path, line=tree.line(err["loc"])) from None
    _check_targets(config, tree, path)
    _check_profiles(config, tree, path)
    _check_account_profiles(config, tree, path)
    return config.relative_to(path.parent.absolute())


def read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (its lines, for errors) and its data, read by libyaml.

    The pure-Python reader was most of a small run's configuration time (25 ms of CPU against
    2 ms).  It stays the reference: it reads when libyaml is missing, and reads again after a YAML
    error so the message (and its line) is the one it always was.  Two passes, not one: building
    the data flattens `<<` merge keys inside the node tree, whose lines the errors then point at."""
    fast = getattr(yaml, "CSafeLoader", None)  # a safe loader, in C; absent without libyaml
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast), yaml.load(text, Loader=fast)  # a safe loader
        except yaml.YAMLError:
            pass
    return read_yaml_reference(text)


def read_yaml_reference(text: str) -> tuple[yaml.Node | None, Any]:
    """`read_yaml` by the pure-Python reader (tests/test_config_yaml.py: the two agree)."""
    return yaml.compose(text), yaml.safe_load(text)


class _Tree:
    """A configuration's node tree, for an error's line: parsed only when an error needs it,
    since the data may come from the parsed cache (importer/internals/parsed_cache.py)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def line(self, loc: tuple[int | str, ...]) -> int | None:
        return yaml_line(read_yaml(self.text)[0], loc)


def _check_profiles(config: Config, tree: _Tree, path: Path) -> None:
    """Every source's profile exists, so a typo fails now rather than on each file at import."""
    named = [(i, s.profile) for i, s in enumerate(config.sources) if s.profile is not None]
    if not named:
        return
    known = all_profiles(user_profile_dirs())
    for index, profile in named:
        if profile not in known:
            raise ConfigError(
                f"key sources.{index}.profile: no bank profile named {profile!r}; allowed: {', '.join(sorted(known))}.",
                path=path,
                line=tree.line(("sources", index, "profile")),
            )


def _check_account_profiles(config: Config, tree: _Tree, path: Path) -> None:
    """Every profile an account claims exists, and no profile is claimed by two accounts."""
    claims = [(name, index, profile) for name, a in config.accounts.items() for index, profile in enumerate(a.profiles)]
    if not claims:
        return
    known = all_profiles(user_profile_dirs())
    claimed: dict[str, str] = {}
    for name, index, profile in claims:
        where = ("accounts", name, "profiles", index)
        if profile not in known:
            raise ConfigError(
                f"key accounts.{name}.profiles: no bank profile named {profile!r}; allowed: "
                f"{', '.join(sorted(known))}.",
                path=path,
                line=tree.line(where),
            )
        if profile in claimed:
            raise ConfigError(
                f"key accounts.{name}.profiles: profile {profile!r} already belongs to account "
                f"{claimed[profile]!r}; a profile can name one account.",
                path=path,
                line=tree.line(where),
            )
        claimed[profile] = name


def _check_targets(config: Config, tree: _Tree, path: Path) -> None:
    """Every source's target is configured (or `local`)."""
    known = {"local", *config.targets}
    for index, source in enumerate(config.sources):
        if source.target is not None and source.target not in known:
            raise ConfigError(
                f"key sources.{index}.target: {source.target!r} is not a configured target; "
                f"allowed: {', '.join(sorted(known))}.",
                path=path,
                line=tree.line(("sources", index, "target")),
            )


def _explain(err: Any) -> str:
    """pydantic's message, plus the allowed keys when a key is unknown (usually a typo)."""
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] != "extra_forbidden":
        return message
    allowed = allowed_keys(tuple(err["loc"][:-1]))
    return "unknown key" + (f"; allowed keys here: {', '.join(allowed)}" if allowed else "")


def allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model at `loc` accepts (list indexes and mapping names are stepped over)."""
    model: type[BaseModel] = Config
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            continue
        nested = _model_in(field.annotation)
        if nested is None:
            return []
        model = nested
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def yaml_line(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its nearest existing parent)."""
    found = yaml_node(node, loc)
    return int(found.start_mark.line) + 1 if found is not None else None


def yaml_node(node: yaml.Node | None, loc: tuple[int | str, ...], *, key: bool = False) -> yaml.Node | None:
    """The YAML node at `loc` (its key's node when `key`), or its nearest existing parent."""
    for depth, part in enumerate(loc):
        child = _child(node, part, key=key and depth == len(loc) - 1)
        if child is None:
            break
        node = child
    return node


def _child(node: yaml.Node | None, part: int | str, *, key: bool = False) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((k if key else value for k, value in node.value if k.value == str(part)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None
