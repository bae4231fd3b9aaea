"""Pause Python's cycle collector while one file is imported, and keep it off what came before.

Importing builds hundreds of thousands of small acyclic objects (transactions, their dicts,
Decimals); each few hundred allocations the collector walks the young ones again and, as the
heap grows, the old ones too.  That cost a third of parsing a 100k-row CSV.  Nothing the import
creates depends on cycle collection to be freed, and the collector runs again as soon as the
file is done, so memory is unchanged but for cycles made meanwhile (collected then).

What exists when the file starts (modules, rules, the start-up's objects) is frozen for the file
(`gc.freeze`): the import's per-batch `gc.collect(0)` then walks only the batch's objects, where
its first call walked all of start-up (0.1 s a file).  They are unfrozen on the way out, so a
cycle among them is still collected, one file later.  Only the outermost pause freezes: an inner
one (the rule engine's, inside a file's) leaves the file's freeze alone.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside, nor of what existed before; the previous setting is
    restored on the way out."""
    was_enabled = gc.isenabled()
    gc.disable()
    if was_enabled:
        gc.freeze()
    try:
        yield
    finally:
        if was_enabled:
            gc.unfreeze()
            gc.enable()
