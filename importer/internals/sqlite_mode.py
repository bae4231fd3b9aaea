"""SQLite set up for this process before it opens a database: one thread per connection.

The sqlite3 module leaves SQLite in its default "serialized" mode with memory statistics on, so
every call into SQLite (each bound value, each step, each column read) takes the connection's
mutex, and every allocation SQLite makes takes a global one.  Storing a row cost about 10,000
instructions of locking that way, a sixth of SQLite's whole insert (cachegrind, 100k rows).  The
importer never uses one connection from two threads at once: the sqlite3 module refuses a
connection another thread opened (`check_same_thread`), and the one connection opened without that
check (store/sql_budget.py) is used under a lock.  So the process can run SQLite in "multi-thread"
mode (a connection's own mutex off, SQLite's global ones kept) without memory statistics.

SQLite takes that setting only while it holds nothing: it is shut down and started again, which
would break connections already open.  So this is done only by the command line's entry point,
first thing (never by `import importer`, whose caller may have databases open), and only when
SQLite reports no memory in use (nothing opened yet).  Where the sqlite3 module's library does not
export the calls (statically linked builds), nothing changes.
"""

from __future__ import annotations

import _sqlite3  # the sqlite3 module's extension: it is linked with the library to set up
import ctypes

_SQLITE_OK = 0
_asked = False  # set once: after the change SQLite counts no memory, so the check below cannot repeat
_CONFIG_MULTITHREAD = 2  # SQLITE_CONFIG_MULTITHREAD
_CONFIG_MEMSTATUS = 9  # SQLITE_CONFIG_MEMSTATUS, followed by an int (0: off)


def one_thread_per_connection() -> bool:
    """Put SQLite in multi-thread mode without memory statistics, if it holds nothing yet;
    True when it took the setting.  Only the first call does anything."""
    global _asked
    if _asked:
        return False
    _asked = True
    library = _library()
    if library is None or library.sqlite3_memory_used() != 0:
        return False
    if library.sqlite3_shutdown() != _SQLITE_OK:
        return False
    took = library.sqlite3_config(ctypes.c_int(_CONFIG_MULTITHREAD)) == _SQLITE_OK
    took = library.sqlite3_config(ctypes.c_int(_CONFIG_MEMSTATUS), ctypes.c_int(0)) == _SQLITE_OK and took
    started: bool = library.sqlite3_initialize() == _SQLITE_OK
    return started and took


def _library() -> ctypes.CDLL | None:
    """The SQLite library the sqlite3 module calls (its extension's, so the same copy)."""
    try:
        library = ctypes.CDLL(_sqlite3.__file__)
        for name in ("sqlite3_memory_used", "sqlite3_shutdown", "sqlite3_config", "sqlite3_initialize"):
            getattr(library, name)
    except (ImportError, OSError, AttributeError):
        return None
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return library
