"""Bank CSV layouts as data.  Each YAML file in this folder (and in the user's profile folder)
describes one export layout: how to recognise it and how its columns map to a Transaction.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from importer.core.currencies import is_currency
from importer.core.errors import ConfigError
from importer.internals.lazy import lazy_module
from importer.internals.parsed_cache import ParsedCache

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy_module("yaml")  # parsed only on a cache miss (importer/internals/parsed_cache.py)

BUILTIN_DIR = Path(__file__).parent

ColumnRef = str | int


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Columns(_Strict):
    """Which CSV column (header name, or 0-based index) feeds which Transaction field."""

    date: ColumnRef
    description: tuple[ColumnRef, ...] = ()
    amount: ColumnRef | None = None
    debit: ColumnRef | None = None
    credit: ColumnRef | None = None
    balance: ColumnRef | None = None
    payee: ColumnRef | None = None
    memo: ColumnRef | None = None
    currency: ColumnRef | None = None
    bank_id: ColumnRef | None = None
    value_date: ColumnRef | None = None
    indicator: ColumnRef | None = None  # a debit/credit mark ("D"/"C", "S"/"H", "Af"/"Bij")
    account: ColumnRef | None = None

    @field_validator("description", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, (str, int)) else value


class Profile(_Strict):
    """One bank's CSV layout."""

    name: str
    bank: str
    country: str | None = None
    header: tuple[str, ...] = Field(default=(), description="header cells that identify the layout")
    has_header: bool = True
    row_pattern: str | None = Field(
        default=None, description="headerless layouts: a regular expression every data line matches"
    )
    encoding: str = Field(default="auto", description="a Python codec name, or auto to detect it")
    delimiter: str | None = Field(default=None, description="None: found from the file")
    skip_rows: int = 0
    date_format: str | None = None
    decimal: Literal[".", ","] | None = Field(default=None, description="None: decided per column")
    thousands: str | None = None
    currency: str | None = None
    sign: Literal["normal", "inverted"] = "normal"
    skip_values: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="rows whose column (by header name) holds one of these are not bookings"
    )
    account_line: str | None = Field(
        default=None,
        description="a regular expression with one group: the account identifier on a line above the table "
        "(the line's fields joined by the delimiter, without quotes)",
    )
    columns: Columns

    @field_validator("account_line")
    @classmethod
    def _one_group(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            groups = re.compile(value).groups
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        if groups != 1:
            raise ValueError(f"{value!r} has {groups} groups; it needs exactly one, around the account identifier")
        return value

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None and not is_currency(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value


def load_profile(path: Path, cache: ParsedCache | None = None) -> Profile:
    """Read and validate one profile file; errors name the file and the key.

    With `cache`, a file read before is not parsed again (importer/internals/parsed_cache.py); it is
    validated every time, so what it yields and every error are the fresh parse's."""
    content = path.read_bytes()
    try:
        data = cache.get(content, lambda: _parse(content)) if cache is not None else _parse(content)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"is not UTF-8 text: {exc}", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"is not valid YAML: {exc}", path=path, line=line) from None
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc), path=path) from None


def _parse(content: bytes) -> object:
    # As read_text did: universal newlines, so what YAML reads (and its lines) is unchanged.
    return _load_yaml(content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))


def _load_yaml(text: str) -> object:
    """libyaml when present (loading the forty built-in profiles was most of a small import);
    on an error the pure-Python loader reads again, so the message is the one it always was."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # a safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _describe(exc: ValidationError) -> str:
    problems = ["/".join(str(part) for part in err["loc"]) + ": " + err["msg"] for err in exc.errors()]
    return "invalid profile: " + "; ".join(problems)


@lru_cache(maxsize=8)
def all_profiles(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Profile]:
    """Every profile by name: the user's folders first, so they can override a built-in one."""
    found: dict[str, Profile] = {}
    cache = ParsedCache("profiles")
    for folder in (*extra_dirs, BUILTIN_DIR):
        for path in sorted(folder.glob("*.yaml")):
            profile = load_profile(path, cache)
            found.setdefault(profile.name, profile)
    cache.save()
    return found


def get_profile(name: str, extra_dirs: tuple[Path, ...] = ()) -> Profile:
    """The profile called `name`, or a ConfigError listing the known names."""
    profiles = all_profiles(extra_dirs)
    if name not in profiles:
        raise ConfigError(f"no bank profile named {name!r}. Known profiles: {', '.join(sorted(profiles))}.")
    return profiles[name]
