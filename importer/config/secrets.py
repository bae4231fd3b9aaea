"""Target tokens: read from an environment variable or the OS keyring, never from a file.

A token is wrapped in `Secret`, whose `str()` and `repr()` are `***`, so it cannot leak through
an f-string or a log line by accident.  Every token read is also registered, and `redact()`
replaces any registered token (raw, or base64 inside a Basic header) in a text: the HTTP layer
passes response bodies and request previews through it before they reach an error or a report.
"""

from __future__ import annotations

import base64
import os
import threading

from importer.config.settings import TargetSettings
from importer.core.errors import ConfigError

MASK = "***"
_known: set[str] = set()
_lock = threading.Lock()


class Secret:
    """A token that prints as `***`; `reveal()` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register(value)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    __repr__ = __str__


def register(value: str) -> None:
    """Remember `value` (and the Basic-auth forms it travels in) so `redact` hides it."""
    if len(value) < 4:  # a tiny "token" would mask ordinary words everywhere
        return
    forms = {value}
    for pair in (f"{value}:", f"auth:{value}"):
        forms.add(base64.b64encode(pair.encode()).decode())
    with _lock:
        _known.update(forms)


def redact(text: str) -> str:
    """`text` with every known token replaced by `***`."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def resolve_token(target: str, settings: TargetSettings) -> Secret:
    """The token of `target`: from `token_env`, else the keyring entry; a clear error when absent."""
    if settings.token_env:
        value = os.environ.get(settings.token_env, "").strip()
        if value:
            return Secret(value)
        if settings.keyring is None:
            raise ConfigError(
                f"target {target}: the environment variable {settings.token_env} is not set. "
                f"Export it (export {settings.token_env}=...) or configure a keyring entry."
            )
    if settings.keyring is not None:
        return Secret(_from_keyring(target, settings.keyring.service, settings.keyring.username))
    raise ConfigError(f"target {target}: no token configured. Set token_env (an environment variable name) or keyring.")


def _from_keyring(target: str, service: str, username: str) -> str:
    import keyring  # imported late: loading a keyring backend is slow and rarely needed

    try:
        value = keyring.get_password(service, username)
    except Exception as exc:  # keyring backends raise their own trees; translate at the boundary
        raise ConfigError(f"target {target}: the OS keyring could not be read ({type(exc).__name__}).") from None
    if not value:
        raise ConfigError(
            f"target {target}: the OS keyring has no entry for service {service!r}, user {username!r}. "
            f"Add it with: keyring set {service} {username}"
        )
    return value
