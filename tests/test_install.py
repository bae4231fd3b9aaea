"""The README's one supported user-wide install, `pipx install .`, in a fresh HOME.

What a new user gets: an `importer` command outside any virtualenv, the example rules inside the
installed package (package data, not the repository's rules/ folder), and the same results as
the source tree.  The install builds a wheel from a copy of the working tree (so no build/ is
left in the checkout) and fetches the dependencies from the package index: about 80 seconds.
CI always runs it (.ci/run installs pipx when missing); elsewhere it is skipped without pipx.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import SAMPLE_TRANSACTIONS  # every sample row, counted from the golden files

ROOT = Path(__file__).parents[1]
PIPX = shutil.which("pipx")
IN_CI = os.environ.get("CI") == "true"
CHASE = ROOT / "samples" / "csv" / "chase" / "chase-checking-2026-10.csv"

needs_pipx = pytest.mark.skipif(
    PIPX is None and not IN_CI,
    reason="pipx is not installed (apt-get install pipx, or pip install --user pipx); CI runs this test",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """`importer` installed by pipx into a fresh HOME; the command's path and that HOME's environment."""
    assert PIPX is not None, "CI must have pipx: .ci/run installs Debian's pipx when it is missing"
    home = tmp_path_factory.mktemp("home")
    source = home / "src" / "importer"
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", "data")
    shutil.copytree(ROOT, source, symlinks=True, ignore=ignore)  # symlinks: importer/example_rules -> ../rules
    env = fresh_environment(home)
    done = subprocess.run([PIPX, "install", str(source)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return home / "bin" / "importer", env


def fresh_environment(home: Path) -> dict[str, str]:
    """This environment as a new user's: HOME, pipx's folders inside it, no importer or XDG settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMPORTER_", "XDG_", "PIPX_", "VIRTUAL_ENV"))}
    return env | {"HOME": str(home), "PIPX_HOME": str(home / "pipx"), "PIPX_BIN_DIR": str(home / "bin")}


def importer(installed: tuple[Path, dict[str, str]], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command, env = installed
    return subprocess.run([str(command), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@needs_pipx
def test_the_installed_command_prints_its_help(installed: tuple[Path, dict[str, str]]) -> None:
    done = importer(installed, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: importer [OPTIONS] COMMAND [ARGS]...")
    assert all(f"  {name} " in done.stdout for name in ("run", "watch", "init", "detect"))


@needs_pipx
def test_the_installed_command_reads_the_samples_as_the_source_tree_does(
    installed: tuple[Path, dict[str, str]],
) -> None:
    done = importer(installed, "run", "samples/", "--dry-run", "--json")  # from the repository root, as the README
    assert done.returncode == 0, done.stderr
    tree = subprocess.run(
        [sys.executable, "-m", "importer", "run", "samples/", "--dry-run", "--json"],
        cwd=ROOT,
        env=fresh_environment(Path(done.args[0]).parents[1]),
        capture_output=True,
        text=True,
    )
    assert json.loads(done.stdout)["totals"] == json.loads(tree.stdout)["totals"]
    assert json.loads(done.stdout)["totals"]["parsed"] == SAMPLE_TRANSACTIONS


@needs_pipx
def test_init_user_gives_the_installed_command_its_example_rules(installed: tuple[Path, dict[str, str]]) -> None:
    home = Path(installed[1]["HOME"])
    elsewhere = home / "elsewhere"  # as cron runs: not the repository, no ./rules
    elsewhere.mkdir()
    init = importer(installed, "init", "--user", "--no-interactive", "--inbox", "~/Statements/inbox", cwd=elsewhere)
    assert init.returncode == 0, init.stderr
    rules = home / ".config" / "importer" / "rules"
    assert init.stdout.startswith(
        f"copied {len(list((ROOT / 'rules').rglob('*.yaml')))} example rule file(s) to {rules}\n"
    )
    done = importer(installed, "run", str(CHASE), "--account", "Chase checking", "--dry-run", "--json", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    totals = json.loads(done.stdout)["totals"]
    assert totals["parsed"] == 12 and totals["uncategorised"] < 12  # the copied rules categorise


def test_every_readme_example_calls_the_command_pipx_installs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pipx install ." in readme
    # The first two commands stay as they are: the set-up in .venv/, for working on the repository.
    assert readme.count(".venv/bin/importer") == 1
    paths = set(re.findall(r"[\w%$/~.-]*/bin/importer\b", readme))
    assert paths == {
        ".venv/bin/importer",
        "%h/.local/bin/importer",
        "$HOME/.local/bin/importer",
        "/Users/me/.local/bin/importer",
        "~/.local/bin/importer",
    }
