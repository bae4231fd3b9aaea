"""A file another worker holds is not re-hashed nor asked about at every tick (importer/run/claims.py)."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path
from typing import cast

from importer.run.claims import POLL, Claimer, content_key
from importer.store.base import Store
from importer.store.sql_workers import Claim

SAMPLE = Path("samples/csv/chase/chase-checking-2026-10.csv")


class HeldElsewhere:
    """The claims of a state in which another worker holds every file: what was asked is kept."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def claim_file(self, key: str, name: str, worker: str, lease: float) -> Claim:
        self.asked.append(name)
        return Claim.BUSY


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_held_file_is_asked_about_after_a_doubling_delay_capped_by_the_lease(tmp_path: Path) -> None:
    path = Path(shutil.copy(SAMPLE, tmp_path))
    store, clock = HeldElsewhere(), Clock()
    claimer = Claimer(cast(Store, store), lease=8.0, worker="w1", clock=clock)
    asked_at = []
    for tick in range(200):  # 40 s of the loop's 0.2 s ticks
        clock.now = tick * 0.2
        before = len(store.asked)
        assert claimer.take(path) is Claim.BUSY
        if len(store.asked) > before:
            asked_at.append(round(clock.now, 1))
    # POLL, then doubling, then every lease/4 = 2 s.
    assert POLL == 0.5
    assert asked_at[:5] == [0.0, 0.6, 1.6, 3.6, 5.6]
    assert all(round(b - a, 1) == 2.0 for a, b in itertools.pairwise(asked_at[3:]))
    assert claimer.held == {}


def test_the_content_key_is_hashed_again_only_when_size_or_mtime_change(tmp_path: Path) -> None:
    path = Path(shutil.copy(SAMPLE, tmp_path))
    claimer = Claimer(cast(Store, HeldElsewhere()), worker="w1")
    first = claimer.key(path)
    assert first == content_key(path) and first is not None
    stat = path.stat()
    # Same size and mtime, other bytes: the cached key is what is returned (nothing re-read).
    path.write_bytes(bytes(reversed(path.read_bytes())))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert claimer.key(path) == first != content_key(path)
    # A new mtime: hashed again, equal to the slow reference.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert claimer.key(path) == content_key(path) != first
    path.unlink()
    assert claimer.key(path) is None and claimer.keys == {}


def test_forgetting_a_path_drops_its_key_and_its_delay(tmp_path: Path) -> None:
    path = Path(shutil.copy(SAMPLE, tmp_path))
    claimer = Claimer(cast(Store, HeldElsewhere()), worker="w1", clock=Clock())
    assert claimer.take(path) is Claim.BUSY
    assert set(claimer.keys) == set(claimer.waits) == {path}
    claimer.forget(path)
    assert claimer.keys == {} and claimer.waits == {}
