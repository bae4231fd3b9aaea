"""The shipped bank profiles: each is valid, has a sample it is chosen for, and that sample a golden file."""

from __future__ import annotations

from importer.parsers import ParseOptions
from importer.parsers.csv.detect import detect, match_profile
from importer.parsers.csv.profiles import BUILTIN_DIR, all_profiles, load_profile
from importer.parsers.csv.text import read_text
from tests.golden import SAMPLES, golden_path


def _chosen() -> dict[str, list[str]]:
    """Profile name -> the samples it is chosen for."""
    chosen: dict[str, list[str]] = {}
    for sample in sorted((SAMPLES / "csv").rglob("*")):
        if sample.is_file():
            layout = detect(sample, ParseOptions())
            if layout.named:
                chosen.setdefault(layout.profile.name, []).append(str(sample.relative_to(SAMPLES)))
    return chosen


def test_at_least_25_profiles_each_valid() -> None:
    files = sorted(BUILTIN_DIR.glob("*.yaml"))
    names = [load_profile(path).name for path in files]
    assert len(names) >= 25 and len(set(names)) == len(names)
    assert [path.stem for path in files] == names  # the file is named after its profile


def test_every_profile_is_chosen_for_a_sample_with_a_golden_file() -> None:
    chosen = _chosen()
    assert sorted(chosen) == sorted(all_profiles())
    missing = [s for samples in chosen.values() for s in samples if not golden_path(SAMPLES / s).exists()]
    assert missing == []


def test_header_signature_is_found_below_a_preamble() -> None:
    text = read_text(SAMPLES / "csv/deutsche-bank/Kontoumsaetze_100_1234567_00_20261031.csv", ParseOptions()).text
    profile = match_profile(text)
    assert profile is not None and profile.name == "deutsche-bank"
