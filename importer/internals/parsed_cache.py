"""Parsed YAML kept between runs, keyed by the bytes it was parsed from.

A 20-row import reads the 41 bank profiles, its rule files and importer.yaml.  libyaml scans in
C, but PyYAML builds the data in Python: about 8 ms of CPU for the profiles and 100 rules, on
every run, for files that almost never change.  So the data a parse produced (plain dicts, lists,
strings and numbers) is kept in the user's cache folder, and a run whose files are unchanged
reads it back with marshal, about forty times faster.

The contract:

- The source file is always read: the key is the sha256 of its bytes, with the importer's
  version, this format and what the caller parses them into (its `kind`).  An edited file is a
  different key, so a stale entry can never be found, only left unused.
- Only a parse that succeeds is kept, so every error comes from a fresh parse, with the file,
  line and message it always had.  A payload marshal cannot write (a YAML date) is not kept.
- One file per kind, `<user cache folder>/parsed-<kind>.bin`: a sha256 of the body, then the body,
  a marshal dict of key -> payload, at most MAX_ENTRIES (the newest kept).  Written to a
  temporary file in the folder and renamed, so a reader sees the old file or the new one; 0600 in
  a 0700 folder, like everything the tool writes about the user's finances.
- A cache file that cannot be read, whose digest does not match, or that is not such a dict is
  ignored and rewritten on the next miss.  Failing to write it is never an error.
- IMPORTER_NO_CACHE=1 turns it off (a reference run, or a read-only home).

marshal, not pickle: the payloads are plain data, and marshal's loads builds data only (pickle
would run whatever a tampered file asks).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from importer.core.version import VERSION
from importer.internals.private import PRIVATE_FILE, private_folder

FORMAT = 1  # bump when a payload's shape changes without the version changing
MAX_ENTRIES = 512  # per kind: the shipped profiles and a user's files, many times over
DISABLE_ENV = "IMPORTER_NO_CACHE"
_DIGEST = hashlib.sha256().digest_size

T = TypeVar("T")


class ParsedCache:
    """The kept parses of one kind; `get` parses on a miss, `save` writes what was added."""

    def __init__(self, kind: str, folder: Path | None = None) -> None:
        self.kind = kind
        self.enabled = os.environ.get(DISABLE_ENV, "") in ("", "0")
        self.path = (folder or user_cache_folder()) / f"parsed-{kind}.bin"
        self._entries: dict[str, Any] | None = None
        self._added = False

    def get(self, content: bytes, parse: Callable[[], T]) -> T:
        """What `parse()` returns for a file holding `content`: kept from an earlier run, or parsed now."""
        if not self.enabled:
            return parse()
        entries = self._loaded()
        key = self._key(content)
        if key in entries:
            found: T = entries[key]
            return found
        payload = parse()
        if _marshallable(payload):
            entries[key] = payload
            self._added = True
        return payload

    def save(self) -> None:
        """Write the cache file when `get` added entries (atomically, 0600); errors are ignored."""
        if not self._added or self._entries is None:
            return
        kept = dict(list(self._entries.items())[-MAX_ENTRIES:])
        body = marshal.dumps(kept)
        try:
            _write_atomically(self.path, hashlib.sha256(body).digest() + body)
            self._added = False
        except OSError:
            pass  # a cache that cannot be written only costs the next run its parse

    def _key(self, content: bytes) -> str:
        # marshal's format is Python's own: a cache written by another Python is another key
        head = f"{FORMAT}\0{VERSION}\0{sys.version_info[:2]}\0{self.kind}\0".encode()
        return hashlib.sha256(head + content).hexdigest()

    def _loaded(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = read_entries(self.path)
        return self._entries


def read_entries(path: Path) -> dict[str, Any]:
    """The entries of the cache file at `path`; empty when it is missing, unreadable or damaged."""
    try:
        data = path.read_bytes()
        body = data[_DIGEST:]
        if hashlib.sha256(body).digest() != data[:_DIGEST]:
            return {}
        entries = marshal.loads(body)
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(entries, dict) or not all(isinstance(key, str) for key in entries):
        return {}
    return entries


def _marshallable(payload: Any) -> bool:
    try:
        marshal.dumps(payload)
        return True
    except ValueError:
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    private_folder(path.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, PRIVATE_FILE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def user_cache_folder() -> Path:
    """The user cache folder (`$XDG_CACHE_HOME/importer` on Linux): what can be rebuilt at any time."""
    return Path(platformdirs.user_cache_dir("importer"))
