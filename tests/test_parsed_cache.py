"""The parsed-YAML cache (importer/internals/parsed_cache.py): hit, miss, stale, damaged, its file's
mode, and for every shipped bank profile and rule file, a cached load equal to a fresh one."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from importer.config.settings import parse_config
from importer.core.errors import ConfigError
from importer.internals import parsed_cache
from importer.internals.parsed_cache import ParsedCache, read_entries
from importer.parsers.csv.profiles import BUILTIN_DIR, load_profile
from importer.rules.engine import Rule
from importer.rules.loader import load_rules
from tests.golden import ROOT

SHIPPED_RULES = sorted(
    {*ROOT.joinpath("rules").rglob("*.yaml"), *ROOT.joinpath("importer/example_rules").glob("*.yaml")}
)

RULE_FIELDS = ("id", "condition", "actions", "continue_", "accounts", "examples", "origin", "payee", "note")


class Parses:
    """A parse that counts its calls, so a test can tell a hit (no call) from a miss."""

    def __init__(self, result: object = None) -> None:
        self.calls = 0
        self.result = result if result is not None else {"name": "x", "columns": [1, 2]}

    def __call__(self) -> object:
        self.calls += 1
        return self.result


def _saved(folder: Path, content: bytes, kind: str = "test") -> None:
    cache = ParsedCache(kind, folder)
    cache.get(content, Parses())
    cache.save()


def test_a_second_run_reads_the_parse_from_the_cache(tmp_path: Path) -> None:
    _saved(tmp_path, b"name: x")
    again = Parses()
    assert ParsedCache("test", tmp_path).get(b"name: x", again) == {"name": "x", "columns": [1, 2]}
    assert again.calls == 0


def test_changed_bytes_are_parsed_again(tmp_path: Path) -> None:
    _saved(tmp_path, b"name: x")
    changed = Parses({"name": "y"})
    assert ParsedCache("test", tmp_path).get(b"name: y", changed) == {"name": "y"}
    assert changed.calls == 1


def test_another_version_or_kind_does_not_see_the_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _saved(tmp_path, b"name: x")
    other_kind = Parses()
    ParsedCache("other", tmp_path).get(b"name: x", other_kind)
    monkeypatch.setattr(parsed_cache, "VERSION", "999")
    other_version = Parses()
    ParsedCache("test", tmp_path).get(b"name: x", other_version)
    assert (other_kind.calls, other_version.calls) == (1, 1)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-3] + bytes([data[-3] ^ 1]) + data[-2:],  # one flipped bit
        lambda data: b"\x00" * 32 + b"not marshal",
    ],
)
def test_a_damaged_cache_file_is_ignored_and_rewritten(tmp_path: Path, damage: object) -> None:
    _saved(tmp_path, b"name: x")
    path = tmp_path / "parsed-test.bin"
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    fresh = Parses()
    cache = ParsedCache("test", tmp_path)
    assert cache.get(b"name: x", fresh) == fresh.result and fresh.calls == 1
    cache.save()
    assert list(read_entries(path).values()) == [fresh.result]


def test_the_cache_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "importer"
    _saved(folder, b"name: x")
    _saved(folder, b"name: y")
    assert stat.S_IMODE((folder / "parsed-test.bin").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir()] == ["parsed-test.bin"]  # no temporary file left
    assert len(read_entries(folder / "parsed-test.bin")) == 2


def test_failures_and_what_marshal_cannot_write_are_not_kept(tmp_path: Path) -> None:
    cache = ParsedCache("test", tmp_path)
    with pytest.raises(ValueError):
        cache.get(b"bad", lambda: int("bad"))
    assert cache.get(b"when: 2026-01-02", lambda: {"when": dt.date(2026, 1, 2)}) == {"when": dt.date(2026, 1, 2)}
    cache.save()
    assert not (tmp_path / "parsed-test.bin").exists()


def test_importer_no_cache_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _saved(tmp_path, b"name: x")
    monkeypatch.setenv("IMPORTER_NO_CACHE", "1")
    again = Parses()
    ParsedCache("test", tmp_path).get(b"name: x", again)
    assert again.calls == 1


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    cache = ParsedCache("test", tmp_path / "file" / "below")
    assert cache.get(b"name: x", Parses()) == {"name": "x", "columns": [1, 2]}
    cache.save()


@pytest.mark.parametrize("path", sorted(BUILTIN_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_profile_loads_from_the_cache_as_it_loads_fresh(tmp_path: Path, path: Path) -> None:
    _warm = ParsedCache("profiles", tmp_path)
    load_profile(path, _warm)
    _warm.save()
    cache = ParsedCache("profiles", tmp_path)
    cached = load_profile(path, cache)
    assert cache._entries and len(cache._entries) == 1  # read from the file, not parsed
    assert cached == load_profile(path)


@pytest.mark.parametrize("path", SHIPPED_RULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_rule_file_loads_from_the_cache_as_it_loads_fresh(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORTER_NO_CACHE", "1")
    fresh = load_rules([path], "USD")
    monkeypatch.delenv("IMPORTER_NO_CACHE")
    load_rules([path], "USD")  # writes the cache
    cached = load_rules([path], "USD")
    assert [_compiled(rule) for rule in cached.rules] == [_compiled(rule) for rule in fresh.rules]
    assert len(cached.rules) > 0


def _compiled(rule: Rule) -> tuple[object, ...]:
    # A Rule compares by identity; what it was compiled into compares by value.
    return tuple(getattr(rule, name) for name in RULE_FIELDS)


def test_a_cached_rule_file_still_reports_its_errors_with_their_lines(tmp_path: Path) -> None:
    good = tmp_path / "rules.yaml"
    good.write_text("rules:\n  - id: a\n    when: rewe\n  - id: b\n    when: {amount: {between: [5, 1]}}\n")
    first = _error(good)
    assert _error(good) == first  # the second read's data comes from the cache
    assert "line 5" in first and "rule 'b'" in first


def _error(path: Path) -> str:
    try:
        load_rules([path])
    except Exception as exc:  # ConfigError: its message names the file and line
        return str(exc)
    raise AssertionError("the rule file loaded")


def test_the_shipped_configuration_loads_from_the_cache_as_it_loads_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "importer.yaml").read_text(encoding="utf-8")
    monkeypatch.setenv("IMPORTER_NO_CACHE", "1")
    fresh = parse_config(text, ROOT / "importer.yaml")
    monkeypatch.delenv("IMPORTER_NO_CACHE")
    parse_config(text, ROOT / "importer.yaml")  # writes the cache
    assert parse_config(text, ROOT / "importer.yaml") == fresh


def test_a_cached_configuration_still_reports_its_errors_with_their_lines(tmp_path: Path) -> None:
    text = "currency: USD\naccounts:\n  Checking: {profiles: [no-such-bank]}\n"
    messages = []
    for _ in range(2):  # the second read's data comes from the cache
        with pytest.raises(ConfigError) as caught:
            parse_config(text, tmp_path / "importer.yaml")
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "line 3" in messages[0]


def test_a_run_whose_yaml_is_all_cached_does_not_import_yaml(tmp_path: Path) -> None:
    code = (
        "import json, sys\nfrom importer.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps('yaml' in sys.modules))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    imported = []
    for run in range(2):
        args = ["run", "samples/csv/chase/chase-checking-2026-10.csv", "--target", "local", "--json"]
        command = [sys.executable, "-c", code, *args, "--state", str(tmp_path / f"s{run}.sqlite")]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True, env=env)
        imported.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert imported == [True, False]
