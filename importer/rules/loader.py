"""Reading rule files: a path to a file or a folder of *.yaml files, validated on load."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from importer.errors import ConfigError
from importer.rules.engine import RuleSet
from importer.rules.schema import Rule, RuleFile


def load_rules(paths: list[Path]) -> RuleSet:
    """All rules from `paths` (files or folders), in order; folders are read sorted by name."""
    rules: list[Rule] = []
    for path in _rule_files(paths):
        rules.extend(_load_file(path).rules)
    _refuse_duplicate_ids(rules)
    return RuleSet(rules)


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


def _load_file(path: Path) -> RuleFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"is not valid YAML: {getattr(exc, 'problem', exc)}", path=path,
                          line=mark.line + 1 if mark is not None else None) from None
    try:
        return RuleFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _where(data, err["loc"])
        raise ConfigError(f"{where}: {err['msg']}", path=path) from None


def _where(data: object, loc: tuple[int | str, ...]) -> str:
    # Name the rule by its id, which the user can search for, rather than by list index.
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(data, dict):
        rule = data.get("rules", [])[loc[1]]
        rule_id = rule.get("id", f"#{loc[1] + 1}") if isinstance(rule, dict) else f"#{loc[1] + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"rule {rule_id!r}" + (f", key {rest}" if rest else "")
    return "key " + ".".join(str(part) for part in loc)


def _refuse_duplicate_ids(rules: list[Rule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise ConfigError(f"two rules share the id {rule.id!r}; rule ids must be unique.")
        seen.add(rule.id)
