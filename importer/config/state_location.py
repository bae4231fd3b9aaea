"""Where the state lives: an SQLite file's path (the default), or a PostgreSQL URL and the URL as it may be shown.

`--state`, `state:` in importer.yaml and `$IMPORTER_STATE` all go through `parse_location`: a
`postgresql://` or `postgres://` URL (also `postgresql:///dbname`, the host, user and password
then from the `PG*` variables or `~/.pgpass`) is a `PgUrl`; any other `scheme://` is refused
(it used to become an SQLite file under `./postgresql:/...` without a word); anything else is a
file path.  The text is read before it is ever a `Path`, which would fold `//` into `/`.

The URL may hold the database password (`postgresql://user:secret@host/db`).  It is kept only
inside `PgUrl` and handed only to the driver; everything else (`str()`, an f-string in a message,
the log, a report, `status`) sees `redacted()`, with the password as `***`.  The password may as
well come from PostgreSQL's own `PGPASSWORD` or `~/.pgpass`, which never pass through here.

This module holds no driver: parsing is the standard library's, so reading a location costs
nothing at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit

from pydantic import PlainSerializer, PlainValidator

from importer.core.errors import StateError

SCHEMES = ("postgresql", "postgres")
_MASK = "***"
# A URL's scheme: two characters at least, so a Windows drive (`C://...`) stays a path.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")


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


Location = Path | PgUrl


def parse_location(value: str | Path | PgUrl) -> Location:
    """The state location `value` names (see the module docstring); a path with `~` expanded."""
    if not isinstance(value, str):
        return value
    scheme = _SCHEME.match(value)
    if scheme is None:
        return Path(value).expanduser()
    if scheme.group(1).lower() in SCHEMES:
        return PgUrl(value)
    raise StateError(
        f"the state location {redacted(value)} is a {scheme.group(1)}:// URL; the state is an SQLite file "
        "(a path) or PostgreSQL (a postgresql:// URL)."
    )


def _validated(value: object) -> Location:
    if not isinstance(value, str | Path | PgUrl):
        raise ValueError("the state is a file path or a postgresql:// URL")
    try:
        return parse_location(value)
    except StateError as exc:
        raise ValueError(str(exc)) from None


# `state:` in importer.yaml: parsed as above, and shown (a dump of the configuration) redacted.
StateLocation = Annotated[Location, PlainValidator(_validated), PlainSerializer(str)]


def located(location: Location, base: Path) -> Location:
    """`location` with a relative path taken from `base` (the config file's folder); a URL as it is."""
    if isinstance(location, PgUrl) or location.is_absolute():
        return location
    return base / location
