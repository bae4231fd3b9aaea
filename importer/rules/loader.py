"""Reading rule files: files or folders, `include:` items, each rule compiled and checked on load.

A folder is read in file-name order; a file that another loaded file includes is read only
where it is included.  An include path is relative to the including file; a cycle is an error.
Every error names the file, line and column, and the rule by its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from importer.config.settings import yaml_node
from importer.core.errors import ConfigError
from importer.internals.lazy import lazy_module
from importer.internals.parsed_cache import ParsedCache
from importer.rules.actions import TemplateError
from importer.rules.engine import Origin, Rule, RuleSet
from importer.rules.parse import Loc, RuleSyntaxError, parse_condition
from importer.rules.schema import Actions, Example, IncludeSpec, RuleFileSpec, RuleSpec

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy_module("yaml")  # parsed only on a cache miss or for an error's line

_KEYS: dict[str, type[BaseModel]] = {"set": Actions, "examples": Example}


@cache
def _yaml_loader() -> Any:
    """A safe loader (libyaml's when present: much faster) that leaves dates as text, so a bad
    date is reported where it is written."""
    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: Any = type("_YamlLoader", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return loader


def load_rules(paths: list[Path], home_currency: str | None = None) -> RuleSet:
    """All rules from `paths` (files or folders), in order.

    `home_currency` (the configuration's `currency:`) is what `foreign: true` compares with;
    without it a `foreign` test holds for nothing and `rules lint` says so.
    """
    files = _rule_files(paths)
    home = home_currency.strip().upper() if home_currency else None
    loader = _Loader(home=home)
    included = {target for path in files for target in loader.includes(path)}
    for path in files:
        if path.resolve() not in included:
            loader.expand(path, (), frozenset())
    for path in files:
        if path.resolve() not in loader.expanded:  # only files in an include cycle are left
            loader.expand(path, (), frozenset())
    loader.cache.save()
    return RuleSet(loader.rules, home_currency=home)


def _rule_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        elif path.exists():
            files.append(path)
        else:
            raise ConfigError("the rule file does not exist.", path=path)
    return files


@dataclass
class _File:
    path: Path
    text: str
    data: Any
    spec: RuleFileSpec
    lines: tuple[int, ...] = ()  # the 1-based line of each item of `rules`
    _root: yaml.Node | None = None

    def root(self) -> yaml.Node | None:
        """The node tree, for an error's line and column: parsed again only when one is raised,
        since the data may come from the cache (importer/internals/parsed_cache.py)."""
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=_yaml_loader())
        return self._root

    def line(self, loc: Loc) -> int:
        """The line of the rule at `loc`, ("rules", index)."""
        index = loc[1]
        return self.lines[index] if isinstance(index, int) and index < len(self.lines) else 0

    def error(self, loc: Loc, message: str, *, at_key: bool = False) -> ConfigError:
        node = yaml_node(self.root(), loc, key=at_key)
        mark = node.start_mark if node is not None else None
        where = _where(self.data, loc)
        return ConfigError(
            f"{where}{message}",
            path=self.path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )


@dataclass
class _Loader:
    rules: list[Rule] = field(default_factory=list)
    files: dict[Path, _File] = field(default_factory=dict)
    ids: dict[str, Origin] = field(default_factory=dict)
    expanded: set[Path] = field(default_factory=set)
    home: str | None = None
    cache: ParsedCache = field(default_factory=lambda: ParsedCache("rules"))

    def read(self, path: Path) -> _File:
        key = path.resolve()
        if key not in self.files:
            self.files[key] = _read(path, self.cache)
        return self.files[key]

    def includes(self, path: Path, seen: frozenset[Path] = frozenset()) -> Iterator[Path]:
        """Every file `path` includes, directly or not (cycles are reported by `expand`)."""
        for _, target in _include_items(self.read(path)):
            resolved = target.resolve()
            if resolved not in seen and target.exists():
                yield resolved
                yield from self.includes(target, seen | {resolved})

    def expand(self, path: Path, stack: tuple[Path, ...], accounts: frozenset[str]) -> None:
        """Append the rules of `path` (and of what it includes, in place) to `self.rules`."""
        file = self.read(path)
        self.expanded.add(path.resolve())
        stack = (*stack, path)
        own = frozenset(file.spec.accounts)
        # An included file's `accounts:` narrows the including file's, never widens it.
        scope = (accounts & own if accounts else own) if own else accounts
        for index, item in enumerate(file.spec.rules):
            loc: Loc = ("rules", index)
            if isinstance(item, dict) and "include" in item:
                self._include(file, item, loc, stack, scope)
            else:
                self._add(_compile(file, item, loc, scope, self.home), file, loc)

    def _include(
        self, file: _File, item: dict[str, Any], loc: Loc, stack: tuple[Path, ...], scope: frozenset[str]
    ) -> None:
        spec = _validate(file, IncludeSpec, item, loc)
        target = file.path.parent / spec.include
        if not target.is_file():
            raise file.error(
                (*loc, "include"), f"the included file {spec.include!r} does not exist (looked for {target})."
            )
        if target.resolve() in {p.resolve() for p in stack}:
            cycle = " -> ".join(str(p) for p in (*stack, target))
            raise file.error((*loc, "include"), f"include cycle: {cycle}.")
        self.expand(target, stack, scope)

    def _add(self, rule: Rule, file: _File, loc: Loc) -> None:
        if rule.id in self.ids:
            raise file.error(
                (*loc, "id"),
                f"the id {rule.id!r} is already used by the rule at {self.ids[rule.id]}; rule ids must be unique.",
            )
        self.ids[rule.id] = rule.origin or Origin(str(file.path), 0)
        self.rules.append(rule)


def _read(path: Path, cache: ParsedCache) -> _File:
    try:
        content = path.read_bytes()
        text = _decoded(content)
        data, lines = cache.get(content, lambda: _parse(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"is not valid YAML: {getattr(exc, 'problem', exc)}",
            path=path,
            line=mark.line + 1 if mark is not None else None,
            column=mark.column + 1 if mark is not None else None,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the rule file: {exc}", path=path) from None
    file = _File(path, text, data, RuleFileSpec(), tuple(lines))
    if not isinstance(data, dict):
        raise file.error((), "a rule file is a mapping with a `rules:` list.")
    file.spec = _validate(file, RuleFileSpec, data, ())
    return file


def _decoded(content: bytes) -> str:
    # As read_text did: universal newlines, so what YAML reads (and its lines) is unchanged.
    return content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _parse(text: str) -> tuple[Any, list[int]]:
    """The file's data and the line of each item of its `rules` list (what a Rule's origin names)."""
    root = yaml.compose(text, Loader=_yaml_loader())
    data = yaml.load(text, Loader=_yaml_loader()) or {}
    items = data.get("rules") if isinstance(data, dict) else None
    count = len(items) if isinstance(items, list) else 0
    return data, [_line(yaml_node(root, ("rules", index))) for index in range(count)]


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 0


def _include_items(file: _File) -> Iterator[tuple[int, Path]]:
    for index, item in enumerate(file.spec.rules):
        if isinstance(item, dict) and isinstance(item.get("include"), str):
            yield index, file.path.parent / item["include"]


def _compile(file: _File, item: Any, loc: Loc, scope: frozenset[str], home: str | None) -> Rule:
    if not isinstance(item, dict):
        raise file.error(loc, "each item of `rules` is a rule (id, when, set, ...) or an include.")
    spec = _validate(file, RuleSpec, item, loc)
    try:
        condition = parse_condition(spec.when, (*loc, "when"), home)
        return Rule(
            spec.id, condition, spec.set, spec.continue_, scope, spec.examples, Origin(str(file.path), file.line(loc))
        )
    except RuleSyntaxError as exc:
        raise file.error(exc.loc, exc.message, at_key=exc.at_key) from None
    except TemplateError as exc:
        raise file.error((*loc, "set", exc.field), str(exc)) from None


def _validate(file: _File, model: type[Any], data: Any, loc: Loc) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        full = (*loc, *err["loc"])
        at_key = err["type"] == "extra_forbidden"
        raise file.error(full, _message(err, model), at_key=at_key) from None


def _message(err: Any, model: type[BaseModel]) -> str:
    name = err["loc"][-1] if err["loc"] else ""
    if err["type"] == "extra_forbidden":
        owner = next((_KEYS[part] for part in reversed(err["loc"][:-1]) if part in _KEYS), model)
        allowed = ", ".join(f.alias or n for n, f in owner.model_fields.items())
        return f"unknown key {name!r}; allowed keys are: {allowed}."
    if err["type"] == "missing":
        return f"the key {name!r} is missing."
    return f"{err['msg']}."


def _where(data: Any, loc: Loc) -> str:
    # Name the rule by its id, which the user can search for, rather than by list index.
    if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
        return ("key " + ".".join(map(str, loc)) + ": ") if loc else ""
    items = data.get("rules") if isinstance(data, dict) else None
    item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
    label = f"rule {item['id']!r}" if isinstance(item, dict) and "id" in item else f"rule #{loc[1] + 1}"
    rest = ".".join(map(str, loc[2:]))
    return label + (f", {rest}" if rest else "") + ": "
