"""Every bundled sample parses to exactly its golden file (all and only these transactions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import GOLDEN, ROOT, diff, golden_path, render, sample_files


@pytest.mark.parametrize("sample", sample_files(), ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_sample_matches_golden(sample: Path) -> None:
    expected_file = golden_path(sample)
    assert expected_file.exists(), f"no golden file for {sample}; run `python -m tests.golden`"
    expected = expected_file.read_text(encoding="utf-8")
    actual = render(sample)
    assert actual == expected, diff(expected, actual, str(expected_file.relative_to(GOLDEN)))


def test_every_golden_file_has_its_sample() -> None:
    samples = {golden_path(s) for s in sample_files()}
    orphans = [p for p in GOLDEN.rglob("*.jsonl") if p not in samples]
    assert orphans == []
