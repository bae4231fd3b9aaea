from __future__ import annotations

from pathlib import Path

import pytest

from importer.config.settings import parse_config
from importer.core.errors import ConfigError
from importer.run.lock import LockedError, run_lock


def test_config_error_names_file_line_and_key(tmp_path: Path) -> None:
    text = "targets:\n  wallet:\n    type: wallet\n    concurrency: many\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, tmp_path / "importer.yaml")
    message = str(err.value)
    assert "importer.yaml, line 4" in message and "targets.wallet.concurrency" in message


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 1.*key stat"):
        parse_config("stat: x.sqlite\n", tmp_path / "importer.yaml")


def test_second_lock_holder_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with run_lock(state):
        with pytest.raises(LockedError, match="another importer run"):
            with run_lock(state, wait=0.1):
                pass
    with run_lock(state):
        pass
