"""Named crash points, for the harness that proves a run killed anywhere loses and doubles nothing.

`IMPORTER_CRASH_AT=<point>:<n>` makes the process kill itself with SIGKILL (no clean-up, no
`finally`, exactly like a power cut or the OOM killer) the n-th time it reaches `<point>`.
Unset, a crash point costs one dictionary lookup.  The points:

    parse            a file has been read whole, nothing of it stored yet
    keys.deferred    a first import has stored a batch with the key index dropped (the file's
                     transaction brings it back when undone)
    store            a file's transactions are stored, none of them sent
    upload.pending   a batch is journalled as pending, not yet sent
    upload.sent      the target has confirmed a batch, the journal does not know yet
    upload.done      the journal has marked the batch done
    reconcile        a pending batch from an earlier run is about to be reconciled
    migrate          `importer state migrate` has copied a table, nothing of the copy committed
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "IMPORTER_CRASH_AT"
_reached: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die here by SIGKILL when IMPORTER_CRASH_AT names this point and its count is reached."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, count = spec.rpartition(":")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
