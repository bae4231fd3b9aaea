"""A PostgreSQL state's location: its URL, and the URL as it may be shown.

The URL may hold the database password (`postgresql://user:secret@host/db`).  It is kept only
inside `PgUrl` and handed only to the driver; everything else (`str()`, an f-string in a message,
the log, a report, `status`) sees `redacted()`, with the password as `***`.  The password may as
well come from PostgreSQL's own `PGPASSWORD` or `~/.pgpass`, which never pass through here.

This module holds no driver: parsing is the standard library's, so reading a location costs
nothing at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit

SCHEMES = ("postgresql", "postgres")
_MASK = "***"


@dataclass(frozen=True)
class PgUrl:
    """A `postgresql://` or `postgres://` URL; shows itself redacted."""

    url: str = field(repr=False)

    def __str__(self) -> str:
        return redacted(self.url)

    def __repr__(self) -> str:
        return f"PgUrl({redacted(self.url)!r})"

    @property
    def passwords(self) -> list[str]:
        """The password the URL holds, as written and decoded, for masking the driver's messages."""
        parts = urlsplit(self.url)
        found = [value for key, value in parse_qsl(parts.query) if key == "password" and value]
        if parts.password:
            found += [parts.password, unquote(parts.password)]
        return found


def redacted(url: str) -> str:
    """`url` with its password, in the user part or as a `password=` parameter, replaced by `***`
    (user, host, port, database and the other parameters kept)."""
    parts = urlsplit(url)
    netloc = parts.netloc if parts.password is None else _masked_netloc(parts)
    query = _masked_query(parts.query)
    # Built by hand: `urlunsplit` drops the `//` of `postgresql:///db` (no host: the socket).
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def _masked_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(key == "password" for key, _ in pairs):
        return query
    return urlencode([(key, _MASK if key == "password" else value) for key, value in pairs], safe="*")


def _masked_netloc(parts: SplitResult) -> str:
    user_info, _, host = parts.netloc.rpartition("@")
    user = user_info.split(":", 1)[0]
    return f"{user}:{_MASK}@{host}"


def mask(text: str, url: PgUrl) -> str:
    """`text` (a driver's message) with the URL's password, as written or decoded, masked."""
    for secret in url.passwords:
        text = text.replace(secret, _MASK)
    return text
