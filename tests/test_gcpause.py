"""The cycle collector is off while a file is imported and back to its setting afterwards."""

from __future__ import annotations

import gc

import pytest

from importer.internals.gcpause import paused_gc


def test_pauses_and_restores_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_pause_leaves_it_off_until_the_outer_one_ends() -> None:
    with paused_gc():
        with paused_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_existed_before_is_frozen_inside_and_unfrozen_after() -> None:
    before = gc.get_freeze_count()
    made_before = [object() for _ in range(1_000)]
    with paused_gc():
        frozen = gc.get_freeze_count()
        assert frozen >= before + len(made_before)
        with paused_gc():  # an inner pause keeps the outer one's freeze
            pass
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == before == 0


def test_a_cycle_made_before_the_pause_is_collected_after_it() -> None:
    class Node:
        other: object

    gc.collect()  # the collector's debt so far: what follows counts only the cycle
    node = Node()
    node.other = node
    del node
    with paused_gc():
        assert gc.collect(2) == 0  # frozen: the cycle made before is not walked inside
    assert gc.collect() >= 1
