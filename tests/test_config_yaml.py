"""importer.yaml is read by libyaml in one pass (nodes and data); the pure-Python reader, run twice
as before, is the reference: the same data and the same node lines, on every YAML file we ship
and on the shapes a hand-written configuration takes; errors are the reference's, unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from importer.config.settings import parse_config, read_yaml, read_yaml_reference
from importer.core.errors import ConfigError
from tests.golden import ROOT

SHAPES = [
    "",
    "# only a comment\n",
    "currency: usd\nrules: [rules/, more/]\n",
    "base: &b {type: wallet, token_env: T}\ntargets:\n  one: *b\n  two: {<<: *b, base_url: 'http://x'}\n",
    "when: 2026-10-31\non: yes\nnull_key: ~\nbig: 1_000\nquoted: '007'\nblock: |\n  a\n  b\n",
    "accounts:\n  Chase checking:\n    profiles: [chase-checking]\n    ids: {iban: DE89 3704 0044 0532 0130 00}\n",
]


def _shipped() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.yaml") if ".venv" not in p.parts and "data" not in p.parts)


def _lines(node: Any) -> list[tuple[int, int, str]]:
    """Every node's start line and column with its tag, depth first: what error messages point at."""
    if node is None:
        return []
    found = [(node.start_mark.line, node.start_mark.column, node.tag)]
    children = node.value if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) else []
    for child in children:
        for part in child if isinstance(child, tuple) else (child,):
            found += _lines(part)
    return found


@pytest.mark.parametrize("text", SHAPES + [p.read_text(encoding="utf-8") for p in _shipped()])
def test_libyaml_reads_what_the_reference_reads(text: str) -> None:
    fast_root, fast_data = read_yaml(text)
    slow_root, slow_data = read_yaml_reference(text)
    assert fast_data == slow_data
    assert _lines(fast_root) == _lines(slow_root)


def test_the_shipped_files_are_many_and_include_the_samples_config() -> None:
    names = {p.name for p in _shipped()}
    assert "importer.yaml" in names and len(names) > 40


def test_a_yaml_error_names_the_line_as_the_reference_reader_does(tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    with pytest.raises(ConfigError) as raised:
        parse_config("currency: USD\ntargets:\n  a: [1, 2\n  b: c: d\n", path)
    assert str(raised.value).startswith(f"{path}, line 4: is not valid YAML:")


def test_two_documents_fall_back_to_the_reference_and_its_message(tmp_path: Path) -> None:
    path = tmp_path / "importer.yaml"
    with pytest.raises(ConfigError) as raised:
        parse_config("currency: USD\n---\ncurrency: EUR\n", path)
    assert str(raised.value) == f"{path}, line 2: is not valid YAML: but found another document"
