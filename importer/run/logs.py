"""The log file of unattended runs: what was imported, moved, refused, and every warning.

Rotated by size (`logging.handlers.RotatingFileHandler`), so a watcher left running for a year
keeps at most `backups + 1` files of `max_bytes`.  Nothing secret reaches the file: the values
of the environment variables that hold target tokens, and anything that looks like a bearer
token or `token=...`, are masked by a filter on the handler before a record is written.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
from collections.abc import Iterable
from pathlib import Path

from importer.config.paths import PRIVATE_FILE, private_folder
from importer.config.settings import Config, LogSettings

LOGGER = "importer"
_SECRET_SHAPES = re.compile(
    r"(?i)((?:token|password|secret|api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+|basic\s+)?"
    r"|bearer\s+)[^\s\"',;&]+"
)


class RedactSecrets(logging.Filter):
    """Masks known secret values and secret-looking `key=value` pairs in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _SECRET_SHAPES.sub(r"\1***", text)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files (the current one and each one it starts after a rotation) are 0600.

    Backups are renamed from the current file, so they keep its mode.
    """

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def log_path(settings: LogSettings, state_path: Path) -> Path:
    """The configured log file, else importer.log beside the state database."""
    return settings.file or state_path.with_name("importer.log")


def target_secrets(config: Config) -> list[str]:
    """The token values the configured targets read from the environment."""
    names = [t.token_env for t in config.targets.values() if t.token_env]
    return [os.environ[name] for name in names if os.environ.get(name)]


def setup_logging(config: Config, state_path: Path) -> logging.Logger:
    """The `importer` logger writing to the rotating log file (replacing an earlier set-up)."""
    path = log_path(config.log, state_path)
    private_folder(path.parent)
    handler = PrivateRotatingFileHandler(
        path, maxBytes=config.log.max_bytes, backupCount=config.log.backups, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(message)s"))
    handler.addFilter(RedactSecrets(target_secrets(config)))
    logger = logging.getLogger(LOGGER)
    close_logging(logger)
    logger.addHandler(handler)
    logger.setLevel(config.log.level)
    logger.propagate = False
    return logger


def close_logging(logger: logging.Logger | None = None) -> None:
    """Detach and close the log file handlers (so a test or a second set-up starts clean)."""
    logger = logger or logging.getLogger(LOGGER)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(logging.NullHandler())  # no log file configured: stay silent, never stderr


close_logging()
