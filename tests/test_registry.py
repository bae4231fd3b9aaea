"""Registries are explicit and guarded: every format and target is sampled and documented."""

from __future__ import annotations

from importer.parsers import REGISTRY as PARSERS
from importer.targets import REGISTRY as TARGETS
from tests.golden import ROOT, golden_path, sample_files


def test_every_parser_has_a_sample_with_a_golden_file() -> None:
    sampled = {s.relative_to(ROOT / "samples").parts[0] for s in sample_files() if golden_path(s).exists()}
    assert set(PARSERS) <= sampled, f"formats without a sample in samples/<format>/: {set(PARSERS) - sampled}"


def test_readme_lists_every_format_and_target() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in [*PARSERS, *TARGETS]:
        assert f"| `{name}` |" in readme, f"README.md has no table row for `{name}`"


def test_parser_names_match_registry_keys() -> None:
    for key, parser in PARSERS.items():
        assert parser.name == key
