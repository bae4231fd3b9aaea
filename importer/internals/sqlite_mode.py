"""SQLite set up for this process before it opens a database: no memory statistics.

SQLite counts every allocation it makes by default ("memory statistics", for
`sqlite3_memory_used`, which nothing here reads), and the count is kept under a global mutex:
every allocation, and storing a row makes several, takes and releases it.  Turned off, a 100k-row
import runs about 2% fewer instructions (cachegrind; the stored row's SQLite work 7.54G -> 7.05G
instructions per 100k).  SQLite's threading mode is left as the sqlite3 module opens it:
"multi-thread" mode would save as much again, but a connection ever shared between threads
would then corrupt memory instead of failing.

SQLite takes the setting only while it holds nothing: it is shut down and started again, which
would break connections already open.  So only the command line's entry point asks for it
(`at_first_open`; never `import importer`, whose caller may have databases open), and it is done
when the state is first opened (`before_open`, store/connection.py), only if SQLite reports no
memory in use (nothing opened yet).  Done then, not at start-up, a command that opens no database
(`importer --help`) loads neither ctypes nor the sqlite3 module.  Where the sqlite3 module's
library does not export the calls (statically linked builds), nothing changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importer.internals.lazy import lazy_module

if TYPE_CHECKING:
    import _sqlite3  # the sqlite3 module's extension: it is linked with the library to set up
    import ctypes
else:
    _sqlite3 = lazy_module("_sqlite3")
    ctypes = lazy_module("ctypes")

_SQLITE_OK = 0
_CONFIG_MEMSTATUS = 9  # SQLITE_CONFIG_MEMSTATUS, followed by an int (0: off)
_asked = False  # set once: after the change SQLite counts no memory, so the check below cannot repeat
_wanted = False  # set by the command line's entry point: `before_open` turns the statistics off


def at_first_open() -> None:
    """Have memory statistics turned off when this process first opens a database (the command
    line's entry point; a library user's process is left as it is)."""
    global _wanted
    _wanted = True


def before_open() -> None:
    """Called before a state database is opened: the setting `at_first_open` asked for, if any."""
    if _wanted:
        no_memory_statistics()


def no_memory_statistics() -> bool:
    """Turn SQLite's memory statistics off, if it holds nothing yet; True when it took the
    setting.  Only the first call does anything."""
    global _asked
    if _asked:
        return False
    _asked = True
    library = _library()
    if library is None or library.sqlite3_memory_used() != 0:
        return False
    if library.sqlite3_shutdown() != _SQLITE_OK:
        return False
    took = library.sqlite3_config(ctypes.c_int(_CONFIG_MEMSTATUS), ctypes.c_int(0)) == _SQLITE_OK
    started: bool = library.sqlite3_initialize() == _SQLITE_OK
    return started and took


def _library() -> ctypes.CDLL | None:
    """The SQLite library the sqlite3 module calls (its extension's, so the same copy)."""
    try:
        library = ctypes.CDLL(_sqlite3.__file__)
        for name in ("sqlite3_memory_used", "sqlite3_shutdown", "sqlite3_config", "sqlite3_initialize"):
            getattr(library, name)
    except (OSError, AttributeError):
        return None
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return library
