"""The library API (importer/api.py, re-exported by `importer`): the README's example runs as
written, a held lock is an exception the caller handles, undo and parsing work without the CLI."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import importer
from importer.core.errors import ConfigError, ImporterError
from importer.run.lock import run_lock
from importer.run.pipeline import statement_files
from tests.test_cli import STORED_SAMPLES

ROOT = Path(__file__).parents[1]
CHASE = ROOT / "samples/csv/chase/chase-checking-2026-10.csv"


def readme_example() -> str:
    """The one Python block of the README's "Using it as a library" section."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Using it as a library\n")[1]
    blocks = re.findall(r"```python\n(.*?)```", section.split("\n## ")[0], re.DOTALL)
    assert len(blocks) == 1
    return str(blocks[0])


def test_the_readme_example_imports_every_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the example names importer.yaml and samples/ as a user in the checkout would
    names: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), "README.md", "exec"), names)
    summary = names["summary"]
    assert isinstance(summary, importer.RunReport) and names["result"].exit_code == 0  # type: ignore[attr-defined]
    files = len(statement_files([ROOT / "samples"]))
    assert len(summary.files) == files > 40
    assert summary.totals()["new"] == STORED_SAMPLES
    assert printed.getvalue() == f"{files} files: {STORED_SAMPLES} new, exit code 0\n"


def test_a_held_lock_is_the_librarys_error_not_an_exit(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with importer.session(importer.Config(), state) as first:
        with pytest.raises(importer.LockedError, match=r"another importer run .* is using .*state\.sqlite") as err:
            importer.run_import([CHASE], state=state, wait=0.1)
        assert isinstance(err.value, ImporterError) and err.value.exit_code == 3
        assert first.state.accounts() == []  # the refused run stored nothing
    with run_lock(state), pytest.raises(importer.LockedError):
        importer.undo(1, state=state)


def test_a_session_imports_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    config = importer.open_config(ROOT / "importer.yaml")
    with importer.session(config, tmp_path / "state.sqlite") as session:
        first = session.run([CHASE]).runs[0].report
        again = session.run([CHASE]).runs[0].report
    assert (first.totals()["parsed"], first.totals()["new"]) == (12, 12)
    assert (again.totals()["new"], again.totals()["duplicate"]) == (0, 12)
    assert first.run_id + 1 == again.run_id and first.coverage()["uncategorised"] == 0


def test_undo_forgets_a_run_so_its_file_imports_again(tmp_path: Path) -> None:
    config, state = importer.open_config(ROOT / "importer.yaml"), tmp_path / "state.sqlite"
    run = importer.run_import([CHASE], config, state=state).runs[0].report
    with importer.session(config, state) as session:
        plan = session.plan_undo(run.run_id)
    assert plan.transactions == 12
    undone = importer.undo(run.run_id, config, state=state)
    assert undone.transactions == 12 and undone.removed == {"local": 12}
    assert importer.run_import([CHASE], config, state=state).runs[0].report.totals()["new"] == 12


def test_parse_file_names_and_categorises_rows_as_a_run_would() -> None:
    config = importer.open_config(ROOT / "importer.yaml")
    parsed = importer.parse_file(CHASE, config, rules=importer.open_rules(config))
    first = parsed.transactions[0]
    assert len(parsed.transactions) == 12 and parsed.warnings == [] and parsed.notes == []
    assert (first.amount, first.account, first.category) == (Decimal("-38.99"), "Chase checking", "Shopping:Online")
    assert first.external_id == "v2:1c2d6d6611ab3a9a5cf23d9b435f4058"


def test_a_bad_currency_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="'EURO' is not an ISO 4217 currency code") as err:
        importer.parse_options(currency="EURO")
    assert err.value.exit_code == 2


def test_import_importer_loads_neither_the_library_nor_the_commands() -> None:
    code = "import sys, importer; print(sorted(m for m in sys.modules if m.startswith(('importer.', 'pydantic'))))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
