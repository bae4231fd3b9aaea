"""The integer key `transactions` is indexed by, in place of its external id's text (migration 10).

An external id is `vN:` and 32 hex digits of a sha256 (importer/ids/recipe.py): random order, and
about 45 bytes an index entry.  Indexed as text, a million rows' index outgrew SQLite's page cache
(connection.py), so each insert touched pages already written out: storing slowed by a third and
wrote twice the bytes.  The key is the two halves of those hex digits, 64 bits each, XORed, as a
signed 64-bit integer (an entry of about 15 bytes): both halves count, so ids numbered in their
last digits (tests, other tools: `v2:000...01`) differ in their keys too.  Any other id text is
keyed by the first 8 bytes of its own sha256.

The key is only an index: every lookup also compares the text (`id_key = id_key(?) AND
external_id = ?`), so two ids sharing a key are never confused for one another.  SQLite's index
on it is UNIQUE, so such a pair (a chance of about 3 in 10^8 among a million ids) cannot both
be stored: the store refuses the second with an error instead of dropping it unseen
(sqlbase.py `refuse_collisions`).  `id_key` is the
reference, registered as the SQL function `id_key` on SQLite and written in SQL for PostgreSQL
(`PG_ID_KEY`); `id_keys` is the fast path for a batch, held equal to it by tests/test_store_idkey.py.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from hashlib import sha256

_HASHED = re.compile(r"v[0-9]:[0-9a-f]{32}")
_WIDTH = 35  # len("v2:") + 32
_VERSIONS = frozenset(f"v{n}:" for n in range(10))


def id_key(external_id: str | None) -> int | None:
    """The key of `external_id` (None for None: a row without an id has no key either)."""
    if external_id is None:
        return None
    if _HASHED.fullmatch(external_id):
        folded = int(external_id[3:19], 16) ^ int(external_id[19:], 16)
        return folded - (1 << 64) if folded >= 1 << 63 else folded  # as a signed 64-bit integer
    return int.from_bytes(sha256(external_id.encode("utf-8")).digest()[:8], "big", signed=True)


def id_keys(external_ids: Sequence[str]) -> list[int | None]:
    """`id_key` of each of `external_ids`: for a batch of hashed ids of one version (as the id
    recipe makes them) all at once, in C; else id by id."""
    keys = _hashed_keys(external_ids)
    return list(map(id_key, external_ids)) if keys is None else keys


def _hashed_keys(external_ids: Sequence[str]) -> list[int | None] | None:
    """The keys of `external_ids` if each is `vN:` (one N for all) and 32 lower-case hex digits,
    None otherwise: their digits joined and decoded at once, the halves XORed as two long integers.

    The checks, each one pass over the batch: every id 35 characters, each starting `vN:` (every
    35th character); the digits are what is left without `vN:` (32 an id: no other `vN:`), with
    no upper-case hex digit (a search per letter; `str.islower` cost 50 instructions a character),
    hex (`fromhex` refuses the rest but skips white space: then fewer than 16 bytes an id come out)."""
    count = len(external_ids)
    if not count or None in external_ids or set(map(len, external_ids)) != {_WIDTH}:
        return None
    joined = "".join(external_ids)
    prefix = joined[:3]
    if prefix not in _VERSIONS or any(joined[n::_WIDTH] != prefix[n] * count for n in range(3)):
        return None
    digits = joined.replace(prefix, "")
    if len(digits) != 32 * count or any(upper in digits for upper in "ABCDEF"):
        return None
    try:
        decoded = bytes.fromhex(digits)
    except ValueError:
        return None
    if len(decoded) != 16 * count:
        return None
    words = memoryview(decoded).cast("Q")  # each id's two halves, side by side
    folded = int.from_bytes(words[0::2].tobytes(), "little") ^ int.from_bytes(words[1::2].tobytes(), "little")
    return list(struct.unpack(f">{count}q", folded.to_bytes(8 * count, "little")))


# The same function in PostgreSQL (migration 10 creates it): the halves of hex digits (or the
# sha256's first 8 bytes, as hex) read as bit strings (`#`: XOR), which cast to bigint as two's
# complement.
PG_ID_KEY = (
    "CREATE OR REPLACE FUNCTION id_key(id text) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT (CASE WHEN id ~ '^v[0-9]:[0-9a-f]{32}$' "
    "THEN ('x' || substr(id, 4, 16))::bit(64) # ('x' || substr(id, 20, 16))::bit(64) "
    "ELSE ('x' || encode(substr(sha256(convert_to(id, 'UTF8')), 1, 8), 'hex'))::bit(64) END)::bigint $$"
)
