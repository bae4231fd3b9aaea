"""The package has floors: a module imports only from its own floor and the floors before it
(README "Layout"), so data flows one way and there is no import cycle; and no module imports one
of ours inside a function to dodge a cycle."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

from importer import __version__
from importer.core.version import VERSION
from tests.golden import ROOT

PACKAGE = ROOT / "importer"
# In order: each floor may use the ones before it, never one after it.
FLOORS = (
    "core",
    "internals",
    "parsers",
    "config",
    "rules",
    "ids",
    "store",
    "dedupe",
    "targets",
    "sandbox",
    "reports",
    "run",
    "api",
    "cli",
    "__main__",
    "__init__",
)
# Imports of ours inside a function, each for start-up time, not for a cycle: `importer sandbox`
# alone needs FastAPI and uvicorn, which every other command would otherwise load.
LAZY_FOR_START_UP = {("cli/sandbox_cmd.py", "importer.sandbox"), ("cli/sandbox_cmd.py", "importer.sandbox.common")}


def floor_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imports(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, module, inside a function) for every `importer.*` import of `path`, outside
    `if TYPE_CHECKING:` blocks (annotations only: they run nothing)."""

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[int, str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module == "importer":  # `from importer import api`
                yield from ((child.lineno, f"importer.{a.name}", in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("importer."):
                yield child.lineno, child.module, in_function
            elif isinstance(child, ast.Import):
                yield from ((child.lineno, a.name, in_function) for a in child.names if a.name.startswith("importer"))
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            yield from visit(child, nested)

    return visit(ast.parse(path.read_text(encoding="utf-8")), False)


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "example_rules" not in p.parts)


def test_every_module_is_on_a_known_floor() -> None:
    assert sorted({floor_of(p) for p in modules()} - set(FLOORS)) == []


def test_no_module_imports_from_a_floor_after_its_own() -> None:
    upward = []
    for path in modules():
        mine = FLOORS.index(floor_of(path))
        for line, module, _ in imports(path):
            parts = module.split(".")
            theirs = parts[1] if len(parts) > 1 else "__init__"
            if FLOORS.index(theirs) > mine:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert upward == []


def test_no_module_of_ours_is_imported_inside_a_function() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module} inside a function"
        for path in modules()
        for line, module, inside in imports(path)
        if inside and (str(path.relative_to(PACKAGE)), module) not in LAZY_FOR_START_UP
    ]
    assert found == []


def test_the_checks_see_an_upward_and_a_hidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "from importer.run.pipeline import run\n"
        "def f():\n    from importer.cli import main\n"
        "if TYPE_CHECKING:\n    from importer.api import session\n"
    )
    assert list(imports(sample)) == [(1, "importer.run.pipeline", False), (3, "importer.cli", True)]


def test_the_version_is_pyprojects() -> None:
    # The parsed-YAML cache keys its entries by it, so a release that forgot to bump it here
    # would read an older release's parses.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert __version__ == VERSION == pyproject["project"]["version"]
