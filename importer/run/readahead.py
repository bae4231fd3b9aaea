"""The second core: a file is read and decoded in a thread while the previous batch is stored.

    reader thread:  parse batch 1 | parse batch 2 | parse batch 3 | ...
    main thread:                  | rules+store 1 | rules+store 2 | ...

A thread, not a process: the batches are Python objects (Decimals, strings) that a process would
have to pickle across, which costs about what parsing them does.  Threads overlap where one side
runs without the GIL: SQLite's `sqlite3_step` (the B-tree and index work of storing a batch),
hashing (`hashlib` releases the GIL on large buffers), and the file reads.  The queue holds at
most `depth` batches, so memory stays at a few batches whatever the file's size.

The reader's exception (a `ParseError` half way through the file) is raised in the consumer at
the point of the stream where it happened: every event before it is delivered first, exactly as
if the stream were read in one thread.  A consumer that stops early (an error of its own, a
Ctrl-C) closes the stream, which tells the reader to stop at its next event.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Generic, TypeVar, cast

T = TypeVar("T")

_DONE = object()  # the reader's last item: the stream ended normally


class _Failed:
    """The reader's last item when the stream raised."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class ReadAhead(Generic[T]):
    """Iterate `source` in a thread, at most `depth` items ahead of the consumer."""

    def __init__(self, source: Iterator[T], depth: int = 2) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="importer-reader", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield cast(T, item)  # anything else the reader put is one of the source's items
        finally:
            self.close()

    def close(self) -> None:
        """Stop the reader (it finishes the item it is on) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            self._drain()
            self._thread.join(timeout=0.05)

    def _read(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # delivered to the consumer, raised there in order
            self._put(_Failed(exc))
        finally:
            if isinstance(self._source, Generator):  # closing runs its `finally`s (files, transactions)
                self._source.close()

    def _put(self, item: object) -> bool:
        """Hand `item` over, waiting while the queue is full; False once the consumer has gone."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass


def read_ahead(source: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`source`'s items, produced in a reader thread (see the module doc)."""
    return iter(ReadAhead(source, depth))
